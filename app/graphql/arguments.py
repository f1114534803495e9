"""Arguments given outside an `input` (filters of lists, ids of queries): invalid values are
GraphQL errors with `extensions.code` INVALID_ARGUMENT naming the argument."""

from __future__ import annotations

from app.domain.errors import DomainError
from app.domain.exports.requests import parse_datastream_id
from app.graphql.errors import ApiError
from engine.timestamps import TimestampError, parse_timestamp


def timestamp_arg(value: object, field: str) -> int | None:
    """Timestamp arguments arrive parsed (an int), or as given when they could not be."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    try:
        return parse_timestamp(value)
    except TimestampError as exc:
        raise ApiError(str(exc), "INVALID_ARGUMENT", field=field) from None


def datastream_id_arg(value: object, field: str) -> int:
    try:
        return parse_datastream_id(value, field)
    except DomainError as exc:
        raise ApiError(exc.errors[0].message, "INVALID_ARGUMENT", field=field) from None
