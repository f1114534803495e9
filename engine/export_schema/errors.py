"""What can go wrong with an export schema: it cannot be bound to a source, or records do not
match it. Both are permanent: a job that meets one fails with its message."""


class SchemaError(ValueError):
    """The schema cannot be applied to this datastream."""


class MissingMapping(SchemaError):
    """The schema has no mapping for this source (checked per export, not per schema)."""


class DecodeError(ValueError):
    """Records that do not match what the schema expects (a permanent job failure)."""
