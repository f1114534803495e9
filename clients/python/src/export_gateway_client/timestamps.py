"""Timestamps are integer nanoseconds since the Unix epoch in this client, as the API keeps
them. Python's `datetime` holds microseconds: converting to it drops the last three digits,
so `to_datetime` refuses to unless asked (`truncate=True`, which rounds toward the past, as
flooring keeps the order of events), and `split` gives the dropped nanoseconds back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from export_gateway_client.scalars import format_timestamp, parse_timestamp

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NS_PER_MICROSECOND = 1_000


class PrecisionLoss(ValueError):
    """A timestamp has nanoseconds a datetime cannot hold."""


def split(ns: int) -> tuple[datetime, int]:
    """An aware UTC datetime to the microsecond (rounded toward the past) and the nanoseconds
    it leaves out (0 to 999): `from_datetime(dt) + rest == ns`."""
    micros, rest = divmod(ns, NS_PER_MICROSECOND)
    return _EPOCH + timedelta(microseconds=micros), rest


def to_datetime(ns: int, *, truncate: bool = False) -> datetime:
    """An aware UTC datetime. PrecisionLoss if `ns` is not a whole number of microseconds,
    unless `truncate`, which drops the last three digits (rounding toward the past)."""
    moment, rest = split(ns)
    if rest and not truncate:
        raise PrecisionLoss(
            f"{format_timestamp(ns)} has {rest} ns a datetime cannot hold: "
            "pass truncate=True to drop them, or use split()"
        )
    return moment


def from_datetime(moment: datetime, nanoseconds: int = 0) -> int:
    """Nanoseconds since the epoch of an aware datetime (naive ones are refused: their zone is
    unknown), plus `nanoseconds` (0 to 999) below its microsecond."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a naive datetime has no time zone: give it one (e.g. tzinfo=UTC)")
    if not 0 <= nanoseconds < NS_PER_MICROSECOND:
        raise ValueError("nanoseconds below the microsecond are 0 to 999")
    delta = moment - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return micros * NS_PER_MICROSECOND + nanoseconds


def parse(value: str | int) -> int:
    """Nanoseconds from what the API accepts: ISO-8601 with up to nine fractional digits and
    `Z` or an offset, or nanoseconds as an int or a decimal string."""
    return parse_timestamp(value)


def to_iso(ns: int) -> str:
    """ISO-8601 UTC with nine fractional digits, as the API writes it."""
    return format_timestamp(ns)
