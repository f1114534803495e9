"""Resolved export options: what the engine runs with, every default filled in. The same
form is stored on the job (`to_json`, the API echoes it so a pipeline can pin it) and read
back by the worker (`from_json`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.logical import LogicalType
from engine.options.formats import FORMAT_OPTIONS, FormatOptions

SPLIT_PERIODS = ("HOUR", "DAY", "WEEK", "MONTH")
LAYOUTS = ("LONG", "WIDE")
# The columns that say which stream a row of a many-stream export comes from (each one
# added unless the schema already produces a column of that name, like `normalized`'s).
STREAM_COLUMNS = (
    ("datastream_id", LogicalType("int")),
    ("exchange", LogicalType("string")),
    ("symbol", LogicalType("string")),
)
FILLS = ("none", "previous", "null")
MIN_BYTES_PER_FILE = 1024
NS = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9, "d": 86400 * 10**9}


_INTERVAL_RE = re.compile(r"^(\d+)(ms|s|m|h|d)$")


MAX_INTERVAL_NS = 366 * 86400 * 10**9


FILTER_OPS = (
    "eq",
    "ne",
    "lt",
    "lte",
    "gt",
    "gte",
    "in",
    "notIn",
    "isNull",
    "contains",
    "startsWith",
)


AGGREGATES = ("first", "last", "min", "max", "avg", "sum", "count", "ohlc")


OHLC = (("open", "first"), ("high", "max"), ("low", "min"), ("close", "last"))


def interval_ns(text: str) -> int | None:
    match = _INTERVAL_RE.match(text.strip())
    if not match or int(match.group(1)) == 0:
        return None
    value = int(match.group(1)) * NS[match.group(2)]
    return value if value <= MAX_INTERVAL_NS else None


def decimated_fields(
    aggregations: Sequence[Aggregation], fields: list[tuple[str, LogicalType]]
) -> list[tuple[str, LogicalType]]:
    """The columns a decimation produces: bucket_start, then each aggregation's."""
    types = dict(fields)
    out = [("bucket_start", LogicalType("timestamp"))]
    for aggregation in aggregations:
        column, fn = aggregation.column, aggregation.fn
        source = types[column]
        if fn == "ohlc":
            out.extend((f"{column}_{suffix}", source) for suffix, _ in OHLC)
        elif fn == "count":
            out.append((f"{column}_count", LogicalType("int")))
        elif fn == "avg":
            kind = source if source.kind == "decimal" else LogicalType("float")
            out.append((f"{column}_avg", kind))
        else:
            out.append((f"{column}_{fn}", source))
    return out


def numeric(logical: LogicalType) -> bool:
    """Numbers that can be added up (timestamps only compare: min, max, first, last)."""
    return logical.kind in ("int", "float", "decimal")


def orderable(logical: LogicalType) -> bool:
    return numeric(logical) or logical.kind == "timestamp"


@dataclass(frozen=True)
class OptionIssue:
    """A problem with a requested option; `path` is relative to the request (e.g.
    `("decimation", "aggregations", "0", "fn")`)."""

    path: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class Aggregation:
    column: str
    fn: str  # one of AGGREGATES
    transform: str | None = None  # "delta" or None

    def to_json(self) -> dict[str, Any]:
        return {"column": self.column, "fn": self.fn, "transform": self.transform}


