"""What a column *is* (its logical type) and what the engine knows of a record's source.

The writers decide how each format stores a logical type; `render_time` is the one place that
turns nanoseconds into the `ns`/`us`/`ms`/`iso` renderings used by meta columns and writers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class LogicalType:
    """What a column *is*; the writers decide how each format stores it.

    kind: timestamp (int64 ns in memory), string, int, float, bool, decimal (exact text in
    memory while untransformed, decimal128 otherwise), json (raw JSON text).
    """

    kind: str
    scale: int = 0

    def describe(self) -> str:
        return f"decimal({self.scale})" if self.kind == "decimal" else self.kind


@dataclass(frozen=True)
class SourceContext:
    """Facts about the datastream that source keys and `meta` columns refer to."""

    exchange: str
    symbol: str
    datastream_id: int
    market: str = ""
    wire_format: str = ""  # named in errors about messages that do not have the expected shape


_TIME_DIVISORS = {"ns": 1, "us": 1_000, "ms": 1_000_000}


def render_time(nanos: Any, unit: str, timezone: str = "UTC") -> Any:
    """Nanoseconds since the epoch as `ns`/`us`/`ms` integers or `iso` text (nine digits);
    shared by meta column formats and the writers' timestamp options. `iso` is in UTC with a
    `Z`, or in the named IANA zone with its offset at that instant (`+01:00`)."""
    nanos = pc.cast(nanos, pa.int64())
    if unit == "iso" and timezone != "UTC":
        return pc.strftime(nanos.cast(pa.timestamp("ns", timezone)), "%Y-%m-%dT%H:%M:%S%Ez")
    if unit == "iso":
        return pc.strftime(nanos.cast(pa.timestamp("ns", "UTC")), "%Y-%m-%dT%H:%M:%SZ")
    return pc.divide(nanos, _TIME_DIVISORS[unit]) if unit != "ns" else nanos
