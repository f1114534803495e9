"""The catalog: exchanges, instruments, datastreams, and which time ranges hold data."""
