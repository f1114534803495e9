"""GraphQL object types. Built from ORM rows by `from_row` helpers; no business rules here."""

from __future__ import annotations

import base64
from enum import Enum
from typing import Generic, TypeVar

import strawberry
from strawberry.scalars import JSON

from app.db import models
from app.domain.availability import Availability as AvailabilityData
from app.graphql.context import Context
from app.graphql.scalars import Long, Timestamp
from app.storage import signed_path

T = TypeVar("T")


@strawberry.interface(description="An object with a globally unique, prefixed, opaque ID.")
class Node:
    id: strawberry.ID = strawberry.field(description="Prefixed opaque ID, e.g. exp_<32 hex>.")


@strawberry.type(description="Relay pagination information.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more items follow the last edge.")
    has_previous_page: bool = strawberry.field(description="Whether items precede the first edge.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last edge; pass as `after`."
    )


@strawberry.type(description="An item and its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list (Relay connection).")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page, with cursors.")
    page_info: PageInfo = strawberry.field(description="Where this page is in the whole list.")
    total_count: Long = strawberry.field(
        description="Number of items in the whole list (all pages)."
    )


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str | None:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def make_connection(
    nodes: list[T], keys: list[str], total: int, has_next: bool, has_previous: bool
) -> Connection[T]:
    cursors = [encode_cursor(k) for k in keys]
    return Connection(
        edges=[Edge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)],
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        total_count=total,
    )


@strawberry.type(description="A trading venue.")
class Exchange:
    code: str = strawberry.field(description="Stable lowercase code, e.g. `binance`.")
    display_name: str = strawberry.field(description="Name for people, e.g. `Binance`.")


@strawberry.type(description="A tradable instrument on an exchange.")
class Instrument:
    exchange: str = strawberry.field(description="Exchange code.")
    symbol: str = strawberry.field(description="Exchange symbol, e.g. `BTCUSDT`.")
    base: str = strawberry.field(description="Base asset, e.g. `BTC`.")
    quote: str = strawberry.field(description="Quote asset, e.g. `USDT`.")
    type: str = strawberry.field(description="Market type, e.g. `spot` or `linear`.")


@strawberry.type(description="A half-open time range [fromTime, toTime) that holds records.")
class AvailableRange:
    from_time: Timestamp = strawberry.field(description="First record's collection time.")
    to_time: Timestamp = strawberry.field(description="Just after the last record (exclusive).")
    row_count: Long = strawberry.field(description="Records in the range.")


@strawberry.type(description="Which time ranges of a datastream hold data.")
class Availability:
    datastream_id: strawberry.ID = strawberry.field(description="The datastream (`ds_<id>`).")
    ranges: list[AvailableRange] = strawberry.field(description="Disjoint ranges, oldest first.")
    updated_at: Timestamp | None = strawberry.field(
        description="When data was last added; null if the datastream has none."
    )

    @classmethod
    def from_data(cls, datastream_id: int, data: AvailabilityData) -> Availability:
        return cls(
            datastream_id=strawberry.ID(f"ds_{datastream_id}"),
            ranges=[
                AvailableRange(from_time=r.from_ns, to_time=r.to_ns, row_count=r.row_count)
                for r in data.ranges
            ],
            updated_at=data.updated_at,
        )


@strawberry.type(description="A stream of timestamped records from one exchange and instrument.")
class Datastream(Node):
    datastream_id: Long = strawberry.field(description="The numeric int64 id used in inputs.")
    exchange: Exchange = strawberry.field(description="Where the records come from.")
    instrument: Instrument = strawberry.field(description="What they are about.")
    stream_type: str = strawberry.field(description="Kind of records, e.g. `trades`.")
    wire_format: str = strawberry.field(description="Message shape, e.g. `binance.trade`.")

    @classmethod
    def from_rows(
        cls,
        ds: models.DatastreamRow,
        exchange: models.ExchangeRow,
        instrument: models.InstrumentRow,
    ) -> Datastream:
        return cls(
            id=strawberry.ID(f"ds_{ds.id}"),
            datastream_id=ds.id,
            exchange=Exchange(code=exchange.code, display_name=exchange.display_name),
            instrument=Instrument(
                exchange=instrument.exchange_code,
                symbol=instrument.symbol,
                base=instrument.base,
                quote=instrument.quote,
                type=instrument.type,
            ),
            stream_type=ds.stream_type,
            wire_format=ds.wire_format,
        )


