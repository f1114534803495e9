"""Scalars for values GraphQL's 32-bit Int and Float cannot carry exactly."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NewType

import strawberry

from engine.strict import parse_int64
from engine.timestamps import TimestampError, format_timestamp, parse_timestamp


def _parse_long(value: object) -> int:
    return parse_int64(value)  # a StrictParseError is a ValueError: a coercion error


def _parse_timestamp_leniently(value: object) -> object:
    """Valid input becomes nanoseconds; invalid input passes through unchanged so that the
    domain layer reports it as a `userErrors` entry naming the field, not a request error."""
    try:
        return parse_timestamp(value)
    except TimestampError:
        return value


if TYPE_CHECKING:  # plain ints to the type checker; distinct scalars to Strawberry
    Long = int
    Timestamp = int
else:
    Long = NewType("Long", int)
    Timestamp = NewType("Timestamp", int)

LONG_SCALAR = strawberry.scalar(
    name="Long",
    description=(
        "A 64-bit signed integer (counts, byte sizes, ids). Serialized as a JSON number; "
        "accepted as a number or a decimal string."
    ),
    serialize=int,
    parse_value=_parse_long,
)

TIMESTAMP_SCALAR = strawberry.scalar(
    name="Timestamp",
    description=(
        "A point in time with nanosecond precision. Output: ISO-8601 UTC with nine fractional "
        "digits (2024-01-15T10:00:00.123456789Z). Input: ISO-8601 with up to nine fractional "
        "digits and `Z` or an offset, or nanoseconds since the Unix epoch as a number or string."
    ),
    serialize=format_timestamp,
    parse_value=_parse_timestamp_leniently,
    specified_by_url="https://www.rfc-editor.org/rfc/rfc3339",
)

SCALAR_MAP: dict[Any, Any] = {Long: LONG_SCALAR, Timestamp: TIMESTAMP_SCALAR}
