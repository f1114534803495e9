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


def _serialize_long(value: int) -> str:
    """A decimal string: JSON numbers past 2^53 lose digits in JavaScript's JSON.parse (and in
    any parser reading numbers as IEEE doubles), so the digits travel as text."""
    return str(int(value))


# RFC 8259 section 6 is where JSON itself says numbers beyond IEEE 754 doubles (2^53) are not
# interoperable: the reason this scalar is text on the wire. The format itself is in the
# description, as GraphQL's own Int and Float are.
LONG_SPECIFIED_BY = "https://www.rfc-editor.org/rfc/rfc8259#section-6"

LONG_SCALAR = strawberry.scalar(
    name="Long",
    description=(
        "A 64-bit signed integer (counts, byte sizes, ids), in [-2^63, 2^63-1]. Serialized as "
        "a JSON string of decimal ASCII digits with an optional leading `-` "
        '(`"9007199254740993"`), because JSON numbers beyond 2^53 lose digits in parsers that '
        "read numbers as doubles (RFC 8259 section 6). Accepted as a JSON number or as a "
        "decimal string (an optional sign, 1 to 19 digits); fractions, exponents and values "
        "outside int64 are rejected."
    ),
    serialize=_serialize_long,
    parse_value=_parse_long,
    specified_by_url=LONG_SPECIFIED_BY,
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
