from typing import Annotated, Any, Optional

from pydantic import Field, PlainSerializer

from export_gateway_client.scalars import (
    serialize_long,
    serialize_timestamp,
)

from .base_model import BaseModel
from .enums import (
    AggregateFunction,
    ColumnTransform,
    Compression,
    DecimationFill,
    ExportFormat,
    ExportLayout,
    FilterOp,
    OnError,
    SplitPeriod,
)


class AggregationInput(BaseModel):
    """One aggregated output column."""

    column: str
    "Schema output column to aggregate."
    fn: AggregateFunction
    "Aggregate function."
    transform: Optional[ColumnTransform] = None
    "Optional transformation of the result."


class ColumnLabelInput(BaseModel):
    """Another name for an output column, in the files only."""

    name: str
    "Output column (after decimation and layout)."
    label: str
    "Its name in the files, 1 to 100 characters."


class ColumnMappingInput(BaseModel):
    """How one source fills a data column."""

    source: str
    "Exchange code or exchange_market."
    path: str
    "JSON path: `data.p`, `data.b[0][1]`; `$...` is the unfolded element."
    type_: str = Field(alias="type")
    "string, bool, int, float, decimal(S), timestamp_s|ms|us|ns, json."
    transform: Optional[str] = None
    "SQL scalar expression over `{v}` and other `{path}` / `{path:type}` values."
    on_error: OnError = Field(alias="onError", default=OnError.FAIL)
    "What a value that does not convert does."


class CreateExportInput(BaseModel):
    """What to export: a template and its time range."""

    datastream_id: Optional[str] = Field(alias="datastreamId", default=None)
    "Datastream id (`101` or `ds_101`). Exactly one of datastreamId and datastreamIds."
    schema_: Optional[str] = Field(alias="schema", default=None)
    "Export schema: a built-in name (`raw`, `normalized`), one of your schemas' names, or its `sch_` id (pinned across renames). Default `raw`. Not with inlineSchema."
    inline_schema: Optional["ExportSchemaDefinitionInput"] = Field(
        alias="inlineSchema", default=None
    )
    "A schema given in full for this export only, instead of schema."
    format: ExportFormat = ExportFormat.CSV
    "File format."
    compression: Optional[Compression] = None
    "Default: GZIP for CSV and JSONL, NONE for Parquet."
    format_options: Optional[Any] = Field(alias="formatOptions", default=None)
    "Options of the chosen format (CSV: delimiter, header, quoting, nullString, lineTerminator, timestampFormat; PARQUET: compression, compressionLevel, rowGroupSize, dictionary, statistics, dataPageSize; JSONL: timestampFormat, decimals). Missing keys get the server defaults, echoed on the job."
    columns: Optional[list[str]] = None
    "A subset of the output columns, in the order wanted."
    limit: Optional[int] = None
    "At most this many rows (after filters); clamped to the maximum."
    filter_: Optional["ExportFilterInput"] = Field(alias="filter", default=None)
    "Only rows for which this holds."
    decimation: Optional["DecimationInput"] = None
    "Aggregate rows into time buckets (e.g. OHLCV bars)."
    split: Optional["SplitInput"] = None
    "Several files (by period, rows, bytes or datastream) and a manifest."
    datastream_ids: Optional[list[str]] = Field(alias="datastreamIds", default=None)
    "Several datastreams of one stream category (at most GATEWAY_MAX_EXPORT_DATASTREAMS, default 2,000) merged in collection-time order, instead of datastreamId. The schema, filter and decimation apply to each stream; limit to the merged rows. Pass long lists as variables."
    layout: Optional[ExportLayout] = None
    "LONG (default) or WIDE (decimated exports)."
    stream_labels: Optional[list["StreamLabelInput"]] = Field(
        alias="streamLabels", default=None
    )
    "Column prefixes of the WIDE layout, per datastream."
    column_labels: Optional[list["ColumnLabelInput"]] = Field(
        alias="columnLabels", default=None
    )
    "Rename output columns in the files without writing a schema (filters, columns and aggregations keep using the output names)."
    timezone: Optional[str] = None
    "IANA time zone (e.g. `Europe/Paris`) of ISO timestamps (timestampFormat iso: `2024-01-15T09:00:00+01:00`) and of Parquet timestamp columns. Default UTC."
    keep_partial: bool = Field(alias="keepPartial", default=False)
    "If the job fails after writing rows, keep what it wrote as partial artifacts (complete, readable files of the rows before the failure, named `*.partial.*` and marked `partial`), downloadable for the retention period. Default: a failed job keeps no files."
    start_time: Annotated[int, PlainSerializer(serialize_timestamp)] = Field(
        alias="startTime"
    )
    "Range start, inclusive."
    end_time: Annotated[int, PlainSerializer(serialize_timestamp)] = Field(
        alias="endTime"
    )
    "Range end, exclusive."
    idempotency_key: Optional[str] = Field(alias="idempotencyKey", default=None)
    "Retry-safe key: the same key and request return the same job; the same key with a different request is a CONFLICT."


