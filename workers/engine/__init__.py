"""The export engine: scan segments, decode, apply the schema, write files. Arrow all the way."""
