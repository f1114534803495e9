"""The live collector: connectors per wire format and the loop that holds feeds by lease."""