@strawberry.type(description="The schema an export job runs with (a snapshot taken at creation).")
class ExportJobSchema:
    name: str = strawberry.field(description="Schema name at creation time.")
    id: strawberry.ID | None = strawberry.field(
        default=None, description="`sch_` id of the custom schema used; null for built-in/inline."
    )
    version: int | None = strawberry.field(
        default=None, description="Version of the custom schema used; null for built-in/inline."
    )
    columns: list[str] = strawberry.field(description="Output columns of the snapshot.")


@strawberry.type(description="An export's options as resolved at creation (null: not used).")
class ExportJobOptions:
    columns: list[str] | None = strawberry.field(description="Selected columns, in file order.")
    limit: int | None = strawberry.field(description="Row limit after clamping.")
    filter: JSON | None = strawberry.field(
        description="Filter tree; timestamps as nanoseconds, decimals as exact text."
    )
    decimation: JSON | None = strawberry.field(
        description="Decimation with intervalNs and every default filled in."
    )
    split: JSON | None = strawberry.field(description="How the files are split.")


@strawberry.enum(description="Lifecycle of an export job.")
class ExportStatus(Enum):
    QUEUED = strawberry.enum_value("QUEUED", description="Recorded, waiting for a worker.")
    RUNNING = strawberry.enum_value("RUNNING", description="A worker is producing the files.")
    SUCCEEDED = strawberry.enum_value("SUCCEEDED", description="Files are ready (terminal).")
    FAILED = strawberry.enum_value(
        "FAILED", description="Stopped with an error; see reason (terminal)."
    )
    CANCELED = strawberry.enum_value(
        "CANCELED", description="Canceled on request; no files (terminal)."
    )
    EXPIRED = strawberry.enum_value(
        "EXPIRED",
        description="Succeeded, then its files were deleted at `expiresAt` (the retention "
        "period); no artifacts, and its download links no longer work (terminal).",
    )


@strawberry.enum(description="File format of an export.")
class ExportFormat(Enum):
    CSV = strawberry.enum_value("CSV", description="Comma-separated values with a header row.")
    PARQUET = strawberry.enum_value(
        "PARQUET", description="Apache Parquet, zstd, with real column types."
    )
    JSONL = strawberry.enum_value("JSONL", description="One JSON object per line.")


@strawberry.enum(description="Whole-file compression (CSV and JSON lines).")
class Compression(Enum):
    NONE = strawberry.enum_value("NONE", description="Uncompressed (always for Parquet).")
    GZIP = strawberry.enum_value("GZIP", description="gzip; the default for CSV and JSON lines.")
    ZSTD = strawberry.enum_value("ZSTD", description="Zstandard (`.zst`), for CSV and JSON lines.")


@strawberry.type(description="How far a job has come.")
class ExportProgress:
    rows_written: Long = strawberry.field(description="Rows written so far.")
    bytes_written: Long = strawberry.field(description="Bytes written so far.")
    estimated_rows: Long = strawberry.field(
        description="Estimate of the records in range, from the segment catalog (messages, "
        "before unfolding)."
    )


@strawberry.type(description="A produced file, downloadable through a signed, expiring URL.")
class ExportArtifact:
    filename: str = strawberry.field(description="File name, e.g. `101_exp_....csv.gz`.")
    url: str = strawberry.field(
        description="Signed download URL; no API key needed until it expires."
    )
    expires_at: Timestamp = strawberry.field(description="When `url` stops working.")
    byte_size: Long = strawberry.field(description="Size of the file in bytes.")
    row_count: Long = strawberry.field(description="Data rows in the file (header not counted).")
    sha256: str = strawberry.field(description="Lowercase hex SHA-256 of the file's bytes.")
    content_type: str = strawberry.field(description="MIME type served with the file.")


