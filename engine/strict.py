"""Strict parsing of the small values clients send: integers in ASCII digits only (no
`"²"`, no full-width digits, no signs or spaces where none belong), within int64, with a
bounded number of digits so that no input reaches Python's slow big-integer conversion.
Every parser of ids, cursors, counts, nanosecond timestamps and path indices goes through
here, so that one rule holds everywhere."""

from __future__ import annotations

import re

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_INTEGER = re.compile(r"[+-]?[0-9]{1,19}", re.ASCII)
_UNSIGNED = re.compile(r"[0-9]{1,19}", re.ASCII)


class StrictParseError(ValueError):
    """A value that is not what this kind of input allows; the message says what is."""


def parse_int64(
    value: object,
    *,
    minimum: int = INT64_MIN,
    maximum: int = INT64_MAX,
    signed: bool = True,
    what: str = "a 64-bit integer",
) -> int:
    """An int, or a string of ASCII digits (with a sign if `signed`), in [minimum, maximum]."""
    if isinstance(value, bool):
        raise StrictParseError(f"expected {what}, not a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and (_INTEGER if signed else _UNSIGNED).fullmatch(value):
        number = int(value)
    else:
        raise StrictParseError(f"{_shown(value)} is not {what}")
    if not minimum <= number <= maximum:
        raise StrictParseError(f"{_shown(value)} is out of range for {what}")
    return number


def is_ascii_digits(text: str, max_length: int = 19) -> bool:
    """Non-empty ASCII digits only (str.isdigit() also accepts superscripts and full-width
    digits)."""
    return 0 < len(text) <= max_length and _UNSIGNED.fullmatch(text) is not None


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
