"""GraphQL types of uploads and import jobs."""

from __future__ import annotations

from enum import Enum

import strawberry

from app.db import models
from app.graphql.context import Info, computed
from app.graphql.errors import UserError
from app.graphql.relay import Node
from app.graphql.scalars import Long, Timestamp
from app.storage import download_url, signed_upload_path


@strawberry.enum(description="Lifecycle of an import job.")
class ImportStatus(Enum):
    QUEUED = strawberry.enum_value("QUEUED", description="Recorded, waiting for a worker.")
    RUNNING = strawberry.enum_value("RUNNING", description="A worker is reading the file.")
    SUCCEEDED = strawberry.enum_value(
        "SUCCEEDED",
        description="Its records are stored, all at once (terminal); see note and progress.",
    )
    FAILED = strawberry.enum_value(
        "FAILED", description="Stopped with an error (see reason); nothing stored (terminal)."
    )
    CANCELED = strawberry.enum_value(
        "CANCELED", description="Canceled on request; nothing stored (terminal)."
    )


@strawberry.enum(description="What an import does with a record it cannot read.")
class ImportErrorPolicy(Enum):
    ABORT = strawberry.enum_value(
        "ABORT", description="Fail the import, naming the line; nothing is stored."
    )
    SKIP = strawberry.enum_value(
        "SKIP",
        description="Leave the record out and list it, with its line and reason, in the "
        "job's rejected-records report. Problems of the file itself (a wrong CSV header, "
        "bytes that are not UTF-8, a truncated gzip stream) still fail the import.",
    )


@strawberry.type(description="How far an import has read its file.")
class ImportProgress:
    bytes_read: Long = strawberry.field(
        description="Bytes of the file read so far (as uploaded: compressed bytes for .gz)."
    )
    byte_size: Long = strawberry.field(description="Size of the file.")
    records_read: Long = strawberry.field(description="Records read, rejected ones included.")
    records_rejected: Long = strawberry.field(description="Records left out (onError: SKIP).")
    records_stored: Long = strawberry.field(
        description="Records stored (visible once the job SUCCEEDED)."
    )


@strawberry.type(description="The records an import left out: a CSV of line, reason, record.")
class RejectedRecordsReport:
    url: str = strawberry.field(
        description="Signed download link; no API key needed. With files in an object store "
        "and STORAGE_DOWNLOADS=presigned, the store's presigned URL."
    )
    url_expires_at: Timestamp = strawberry.field(description="When this link stops working.")
    byte_size: Long = strawberry.field(description="Size of the report.")
    kept_until: Timestamp = strawberry.field(description="When the report is deleted.")


@strawberry.type(description="A file's records read into a datastream, as a job.")
class ImportJob(Node):
    status: ImportStatus = strawberry.field(description="Where the job is in its lifecycle.")
    reason: str | None = strawberry.field(description="Why it failed or was canceled.")
    note: str | None = strawberry.field(
        description="Said on success, e.g. that the same bytes were stored before (nothing "
        "stored again), or that the records do not look like the datastream's wire format."
    )
    datastream_id: Long = strawberry.field(description="Where the records go.")
    filename: str = strawberry.field(description="The uploaded file's name.")
    on_error: ImportErrorPolicy = strawberry.field(
        description="What happens to unreadable records."
    )
    force: bool = strawberry.field(description="Store even if the same bytes were stored.")
    idempotency_key: str | None = strawberry.field(description="The key it was started with.")
    created_at: Timestamp = strawberry.field(description="When the job was created.")
    started_at: Timestamp | None = strawberry.field(description="When a worker last started it.")
    finished_at: Timestamp | None = strawberry.field(
        description="When it reached a terminal state."
    )
    attempts: int = strawberry.field(description="How many times a worker has started it.")
    progress: ImportProgress = strawberry.field(description="Bytes and records read so far.")
    report_path: strawberry.Private[str | None]
    report_byte_size: strawberry.Private[int | None]
    expires_at: strawberry.Private[int | None]

    @computed(description="The records left out (onError: SKIP); null if none were.")
    async def rejected_records(self, info: Info) -> RejectedRecordsReport | None:
        if self.report_path is None or self.expires_at is None:
            return None
        url, expires = download_url(
            info.context.settings,
            info.context.base_url(),
            str(self.id),
            "rejected.csv",
            self.report_path,
            "text/csv",
            saved_as=f"{self.id}-rejected.csv",
        )
        return RejectedRecordsReport(
            url=url,
            url_expires_at=expires * 1_000_000_000,
            byte_size=self.report_byte_size or 0,
            kept_until=self.expires_at,
        )

    @classmethod
    def from_row(cls, job: models.ImportJobRow) -> ImportJob:
        return cls(
            id=strawberry.ID(job.id),
            status=ImportStatus(job.status),
            reason=job.reason,
            note=job.note,
            datastream_id=job.datastream_id,
            filename=job.filename,
            on_error=ImportErrorPolicy(job.on_error),
            force=job.force,
            idempotency_key=job.idempotency_key,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            attempts=job.attempts,
            progress=ImportProgress(
                bytes_read=job.bytes_read,
                byte_size=job.byte_size,
                records_read=job.records_read,
                records_rejected=job.records_rejected,
                records_stored=job.records_stored,
            ),
            report_path=job.report_path,
            report_byte_size=job.report_byte_size,
            expires_at=job.expires_at,
        )


@strawberry.type(
    description="A place for one file: PUT its bytes to `url` (no API key needed; "
    "Content-Length required), then startImport with this id."
)
class ImportUpload:
    id: strawberry.ID = strawberry.field(description="`upl_...` id, for startImport.")
    filename: str = strawberry.field(description="The file's name; its suffix gives the format.")
    url: str = strawberry.field(description="Signed URL that takes one PUT of the file.")
    expires_at: Timestamp = strawberry.field(description="Until when the URL takes the PUT.")
    max_bytes: Long = strawberry.field(description="The largest file the URL accepts.")

    @classmethod
    def from_row(cls, info: Info, row: models.ImportUploadRow) -> ImportUpload:
        seconds = row.expires_at // 1_000_000_000
        path = signed_upload_path(info.context.settings, row.id, seconds)
        return cls(
            id=strawberry.ID(row.id),
            filename=row.filename,
            url=info.context.base_url() + path,
            expires_at=seconds * 1_000_000_000,
            max_bytes=info.context.settings.max_import_bytes,
        )


@strawberry.type(description="Result of createImportUpload.")
class ImportUploadPayload:
    upload: ImportUpload | None = strawberry.field(
        default=None, description="Where to PUT the file; null on error."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why no upload was created."
    )


@strawberry.type(description="Result of a change to an import job.")
class ImportJobPayload:
    import_job: ImportJob | None = strawberry.field(
        default=None, description="The job; null on error."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why it was refused."
    )
