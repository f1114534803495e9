"""GraphQL types of export jobs, their files, estimates and mutation payloads."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.scalars import JSON

from app.db import models
from app.domain import catalog
from app.domain.exports.progress import eta_seconds
from app.graphql.catalog.types import Datastream, datastream_nodes
from app.graphql.context import Info, computed
from app.graphql.errors import UserError
from app.graphql.relay import Node
from app.graphql.scalars import Long, Timestamp
from app.graphql.shared_events import SharedEvent
from app.storage import download_url
from engine.timestamps import now_ns


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
    layout: str = strawberry.field(description="LONG or WIDE.")
    stream_labels: JSON | None = strawberry.field(
        description="WIDE: every stream's label, `[{datastreamId, label}]`, in column order."
    )
    column_labels: JSON | None = strawberry.field(
        description="Columns renamed in the files, `[{name, label}]`."
    )
    timezone: str = strawberry.field(description="IANA zone of ISO timestamps (UTC default).")


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
    DELETED = strawberry.enum_value(
        "DELETED",
        description="Only in subscriptions: the job was deleted (`deleteExport`) and no longer "
        "exists; this is its last announcement, with its other fields as last seen (and "
        "`updatedAt` the time of the deletion). Replayed to a subscription resuming `since` a "
        "time before the deletion, for the retention period.",
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


@strawberry.type(
    description="How far a job has come. Two units never mix: records are the stored input "
    "messages the export reads (`recordsRead` of `recordsTotal`, what `fraction` and "
    "`etaSeconds` are computed from); rows are what the files hold, after the schema unfolds "
    "messages (a book update gives many rows) and filters and decimation drop rows. A running "
    "job updates these about four times a second (`GATEWAY_PROGRESS_INTERVAL_SECONDS`)."
)
class ExportProgress:
    records_read: Long = strawberry.field(
        description="Input records (stored messages) read so far, in the same unit as "
        "`recordsTotal`. A retried attempt starts again from zero; a job in parts shows the "
        "sum of its parts'."
    )
    records_total: Long = strawberry.field(
        description="Input records in the job's range, counted from the segment catalog when "
        "the job was created (prorated over segments that straddle the range's ends, so "
        "`recordsRead` may end a little above or below it)."
    )
    fraction: float = strawberry.field(
        description="How much of the job is done, between 0 and 1: `recordsRead / "
        "recordsTotal`, never decreasing (not even when an attempt starts over), below 1 while "
        "the job runs and exactly 1 once it SUCCEEDED."
    )
    eta_seconds: float | None = strawberry.field(
        description="Seconds until the job should finish, at the rate it has read records "
        "since it started running; null while queued and until 1% of the records and a "
        "second have gone by; 0 once it has ended."
    )
    rows_written: Long = strawberry.field(
        description="Output rows written to the files so far (after unfolding, filters and "
        "decimation); every file's rows once the job SUCCEEDED."
    )
    bytes_written: Long = strawberry.field(
        description="Bytes written to the files so far, as stored (compressed for gzip and "
        "zstd, counted as each compressed block reaches the file); the files' sizes once the "
        "job SUCCEEDED."
    )
    estimated_rows: Long = strawberry.field(
        description="The same number as `recordsTotal` (input records in range, not output rows).",
        deprecation_reason="Counts input records, not rows: use `recordsTotal` (and `fraction`).",
    )


@strawberry.type(description="A produced file, downloadable through a signed, expiring URL.")
class ExportArtifact:
    filename: str = strawberry.field(description="File name, e.g. `101_exp_....csv.gz`.")
    url: str = strawberry.field(
        description="Signed download URL; no API key needed until it expires. With "
        "artifacts in an object store, the store's presigned URL (STORAGE_DOWNLOADS=presigned) "
        "or the gateway's, which streams the file from the store (proxy)."
    )
    expires_at: Timestamp = strawberry.field(description="When `url` stops working.")
    byte_size: Long = strawberry.field(description="Size of the file in bytes.")
    row_count: Long = strawberry.field(description="Data rows in the file (header not counted).")
    sha256: str = strawberry.field(description="Lowercase hex SHA-256 of the file's bytes.")
    content_type: str = strawberry.field(description="MIME type served with the file.")
    partial: bool = strawberry.field(
        description="Kept from a FAILED job that asked for it (`keepPartial`): only the rows "
        "written before the failure."
    )


@strawberry.type(
    description="An asynchronous export of one datastream's (or several merged) time range "
    "to files."
)
class ExportJob(Node, SharedEvent):
    status: ExportStatus = strawberry.field(description="Where the job is in its lifecycle.")
    reason: str | None = strawberry.field(description="Why it failed or was canceled.")
    datastream_id: Long = strawberry.field(
        description="The exported datastream (the first one of a many-stream export)."
    )
    datastream_ids: list[Long] = strawberry.field(
        description="Every exported datastream, in the request's order (one for a "
        "single-stream export)."
    )
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
        "unless it SUCCEEDED or EXPIRED, or FAILED keeping partial files (those are deleted "
        "then; the job stays FAILED).",
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
    progress: ExportProgress = strawberry.field(
        description="Records read of the records in range, the fraction done, an ETA, and the "
        "rows and bytes written so far."
    )
    revision: Long = strawberry.field(
        description="Grows by at least one with every change to the job (status, progress, "
        "anything): of two states of the same job, the one with the higher revision is the "
        "newer. Subscriptions may send a state again (a replay with `since`); keep the higher."
    )
    updated_at: Timestamp = strawberry.field(
        description="When the job last changed: pass the greatest you have seen as `since` to "
        "`exportJobsUpdated` or `exportJobUpdated` when you reconnect."
    )
    keep_partial: bool = strawberry.field(
        description="Whether a failure keeps the rows written so far as partial artifacts."
    )

    @computed(
        description="Every exported datastream with its exchange and instrument, in the "
        "request's order (one for a single-stream export)."
    )
    async def datastreams(self, info: Info) -> list[Datastream]:
        async with info.context.sessions() as session:
            rows = await catalog.datastreams_by_id(session, list(self.datastream_ids))
        return await datastream_nodes(info, rows)

    @computed(
        description="Produced files; empty until the job SUCCEEDED. A FAILED job created "
        "with `keepPartial` lists the partial files it kept (each `partial: true`) until "
        "`expiresAt`."
    )
    async def artifacts(self, info: Info) -> list[ExportArtifact]:
        kept_partial = self.status == ExportStatus.FAILED and (self.expires_at or 0) > now_ns()
        if self.status != ExportStatus.SUCCEEDED and not kept_partial:
            return []
        rows = await info.context.artifacts.load(str(self.id))
        base = info.context.base_url()
        result = []
        for row in rows:
            url, expires = download_url(
                info.context.settings, base, row.id, row.filename, row.path, row.content_type
            )
            result.append(
                ExportArtifact(
                    filename=row.filename,
                    url=url,
                    expires_at=expires * 1_000_000_000,
                    byte_size=row.byte_size,
                    row_count=row.row_count,
                    sha256=row.sha256,
                    content_type=row.content_type,
                    partial=row.partial,
                )
            )
        return result

    @classmethod
    def from_row(cls, job: models.ExportJobRow) -> ExportJob:
        # Each attribute of an ORM row is read once (a descriptor call each time): a page of
        # jobs is converted on every poll.
        options = job.options or {}
        status, datastream_id = job.status, job.datastream_id
        records_read, records_total, started_at = (
            job.records_read,
            job.records_total,
            job.started_at,
        )
        return cls(
            id=strawberry.ID(job.id),
            status=ExportStatus(status),
            reason=job.reason,
            datastream_id=datastream_id,
            datastream_ids=job.datastream_ids or [datastream_id],
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
            started_at=started_at,
            finished_at=job.finished_at,
            expires_at=job.expires_at,
            idempotency_key=job.idempotency_key,
            attempts=job.attempts,
            format_options=options.get("formatOptions", {}),
            options=ExportJobOptions(
                columns=options.get("columns"),
                limit=options.get("limit"),
                filter=options.get("filter"),
                decimation=options.get("decimation"),
                split=options.get("split"),
                layout=options.get("layout") or "LONG",
                stream_labels=options.get("streamLabels"),
                column_labels=options.get("columnLabels"),
                timezone=options.get("timezone") or "UTC",
            ),
            progress=ExportProgress(
                records_read=records_read,
                records_total=records_total,
                fraction=job.fraction,
                eta_seconds=eta_seconds(
                    status, records_read, records_total, started_at, job.heartbeat_at
                ),
                rows_written=job.rows_written,
                bytes_written=job.bytes_written,
                estimated_rows=records_total,
            ),
            revision=job.revision,
            updated_at=job.updated_at,
            keep_partial=job.keep_partial,
        )


@strawberry.type(description="What an export would produce, estimated without running it.")
class ExportEstimate:
    estimated_rows: Long = strawberry.field(default=0, description="Rows the files would hold.")
    estimated_bytes: Long = strawberry.field(default=0, description="Bytes the files would take.")
    records_in_range: Long = strawberry.field(
        default=0, description="Stored records in the time range (segment catalog)."
    )
    sampled_records: int = strawberry.field(
        default=0,
        description="Records actually exported as a sample to measure rows per record and "
        "bytes per row.",
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Why the request is invalid (the same errors createExport would give).",
    )


@strawberry.enum(description="How a list of export jobs is sorted.")
class ExportJobOrder(Enum):
    CREATED_AT_DESC = strawberry.enum_value(
        "CREATED_AT_DESC", description="Newest first (the default)."
    )
    CREATED_AT_ASC = strawberry.enum_value("CREATED_AT_ASC", description="Oldest first.")


@strawberry.type(description="Result of createExport.")
class CreateExportPayload:
    export_job: ExportJob | None = strawberry.field(
        default=None, description="The job, new or replayed; null on errors."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the job was not created."
    )


@strawberry.type(description="Result of cancelExport.")
class CancelExportPayload:
    export_job: ExportJob | None = strawberry.field(
        default=None, description="The job after cancellation."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why it could not be canceled."
    )


@strawberry.type(description="Result of deleteExport.")
class DeleteExportPayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="The id of the deleted job; null on errors."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why it was not deleted."
    )
