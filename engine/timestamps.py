"""Nanosecond timestamps: parsing ISO-8601 / epoch-ns input and formatting output exactly."""

from __future__ import annotations

import calendar
import re
import time

NS_PER_SECOND = 1_000_000_000

_ISO_RE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<h>\d{2}):(?P<m>\d{2})"
    r"(?::(?P<s>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?"
    r"(?P<tz>Z|z|[+-]\d{2}:?\d{2})?$"
)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# int64 nanoseconds cover 1677-09-21 .. 2262-04-11.
_MIN_NS = -(2**63)
_MAX_NS = 2**63 - 1


class TimestampError(ValueError):
    """A value that is not a timestamp this API understands."""


def parse_timestamp(value: object) -> int:
    """ISO-8601 (up to 9 fractional digits, `Z` or offset; UTC if none) or epoch ns."""
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
    text = value.strip()
    if re.fullmatch(r"-?\d+", text):
        return _checked(int(text))
    if _DATE_RE.match(text):
        text += "T00:00:00Z"
    match = _ISO_RE.match(text)
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
    offset = _offset_seconds(match["tz"])
    return _checked((seconds - offset) * NS_PER_SECOND + fraction)


def _offset_seconds(tz: str | None) -> int:
    if tz is None or tz in ("Z", "z"):
        return 0
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    return sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)


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
