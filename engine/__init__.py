"""The data library: segments, record files, export schemas, transforms, options, pipeline and
writers. pyarrow lives here; it imports nothing from the gateway (`app`) or the workers."""