@strawberry.type(description="An asynchronous export of one datastream's time range to files.")
class ExportJob(Node):
    status: ExportStatus = strawberry.field(description="Where the job is in its lifecycle.")
    reason: str | None = strawberry.field(description="Why it failed or was canceled.")
    datastream_id: Long = strawberry.field(description="The exported datastream.")
    format: ExportFormat = strawberry.field(description="File format.")
    compression: Compression = strawberry.field(description="Whole-file compression.")
    schema: ExportJobSchema = strawberry.field(description="Schema snapshot the job uses.")
    start_time: Timestamp = strawberry.field(description="Range start (inclusive).")
    end_time: Timestamp = strawberry.field(description="Range end (exclusive).")
    created_at: Timestamp = strawberry.field(description="When the job was created.")
    started_at: Timestamp | None = strawberry.field(description="When a worker last started it.")
    finished_at: Timestamp | None = strawberry.field(
        description="When it reached a terminal state."
    )
    expires_at: Timestamp | None = strawberry.field(
        description="When its files are deleted and it becomes EXPIRED (retention); null "
        "unless it SUCCEEDED or EXPIRED.",
    )
    idempotency_key: str | None = strawberry.field(
        description="The key it was created with, if any."
    )
    attempts: int = strawberry.field(description="How many times a worker has started it.")
    format_options: JSON = strawberry.field(
        description="The format's options with every server default filled in: pin these to "
        "get the same files later."
    )
    options: ExportJobOptions = strawberry.field(
        description="Column selection, limit, filter, decimation and split, as resolved."
    )
    progress: ExportProgress = strawberry.field(description="Rows and bytes written so far.")

    @strawberry.field(description="Produced files; empty until the job SUCCEEDED.")
    async def artifacts(self, info: strawberry.Info[Context, None]) -> list[ExportArtifact]:
        if self.status != ExportStatus.SUCCEEDED:
            return []
        rows = await info.context.artifacts.load(str(self.id))
        base = info.context.base_url()
        result = []
        for row in rows:
            path, expires = signed_path(info.context.settings, row.id, row.filename)
            result.append(
                ExportArtifact(
                    filename=row.filename,
                    url=base + path,
                    expires_at=expires * 1_000_000_000,
                    byte_size=row.byte_size,
                    row_count=row.row_count,
                    sha256=row.sha256,
                    content_type=row.content_type,
                )
            )
        return result

    @classmethod
    def from_row(cls, job: models.ExportJobRow) -> ExportJob:
        return cls(
            id=strawberry.ID(job.id),
            status=ExportStatus(job.status),
            reason=job.reason,
            datastream_id=job.datastream_id,
            format=ExportFormat(job.format),
            compression=Compression(job.compression),
            schema=ExportJobSchema(
                name=job.schema_name,
                id=strawberry.ID(job.schema_id) if job.schema_id else None,
                version=job.schema_version,
                columns=[c["outputColumn"] for c in job.schema_snapshot["columns"]],
            ),
            start_time=job.start_ns,
            end_time=job.end_ns,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            expires_at=job.expires_at,
            idempotency_key=job.idempotency_key,
            attempts=job.attempts,
            format_options=(job.options or {}).get("formatOptions", {}),
            options=ExportJobOptions(
                columns=(job.options or {}).get("columns"),
                limit=(job.options or {}).get("limit"),
                filter=(job.options or {}).get("filter"),
                decimation=(job.options or {}).get("decimation"),
                split=(job.options or {}).get("split"),
            ),
            progress=ExportProgress(
                rows_written=job.rows_written,
                bytes_written=job.bytes_written,
                estimated_rows=job.estimated_rows,
            ),
        )
