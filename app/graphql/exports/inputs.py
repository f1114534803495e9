"""GraphQL inputs of exports and their options, and their conversion to the plain request the
domain validates (the option model, its defaults and its checks live in `engine.options`)."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any, Optional

import strawberry
from strawberry.scalars import JSON

from app.domain.exports.requests import ExportRequest, OptionsRequest
from app.graphql.export_schemas.inputs import ExportSchemaDefinitionInput, definition_to_spec
from app.graphql.exports.types import Compression, ExportFormat
from app.graphql.scalars import Long, Timestamp


@strawberry.enum(description="How a filter condition compares a column with its value.")
class FilterOp(Enum):
    EQ = strawberry.enum_value("eq", name="eq", description="Equal.")
    NE = strawberry.enum_value("ne", name="ne", description="Not equal (nulls never match).")
    LT = strawberry.enum_value("lt", name="lt", description="Less than.")
    LTE = strawberry.enum_value("lte", name="lte", description="Less than or equal.")
    GT = strawberry.enum_value("gt", name="gt", description="Greater than.")
    GTE = strawberry.enum_value("gte", name="gte", description="Greater than or equal.")
    IN = strawberry.enum_value("in", name="in", description="One of a list of values.")
    NOT_IN = strawberry.enum_value(
        "notIn", name="notIn", description="None of a list of values (nulls never match)."
    )
    IS_NULL = strawberry.enum_value(
        "isNull", name="isNull", description="Is null (value true or absent) or not (false)."
    )
    CONTAINS = strawberry.enum_value(
        "contains", name="contains", description="String column contains the text."
    )
    STARTS_WITH = strawberry.enum_value(
        "startsWith", name="startsWith", description="String column starts with the text."
    )


@strawberry.input(
    description="A filter on output columns: exactly one of and, or, not, or column+op(+value)."
)
class ExportFilterInput:
    and_: list[ExportFilterInput] | None = strawberry.field(
        name="and", default=None, description="All of these hold."
    )
    or_: list[ExportFilterInput] | None = strawberry.field(
        name="or", default=None, description="At least one of these holds."
    )
    not_: Optional[ExportFilterInput] = strawberry.field(  # noqa: UP045 - a forward reference
        name="not", default=None, description="This does not hold."
    )
    column: str | None = strawberry.field(default=None, description="Output column compared.")
    op: FilterOp | None = strawberry.field(default=None, description="Comparison.")
    value: JSON | None = strawberry.field(
        default=None,
        description="A value of the column's type (timestamps as ISO-8601 or nanoseconds, "
        "decimals as string or number); a list for in/notIn.",
    )


@strawberry.enum(description="How a decimation summarises a column per bucket.")
class AggregateFunction(Enum):
    FIRST = strawberry.enum_value("first", description="First value in the bucket.")
    LAST = strawberry.enum_value("last", description="Last value in the bucket.")
    MIN = strawberry.enum_value("min", description="Smallest value.")
    MAX = strawberry.enum_value("max", description="Largest value.")
    AVG = strawberry.enum_value("avg", description="Mean (exact for decimals).")
    SUM = strawberry.enum_value("sum", description="Sum.")
    COUNT = strawberry.enum_value("count", description="Number of non-null values.")
    OHLC = strawberry.enum_value(
        "ohlc", description="Shorthand for first/max/min/last as <column>_open/high/low/close."
    )


@strawberry.enum(description="What to do with buckets that have no rows.")
class DecimationFill(Enum):
    NONE = strawberry.enum_value("none", description="Leave them out.")
    PREVIOUS = strawberry.enum_value(
        "previous", description="Repeat the previous bucket's values (counts and sums 0)."
    )
    NULL = strawberry.enum_value("null", description="Emit them with null values.")


@strawberry.enum(description="A transformation of an aggregated column.")
class ColumnTransform(Enum):
    DELTA = strawberry.enum_value("delta", description="Difference from the previous row.")


@strawberry.input(description="One aggregated output column.")
class AggregationInput:
    column: str = strawberry.field(description="Schema output column to aggregate.")
    fn: AggregateFunction = strawberry.field(description="Aggregate function.")
    transform: ColumnTransform | None = strawberry.field(
        default=None, description="Optional transformation of the result."
    )


@strawberry.input(
    description="Time buckets aligned to the epoch over the collection timestamp; output "
    "columns are bucket_start and <column>_<fn> per aggregation."
)
class DecimationInput:
    interval: str = strawberry.field(description="Bucket width: 500ms, 1s, 15m, 4h, 1d ...")
    aggregations: list[AggregationInput] = strawberry.field(description="Columns to produce.")
    fill: DecimationFill = strawberry.field(
        default=DecimationFill.NONE, description="Empty buckets."
    )


@strawberry.enum(description="Calendar period per file (UTC; weeks start on Monday).")
class SplitPeriod(Enum):
    HOUR = strawberry.enum_value("HOUR", description="One file per hour.")
    DAY = strawberry.enum_value("DAY", description="One file per day.")
    WEEK = strawberry.enum_value("WEEK", description="One file per ISO week.")
    MONTH = strawberry.enum_value("MONTH", description="One file per month.")


@strawberry.input(description="Many files instead of one, plus a JSON manifest listing them.")
class SplitInput:
    by: SplitPeriod | None = strawberry.field(default=None, description="Period per file.")
    max_rows_per_file: int | None = strawberry.field(
        default=None, description="Start a new file after this many rows."
    )
    max_bytes_per_file: Long | None = strawberry.field(
        default=None,
        description="Start a new file once this size is reached (a file passes it by less "
        "than one row; Parquet adds its footer).",
    )
    per_datastream: bool = strawberry.field(
        default=False,
        description="One file per datastream of a many-stream export (each listed in the "
        "manifest with its datastreamId); combines with by, maxRowsPerFile and "
        "maxBytesPerFile. Not with layout WIDE.",
    )


@strawberry.enum(description="The shape of a many-stream export's rows.")
class ExportLayout(Enum):
    LONG = strawberry.enum_value(
        "LONG",
        description="One row per stream and time, with datastream_id, exchange and symbol "
        "columns when there are several streams (the default).",
    )
    WIDE = strawberry.enum_value(
        "WIDE",
        description="One row per decimation bucket, a `<label>_<column>` column per stream "
        "and aggregated column (null where a stream has no rows). Needs a decimation.",
    )


@strawberry.input(description="The name a stream's columns get in the WIDE layout.")
class StreamLabelInput:
    datastream_id: Long = strawberry.field(description="One of the exported datastreams.")
    label: str = strawberry.field(
        description="Prefix of its columns (`<label>_<column>`), 1 to 100 characters; "
        "default: the datastream id."
    )


@strawberry.input(description="Another name for an output column, in the files only.")
class ColumnLabelInput:
    name: str = strawberry.field(description="Output column (after decimation and layout).")
    label: str = strawberry.field(description="Its name in the files, 1 to 100 characters.")


@strawberry.input(
    description="What to export, except when: createExport adds the time range, a schedule "
    "(createExportSchedule) adds each period's."
)
class ExportTemplateInput:
    datastream_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Datastream id (`101` or `ds_101`). Exactly one of datastreamId and "
        "datastreamIds.",
    )
    schema: str | None = strawberry.field(
        default=None,
        description="Export schema: a built-in name (`raw`, `normalized`), one of your schemas' "
        "names, or its `sch_` id (pinned across renames). Default `raw`. Not with inlineSchema.",
    )
    inline_schema: ExportSchemaDefinitionInput | None = strawberry.field(
        default=None, description="A schema given in full for this export only, instead of schema."
    )
    format: ExportFormat = strawberry.field(default=ExportFormat.CSV, description="File format.")
    compression: Compression | None = strawberry.field(
        default=None, description="Default: GZIP for CSV and JSONL, NONE for Parquet."
    )
    format_options: JSON | None = strawberry.field(
        default=None,
        description="Options of the chosen format (CSV: delimiter, header, quoting, nullString, "
        "lineTerminator, timestampFormat; PARQUET: compression, compressionLevel, rowGroupSize, "
        "dictionary, statistics, dataPageSize; JSONL: timestampFormat, decimals). Missing keys "
        "get the server defaults, echoed on the job.",
    )
    columns: list[str] | None = strawberry.field(
        default=None, description="A subset of the output columns, in the order wanted."
    )
    limit: int | None = strawberry.field(
        default=None, description="At most this many rows (after filters); clamped to the maximum."
    )
    filter: ExportFilterInput | None = strawberry.field(
        default=None, description="Only rows for which this holds."
    )
    decimation: DecimationInput | None = strawberry.field(
        default=None, description="Aggregate rows into time buckets (e.g. OHLCV bars)."
    )
    split: SplitInput | None = strawberry.field(
        default=None,
        description="Several files (by period, rows, bytes or datastream) and a manifest.",
    )
    datastream_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Several datastreams of one stream category (at most "
        "GATEWAY_MAX_EXPORT_DATASTREAMS, default 2,000) merged in collection-time order, "
        "instead of datastreamId. The schema, filter and decimation apply to each stream; "
        "limit to the merged rows. Pass long lists as variables.",
    )
    layout: ExportLayout | None = strawberry.field(
        default=None, description="LONG (default) or WIDE (decimated exports)."
    )
    stream_labels: list[StreamLabelInput] | None = strawberry.field(
        default=None, description="Column prefixes of the WIDE layout, per datastream."
    )
    column_labels: list[ColumnLabelInput] | None = strawberry.field(
        default=None,
        description="Rename output columns in the files without writing a schema "
        "(filters, columns and aggregations keep using the output names).",
    )
    timezone: str | None = strawberry.field(
        default=None,
        description="IANA time zone (e.g. `Europe/Paris`) of ISO timestamps "
        "(timestampFormat iso: `2024-01-15T09:00:00+01:00`) and of Parquet timestamp "
        "columns. Default UTC.",
    )
    keep_partial: bool = strawberry.field(
        default=False,
        description="If the job fails after writing rows, keep what it wrote as partial "
        "artifacts (complete, readable files of the rows before the failure, named "
        "`*.partial.*` and marked `partial`), downloadable for the retention period. Default: "
        "a failed job keeps no files.",
    )


@strawberry.input(description="What to export: a template and its time range.")
class CreateExportInput(ExportTemplateInput):
    start_time: Timestamp = strawberry.field(description="Range start, inclusive.")
    end_time: Timestamp = strawberry.field(description="Range end, exclusive.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry-safe key: the same key and request return the same job; "
        "the same key with a different request is a CONFLICT.",
    )


@strawberry.input(description="Which job to cancel.")
class CancelExportInput:
    id: strawberry.ID = strawberry.field(description="Job id, `exp_<32 hex>`.")


@strawberry.input(description="Which job to delete.")
class DeleteExportInput:
    id: strawberry.ID = strawberry.field(description="Job id, `exp_<32 hex>`.")


def export_request(input: CreateExportInput) -> ExportRequest:
    """The domain request for createExport (and estimateExport): GraphQL shapes unwrapped."""
    return dataclasses.replace(
        template_request(input, "input"),
        start_time=input.start_time,
        end_time=input.end_time,
        idempotency_key=input.idempotency_key,
    )


def template_request(input: ExportTemplateInput, where: str) -> ExportRequest:
    """The request without its times (None) or key; `where` is the input's path, for the
    problems found while unwrapping (`input`, or `input.export` in a schedule)."""
    return ExportRequest(
        datastream_id=input.datastream_id,
        start_time=None,
        end_time=None,
        schema=input.schema,
        inline_schema=(
            definition_to_spec(input.inline_schema, f"{where}.inlineSchema")
            if input.inline_schema is not None
            else None
        ),
        format=input.format.name,
        compression=input.compression.name if input.compression else None,
        options=options_request(
            input.format_options,
            input.columns,
            input.limit,
            input.filter,
            input.decimation,
            input.split,
            input.layout,
            input.stream_labels,
            input.column_labels,
            input.timezone,
        ),
        keep_partial=input.keep_partial,
        datastream_ids=list(input.datastream_ids) if input.datastream_ids is not None else None,
    )


def options_request(
    format_options: Any,
    columns: list[str] | None,
    limit: int | None,
    filter: ExportFilterInput | None,
    decimation: DecimationInput | None,
    split: SplitInput | None,
    layout: ExportLayout | None = None,
    stream_labels: list[StreamLabelInput] | None = None,
    column_labels: list[ColumnLabelInput] | None = None,
    timezone: str | None = None,
) -> OptionsRequest:
    return OptionsRequest(
        format_options=format_options,
        columns=columns,
        limit=limit,
        filter=_filter(filter) if filter is not None else None,
        decimation=(
            {
                "interval": decimation.interval,
                "fill": decimation.fill.value,
                "aggregations": [
                    {
                        "column": a.column,
                        "fn": a.fn.value,
                        "transform": a.transform.value if a.transform else None,
                    }
                    for a in decimation.aggregations
                ],
            }
            if decimation is not None
            else None
        ),
        split=(
            {
                "by": split.by.value if split.by else None,
                "maxRowsPerFile": split.max_rows_per_file,
                "maxBytesPerFile": split.max_bytes_per_file,
                "perDatastream": split.per_datastream,
            }
            if split is not None
            else None
        ),
        layout=layout.name if layout is not None else None,
        stream_labels=(
            [{"datastreamId": int(s.datastream_id), "label": s.label} for s in stream_labels]
            if stream_labels is not None
            else None
        ),
        column_labels=(
            [{"name": c.name, "label": c.label} for c in column_labels]
            if column_labels is not None
            else None
        ),
        timezone=timezone,
    )


def _filter(node: ExportFilterInput) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if node.and_ is not None:
        result["and"] = [_filter(c) for c in node.and_]
    if node.or_ is not None:
        result["or"] = [_filter(c) for c in node.or_]
    if node.not_ is not None:
        result["not"] = _filter(node.not_)
    if node.column is not None:
        result.update(column=node.column, op=node.op.value if node.op else None, value=node.value)
    return result
