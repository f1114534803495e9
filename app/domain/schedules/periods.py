"""The periods of a schedule: ISO-8601 durations, and the grid of period boundaries they draw
from an anchor. Hours, minutes and seconds are fixed lengths of absolute time; days, weeks and
months are calendar periods in the schedule's IANA time zone, so a daily period starts at the
same local time every day, across daylight-saving changes (a day is then 23 or 25 hours)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain.errors import ErrorCode, Problem

SECOND = 10**9
_DURATION = re.compile(
    r"^P(?:(?P<Y>\d+)Y)?(?:(?P<MO>\d+)M)?(?:(?P<W>\d+)W)?(?:(?P<D>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<H>\d+)H)?(?:(?P<MI>\d+)M)?(?:(?P<S>\d+)S)?)?$"
)
_FIXED_SECONDS = {"H": 3600, "MI": 60, "S": 1}
_NOMINAL_SECONDS = {"MO": 30.436875 * 86400, "D": 86400, "W": 7 * 86400, **_FIXED_SECONDS}


@dataclass(frozen=True)
class Every:
    """One unit of an ISO-8601 duration: `MO` (months, a year is 12), `W`, `D` (calendar, in
    the schedule's time zone) or `H`, `MI`, `S` (fixed)."""

    unit: str
    count: int

    @property
    def calendar(self) -> bool:
        return self.unit in ("MO", "W", "D")

    @property
    def nominal_seconds(self) -> float:
        return self.count * _NOMINAL_SECONDS[self.unit]


def _parts(text: str) -> dict[str, int] | None:
    match = _DURATION.match(text) if text != "P" else None
    if match is None:
        return None
    return {unit: int(value) for unit, value in match.groupdict().items() if value is not None}


def parse_every(text: str, field: tuple[str, ...], min_seconds: int) -> Every | Problem:
    """A schedule's period: one unit (`PT1H`, `P1D`, `P1W`, `P1M`, `P3M`, `P1Y` ...)."""
    parts = _parts(text)
    if parts is None or len(parts) != 1 or next(iter(parts.values())) == 0:
        return Problem(
            ErrorCode.INVALID_ARGUMENT,
            field,
            f"{text[:40]!r} is not an ISO-8601 duration of one unit, such as PT1H, P1D, P1W or P1M",
        )
    [(unit, count)] = parts.items()
    every = Every("MO", count * 12) if unit == "Y" else Every(unit, count)
    if every.nominal_seconds < min_seconds:
        return Problem(
            ErrorCode.INVALID_ARGUMENT,
            field,
            f"periods must be at least {min_seconds} seconds long",
        )
    return every


MAX_DELAY_SECONDS = 31 * 86400


def parse_delay(text: str, field: tuple[str, ...]) -> int | Problem:
    """A fixed wait after a period ends, in nanoseconds: `PT15M`, `PT2H`, `P1D` (24 hours)."""
    parts = _parts(text)
    if parts is None or "Y" in parts or "MO" in parts:
        return Problem(
            ErrorCode.INVALID_ARGUMENT,
            field,
            f"{text[:40]!r} is not an ISO-8601 duration of weeks, days, hours, minutes and "
            "seconds, such as PT15M",
        )
    seconds = sum(count * int(_NOMINAL_SECONDS[unit]) for unit, count in parts.items())
    if seconds > MAX_DELAY_SECONDS:
        return Problem(ErrorCode.INVALID_ARGUMENT, field, "delay must be at most 31 days")
    return seconds * SECOND


def iso_seconds(seconds: int) -> str:
    """A delay as an ISO-8601 duration: PT1H30M, PT0S ..."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    return "PT" + (text or "0S")


def parse_timezone(name: str, field: tuple[str, ...]) -> ZoneInfo | Problem:
    try:
        if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return Problem(
            ErrorCode.INVALID_ARGUMENT,
            field,
            f"{name[:64]!r} is not an IANA time zone (such as UTC or Europe/Paris)",
        )


@dataclass(frozen=True)
class Grid:
    """Period boundaries `start(k)`, k any integer, with `start(0)` the anchor."""

    every: Every
    zone: ZoneInfo
    anchor_ns: int

    def start(self, index: int) -> int:
        if not self.every.calendar:
            step = self.every.count * _FIXED_SECONDS[self.every.unit] * SECOND
            return self.anchor_ns + index * step
        local = _local(self.anchor_ns, self.zone)
        if self.every.unit == "MO":
            moved = _add_months(local, index * self.every.count)
        else:
            days = index * self.every.count * (7 if self.every.unit == "W" else 1)
            moved = local + timedelta(days=days)
        return _instant(moved.replace(tzinfo=self.zone), self.anchor_ns)

    def index_at(self, t_ns: int) -> int:
        """The period holding instant `t_ns`: the largest k with start(k) <= t_ns."""
        k = int((t_ns - self.anchor_ns) / SECOND // self.every.nominal_seconds)
        while self.start(k) > t_ns:
            k -= 1
        while self.start(k + 1) <= t_ns:
            k += 1
        return k

    def period_of(self, t_ns: int) -> tuple[int, int]:
        k = self.index_at(t_ns)
        return self.start(k), self.start(k + 1)

    def first_start_at_or_after(self, t_ns: int) -> int:
        start, end = self.period_of(t_ns)
        return start if start == t_ns else end


def _local(t_ns: int, zone: ZoneInfo) -> datetime:
    """The wall-clock time of an instant in `zone`, without its zone (calendar arithmetic)."""
    return datetime.fromtimestamp(t_ns // SECOND, UTC).astimezone(zone).replace(tzinfo=None)


def _instant(local: datetime, anchor_ns: int) -> int:
    """Back to nanoseconds since the epoch; a wall time skipped by a DST change maps to the
    instant after the gap, an ambiguous one to its first occurrence. Sub-second parts of the
    anchor are kept."""
    seconds = int(local.astimezone(UTC).timestamp())
    return seconds * SECOND + anchor_ns % SECOND


def _add_months(local: datetime, months: int) -> datetime:
    """The same day of another month, clamped to its last day (31 January + 1 month is the
    last day of February), always counted from the anchor, so that clamping never drifts."""
    total = local.year * 12 + (local.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    next_first = datetime(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_first - timedelta(days=1)).day
    return local.replace(year=year, month=month, day=min(local.day, last_day))
