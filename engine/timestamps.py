"""Nanosecond timestamps: parsing ISO-8601 / epoch-ns input and formatting output exactly."""

from __future__ import annotations

import calendar
import re
import time

from engine.strict import StrictParseError, parse_int64

NS_PER_SECOND = 1_000_000_000

_ISO_RE = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[T ](?P<h>[0-9]{2}):(?P<m>[0-9]{2})"
    r"(?::(?P<s>[0-9]{2})(?:[.,](?P<frac>[0-9]{1,9}))?)?"
    r"(?P<tz>Z|z|[+-][0-9]{2}:?[0-9]{2})?",
    re.ASCII,
)
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
MAX_TEXT = 40  # the longest valid form is 35 characters
# int64 nanoseconds cover 1677-09-21 .. 2262-04-11.
_MIN_NS = -(2**63)
_MAX_NS = 2**63 - 1


class TimestampError(ValueError):
    """A value that is not a timestamp this API understands."""


def parse_timestamp(value: object) -> int:
    """ISO-8601 (up to 9 fractional digits, `Z` or an offset up to ±23:59; UTC if none) or
    nanoseconds since the epoch (an integer, or ASCII digits with an optional sign). Nothing
    else: no surrounding spaces, no other digits than 0-9, nothing past int64."""
    if isinstance(value, bool):
        raise TimestampError("expected an ISO-8601 string or nanoseconds since the epoch")
    if isinstance(value, int):
        return _checked(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise TimestampError("nanoseconds must be a whole number")
        return _checked(int(value))
    if not isinstance(value, str):
        raise TimestampError("expected an ISO-8601 string or nanoseconds since the epoch")
    if len(value) > MAX_TEXT:
        raise TimestampError(f"{value[:20]!r}... is not a timestamp (too long)")
    try:
        return _checked(parse_int64(value, what="nanoseconds since the epoch"))
    except StrictParseError:
        pass
    text = value + "T00:00:00Z" if _DATE_RE.fullmatch(value) else value
    match = _ISO_RE.fullmatch(text)
    if not match:
        raise TimestampError(
            f"{value!r} is not ISO-8601 (e.g. 2024-01-15T10:00:00.123456789Z) "
            "or nanoseconds since the epoch"
        )
    try:
        parsed = time.strptime(
            f"{match['date']} {match['h']}:{match['m']}:{match['s'] or '00'}", "%Y-%m-%d %H:%M:%S"
        )
    except ValueError as exc:
        raise TimestampError(f"{value!r}: {exc}") from None
    seconds = calendar.timegm(parsed)
    fraction = int((match["frac"] or "").ljust(9, "0"))
    offset = _offset_seconds(value, match["tz"])
    return _checked((seconds - offset) * NS_PER_SECOND + fraction)


def _offset_seconds(value: str, tz: str | None) -> int:
    if tz is None or tz in ("Z", "z"):
        return 0
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise TimestampError(f"{value!r}: the UTC offset {tz} is not a time of day")
    return sign * (hours * 3600 + minutes * 60)


def _checked(ns: int) -> int:
    if not _MIN_NS <= ns <= _MAX_NS:
        raise TimestampError("timestamp is outside the 64-bit nanosecond range")
    return ns


def format_timestamp(ns: int) -> str:
    """`2024-01-15T10:00:00.123456789Z`: always nine fractional digits, UTC."""
    seconds, fraction = divmod(ns, NS_PER_SECOND)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"


def now_ns() -> int:
    return time.time_ns()