@dataclass(frozen=True)
class Decimation:
    interval: str  # as given, e.g. "15m"
    interval_ns: int
    fill: str  # one of FILLS
    aggregations: tuple[Aggregation, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "interval": self.interval,
            "intervalNs": self.interval_ns,
            "fill": self.fill,
            "aggregations": [a.to_json() for a in self.aggregations],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Decimation:
        return cls(
            data["interval"],
            int(data["intervalNs"]),
            data["fill"],
            tuple(
                Aggregation(a["column"], a["fn"], a.get("transform")) for a in data["aggregations"]
            ),
        )


@dataclass(frozen=True)
class Split:
    by: str | None = None  # one of SPLIT_PERIODS
    max_rows_per_file: int | None = None
    max_bytes_per_file: int | None = None
    per_datastream: bool = False  # one file (or more) per datastream of the export

    def to_json(self) -> dict[str, Any]:
        stored: dict[str, Any] = {
            "by": self.by,
            "maxRowsPerFile": self.max_rows_per_file,
            "maxBytesPerFile": self.max_bytes_per_file,
        }
        if self.per_datastream:  # only when set: older jobs' fingerprints stay the same
            stored["perDatastream"] = True
        return stored

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Split:
        return cls(
            data.get("by"),
            data.get("maxRowsPerFile"),
            data.get("maxBytesPerFile"),
            bool(data.get("perDatastream")),
        )


def stream_fields(fields: list[tuple[str, LogicalType]]) -> list[tuple[str, LogicalType]]:
    """The stream-identifying columns a many-stream export adds to the schema's."""
    names = {name for name, _ in fields}
    return [(name, logical) for name, logical in STREAM_COLUMNS if name not in names]


def wide_fields(
    aggregated: list[tuple[str, LogicalType]], labels: Sequence[str]
) -> list[tuple[str, LogicalType]]:
    """A WIDE layout's columns: bucket_start, then `<label>_<column>` for each stream (in the
    request's order) and each aggregated column."""
    values = [(name, logical) for name, logical in aggregated if name != "bucket_start"]
    out = [("bucket_start", LogicalType("timestamp"))]
    for label in labels:
        out.extend((f"{label}_{name}", logical) for name, logical in values)
    return out


@dataclass(frozen=True)
class ExportOptions:
    """Everything an export may be asked to do besides its schema and range. `filter` is the
    resolved filter tree (`{"and": [...]}`, `{"or": [...]}`, `{"not": ...}` or `{"column",
    "op", "value"}` with values of the column's type: timestamps as ns, decimals as text)."""

    format_options: FormatOptions
    filter: dict[str, Any] | None = None
    decimation: Decimation | None = None
    columns: tuple[str, ...] | None = None
    limit: int | None = None
    split: Split | None = None
    # Many-stream exports: add the stream columns (LONG), or one column per stream (WIDE).
    stream_columns: bool = False
    layout: str = "LONG"  # one of LAYOUTS
    # (datastream id, label) of every stream, in order: WIDE column names.
    stream_labels: tuple[tuple[int, str], ...] = ()
    column_labels: tuple[tuple[str, str], ...] = ()  # (output column, name in the files)
    timezone: str = "UTC"  # IANA zone of ISO timestamps (and of Parquet timestamp columns)

    def to_json(self) -> dict[str, Any]:
        """The stored form. Its key order is part of a job's idempotency fingerprint: keep it."""
        stored: dict[str, Any] = {"formatOptions": self.format_options.model_dump(by_alias=True)}
        if self.filter is not None:
            stored["filter"] = self.filter
        if self.decimation is not None:
            stored["decimation"] = self.decimation.to_json()
        if self.columns is not None:
            stored["columns"] = list(self.columns)
        if self.limit is not None:
            stored["limit"] = self.limit
        if self.split is not None:
            stored["split"] = self.split.to_json()
        # Newer keys are stored only when not the default: existing requests keep their
        # fingerprints.
        if self.stream_columns:
            stored["streamColumns"] = True
        if self.layout != "LONG":
            stored["layout"] = self.layout
        if self.stream_labels:
            stored["streamLabels"] = [
                {"datastreamId": i, "label": label} for i, label in self.stream_labels
            ]
        if self.column_labels:
            stored["columnLabels"] = [
                {"name": n, "label": label} for n, label in self.column_labels
            ]
        if self.timezone != "UTC":
            stored["timezone"] = self.timezone
        return stored

    @classmethod
    def from_json(cls, fmt: str, stored: dict[str, Any]) -> ExportOptions:
        """A job's stored options (jobs from before format options existed have none: they
        get the defaults, which is what they ran with)."""
        split = stored.get("split")
        return cls(
            format_options=FORMAT_OPTIONS[fmt].model_validate(stored.get("formatOptions") or {}),  # type: ignore[arg-type]
            filter=stored.get("filter") or None,
            decimation=Decimation.from_json(stored["decimation"])
            if stored.get("decimation")
            else None,
            columns=tuple(stored["columns"]) if stored.get("columns") else None,
            limit=stored.get("limit"),
            split=Split.from_json(split) if split else None,
            stream_columns=bool(stored.get("streamColumns")),
            layout=stored.get("layout") or "LONG",
            stream_labels=tuple(
                (int(s["datastreamId"]), s["label"]) for s in stored.get("streamLabels") or []
            ),
            column_labels=tuple((c["name"], c["label"]) for c in stored.get("columnLabels") or []),
            timezone=stored.get("timezone") or "UTC",
        )

    @classmethod
    def defaults(cls, fmt: str) -> ExportOptions:
        return cls.from_json(fmt, {})

    def output_fields(self, fields: list[tuple[str, LogicalType]]) -> list[tuple[str, LogicalType]]:
        """The columns of the files: the schema's, or the decimation's (with the stream columns
        first when there are several streams, or one column per stream and aggregation when
        WIDE); then the selection. Labels rename them later, in the files only."""
        output = (
            decimated_fields(self.decimation.aggregations, fields) if self.decimation else fields
        )
        if self.layout == "WIDE":
            output = wide_fields(output, [label for _, label in self.stream_labels])
        elif self.stream_columns:
            output = stream_fields(output) + output
        if self.columns:
            types = dict(output)
            output = [(name, types[name]) for name in self.columns]
        return output
