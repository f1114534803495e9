"""Export schemas: the language (`spec`), binding a spec to one source (`binder`), and the
compiled function over record batches that decodes, unfolds and transforms (`compiled`)."""

from engine.export_schema.binder import compile_schema
from engine.export_schema.compiled import CompiledSchema
from engine.export_schema.errors import DecodeError, MissingMapping, SchemaError
from engine.export_schema.spec import SchemaSpec, SpecInvalid, SpecIssue, load_spec

__all__ = [
    "CompiledSchema",
    "DecodeError",
    "MissingMapping",
    "SchemaError",
    "SchemaSpec",
    "SpecInvalid",
    "SpecIssue",
    "compile_schema",
    "load_spec",
]
