"""Export options: what a request may ask for, every default filled in, checked against the
columns the schema produces for the datastream. The resolved form is stored on the job and
echoed back, so a pipeline can pin it; the engine only ever sees resolved options."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.export_schema.spec import SpecIssue
from engine.logical import LogicalType

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


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CsvOptions(_Options):
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    header: bool = True
    quoting: Literal["needed", "all", "none"] = "needed"
    null_string: str = Field(default="", alias="nullString", max_length=32)
    line_terminator: Literal["\n", "\r\n"] = Field(default="\n", alias="lineTerminator")
    timestamp_format: Literal["ns", "us", "ms", "iso"] = Field(
        default="ns", alias="timestampFormat"
    )

    @model_validator(mode="after")
    def _delimiter(self) -> CsvOptions:
        if not (self.delimiter == "\t" or " " <= self.delimiter <= "~") or self.delimiter == '"':
            raise ValueError("delimiter is one printable ASCII character (or tab), not a quote")
        if any(c in self.null_string for c in ('"', "\n", "\r", self.delimiter)):
            raise ValueError("nullString cannot contain a quote, a line break or the delimiter")
        return self


class ParquetOptions(_Options):
    compression: Literal["zstd", "snappy", "gzip", "lz4", "none"] = "zstd"
    compression_level: int | None = Field(default=None, alias="compressionLevel")
    # Rows are held until a row group is full: this bounds the writer's memory.
    row_group_size: int = Field(default=131_072, ge=1_000, le=1_048_576, alias="rowGroupSize")
    dictionary: bool = True
    statistics: bool = True
    data_page_size: int = Field(default=1 << 20, ge=1 << 12, le=1 << 30, alias="dataPageSize")

    @model_validator(mode="after")
    def _level(self) -> ParquetOptions:
        levels = {"zstd": (1, 22, 3), "gzip": (1, 9, 6)}
        if self.compression not in levels:
            if self.compression_level is not None:
                raise ValueError(f"{self.compression} has no compression level")
            return self
        low, high, default = levels[self.compression]
        if self.compression_level is None:
            self.compression_level = default
        elif not low <= self.compression_level <= high:
            raise ValueError(f"compressionLevel for {self.compression} is {low} to {high}")
        return self


class JsonLinesOptions(_Options):
    timestamp_format: Literal["ns", "us", "ms", "iso"] = Field(
        default="ns", alias="timestampFormat"
    )
    decimals: Literal["string", "number"] = "string"


FORMAT_OPTIONS: dict[str, type[_Options]] = {
    "CSV": CsvOptions,
    "PARQUET": ParquetOptions,
    "JSONL": JsonLinesOptions,
}


def resolve_format_options(
    fmt: str, given: dict[str, Any] | None
) -> tuple[dict[str, Any], list[SpecIssue]]:
    """Every default filled in; keys of another format or unknown keys are issues."""
    model = FORMAT_OPTIONS[fmt]
    try:
        resolved = model.model_validate(given or {})
    except ValidationError as exc:
        issues = []
        for error in exc.errors():
            key = ".".join(str(p) for p in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                owner = next(
                    (f for f, m in FORMAT_OPTIONS.items() if f != fmt and _knows(m, key)), None
                )
                message = (
                    f"{key!r} is a {owner} option, not a {fmt} one"
                    if owner
                    else f"unknown {fmt} option {key!r}; known: {', '.join(_keys(model))}"
                )
            issues.append(SpecIssue(key, "INVALID_ARGUMENT", message))
        return {}, issues
    return resolved.model_dump(by_alias=True), []


def _keys(model: type[_Options]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _knows(model: type[_Options], key: str) -> bool:
    return key in _keys(model)


def interval_ns(text: str) -> int | None:
    match = _INTERVAL_RE.match(text.strip())
    if not match or int(match.group(1)) == 0:
        return None
    value = int(match.group(1)) * NS[match.group(2)]
    return value if value <= MAX_INTERVAL_NS else None


def decimated_fields(
    decimation: dict[str, Any], fields: list[tuple[str, LogicalType]]
) -> list[tuple[str, LogicalType]]:
    """The columns a decimation produces: bucket_start, then each aggregation's."""
    types = dict(fields)
    out = [("bucket_start", LogicalType("timestamp"))]
    for aggregation in decimation["aggregations"]:
        column, fn = aggregation["column"], aggregation["fn"]
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