class DecimationInput(BaseModel):
    """Time buckets aligned to the epoch over the collection timestamp; output columns are bucket_start and <column>_<fn> per aggregation."""

    interval: str
    "Bucket width: 500ms, 1s, 15m, 4h, 1d ..."
    aggregations: list["AggregationInput"]
    "Columns to produce."
    fill: DecimationFill = DecimationFill.NONE
    "Empty buckets."


class ExportFilterInput(BaseModel):
    """A filter on output columns: exactly one of and, or, not, or column+op(+value)."""

    and_: Optional[list["ExportFilterInput"]] = Field(alias="and", default=None)
    "All of these hold."
    or_: Optional[list["ExportFilterInput"]] = Field(alias="or", default=None)
    "At least one of these holds."
    not_: Optional["ExportFilterInput"] = Field(alias="not", default=None)
    "This does not hold."
    column: Optional[str] = None
    "Output column compared."
    op: Optional[FilterOp] = None
    "Comparison."
    value: Optional[Any] = None
    "A value of the column's type (timestamps as ISO-8601 or nanoseconds, decimals as string or number); a list for in/notIn."


class ExportSchemaDefinitionInput(BaseModel):
    """The contents of an export schema."""

    stream_category: str = Field(alias="streamCategory")
    "e.g. `trade`, `book`, `any`."
    columns: list["SchemaColumnInput"]
    "Output columns, in order."
    description: str = ""
    "What the schema produces."
    sources: list["SchemaSourceInput"] = Field(default_factory=lambda: [])
    "Per-source options (unfold)."


class SchemaColumnInput(BaseModel):
    """One output column: exactly one of `meta` and `data`."""

    output_column: str = Field(alias="outputColumn")
    "Column name in the file."
    description: Optional[str] = None
    "What it holds."
    meta: Optional[str] = None
    "Record attribute: collection_timestamp_ns, data, exchange, market, symbol, datastream_id, unfold_tag."
    format: Optional[str] = None
    "For collection_timestamp_ns: timestamp (default), ns, us, ms or iso."
    data: Optional[list["ColumnMappingInput"]] = None
    "Per-source mappings."


class SchemaSourceInput(BaseModel):
    """Per-source options."""

    source: str
    "Exchange code (`binance`) or exchange_market (`bybit_linear`)."
    unfold: list["UnfoldPathInput"]
    "Arrays to unfold; their rows are interleaved in message order."


class SplitInput(BaseModel):
    """Many files instead of one, plus a JSON manifest listing them."""

    by: Optional[SplitPeriod] = None
    "Period per file."
    max_rows_per_file: Optional[int] = Field(alias="maxRowsPerFile", default=None)
    "Start a new file after this many rows."
    max_bytes_per_file: Optional[Annotated[int, PlainSerializer(serialize_long)]] = (
        Field(alias="maxBytesPerFile", default=None)
    )
    "Start a new file once this size is reached (a file passes it by less than one row; Parquet adds its footer)."
    per_datastream: bool = Field(alias="perDatastream", default=False)
    "One file per datastream of a many-stream export (each listed in the manifest with its datastreamId); combines with by, maxRowsPerFile and maxBytesPerFile. Not with layout WIDE."


class StreamLabelInput(BaseModel):
    """The name a stream's columns get in the WIDE layout."""

    datastream_id: Annotated[int, PlainSerializer(serialize_long)] = Field(
        alias="datastreamId"
    )
    "One of the exported datastreams."
    label: str
    "Prefix of its columns (`<label>_<column>`), 1 to 100 characters; default: the datastream id."


class UnfoldPathInput(BaseModel):
    """One array to unfold into one row per element."""

    path: str
    "JSON path of the array, e.g. `data` or `data.b`."
    tag: Optional[str] = None
    "Value of meta column `unfold_tag` for rows of this array."


CreateExportInput.model_rebuild()
DecimationInput.model_rebuild()
ExportFilterInput.model_rebuild()
ExportSchemaDefinitionInput.model_rebuild()
SchemaColumnInput.model_rebuild()
SchemaSourceInput.model_rebuild()
