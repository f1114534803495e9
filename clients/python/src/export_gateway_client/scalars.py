"""The custom scalars as the generated models hold them: `Long` as an int (sent as a decimal
string), `Timestamp` as integer nanoseconds since the Unix epoch (sent as a decimal string,
which the API accepts). Python's datetime holds microseconds; `timestamps` converts with care.
"""

from __future__ import annotations

import calendar
import re
import time

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_DECIMAL = re.compile(r"[+-]?[0-9]{1,19}", re.ASCII)
# What the API prints (nine fractional digits and Z), and what it accepts besides.
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))",
    re.ASCII,
)
NS_PER_SECOND = 1_000_000_000


def parse_long(value: object) -> int:
    """A Long from the API: a decimal string (or a JSON number from an older gateway)."""
    if isinstance(value, bool):
        raise ValueError("a Long is not a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DECIMAL.fullmatch(value):
        number = int(value)
    else:
        raise ValueError(f"{value!r} is not a Long")
    if not INT64_MIN <= number <= INT64_MAX:
        raise ValueError(f"{value!r} is outside the 64-bit range of a Long")
    return number


def serialize_long(value: object) -> object:
    """An int as a decimal string; anything else (None, an unset argument) as it is."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def parse_timestamp(value: object) -> int:
    """Nanoseconds since the epoch from ISO-8601 (any offset, up to nine fractional digits) or
    from nanoseconds as a number or a decimal string."""
    if isinstance(value, int | str) and not isinstance(value, bool):
        if isinstance(value, int) or _DECIMAL.fullmatch(value):
            return parse_long(value)
        match = _ISO.fullmatch(value)
        if match is not None:
            return _iso_nanoseconds(match)
    raise ValueError(f"{value!r} is not a Timestamp")


def serialize_timestamp(value: object) -> object:
    """Nanoseconds as a decimal string (the API takes them so); anything else (an ISO-8601
    string, None, an unset argument) as it is."""
    return serialize_long(value)


def format_timestamp(ns: int) -> str:
    """The API's own form: ISO-8601 UTC with nine fractional digits."""
    seconds, fraction = divmod(ns, NS_PER_SECOND)
    year, month, day, hour, minute, second = _utc_fields(seconds)
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{fraction:09d}Z"


def _iso_nanoseconds(match: re.Match[str]) -> int:
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = int((match.group(7) or "").ljust(9, "0"))
    offset = 0
    if match.group(9):
        sign = 1 if match.group(9) == "+" else -1
        offset = sign * (int(match.group(10)) * 3600 + int(match.group(11)) * 60)
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)) - offset
    return seconds * NS_PER_SECOND + fraction


def _utc_fields(seconds: int) -> tuple[int, int, int, int, int, int]:
    t = time.gmtime(seconds)
    return t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec
