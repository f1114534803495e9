"""The outbox: events recorded in the same transaction as the change they tell about, so that
a process dying after the commit loses none. Anyone may record one with `record_event`."""

from __future__ import annotations

from enum import Enum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.db.models import ExportArtifactRow, ExportJobRow, ImportJobRow, NotificationEventRow
from app.ids import new_id
from engine.timestamps import format_timestamp, now_ns


class EventType(str, Enum):
    EXPORT_SUCCEEDED = "export.succeeded"
    EXPORT_FAILED = "export.failed"
    EXPORT_CANCELED = "export.canceled"
    EXPORT_EXPIRED = "export.expired"
    IMPORT_SUCCEEDED = "import.succeeded"
    IMPORT_FAILED = "import.failed"
    IMPORT_CANCELED = "import.canceled"
    SCHEDULE_RUN_FAILED = "schedule.run_failed"
    COLLECTION_ERROR = "collection.error"


EVENT_TYPES = tuple(t.value for t in EventType)
PING = "webhook.ping"  # sent by testWebhook only; nobody subscribes to it
# What "success" and "failure" mean to an email notification's policy.
SUCCESS_EVENTS = frozenset({EventType.EXPORT_SUCCEEDED.value, EventType.IMPORT_SUCCEEDED.value})
FAILURE_EVENTS = frozenset(
    {
        EventType.EXPORT_FAILED.value,
        EventType.IMPORT_FAILED.value,
        EventType.SCHEDULE_RUN_FAILED.value,
        EventType.COLLECTION_ERROR.value,
    }
)
_BY_STATUS = {
    "export": {
        "SUCCEEDED": EventType.EXPORT_SUCCEEDED,
        "FAILED": EventType.EXPORT_FAILED,
        "CANCELED": EventType.EXPORT_CANCELED,
        "EXPIRED": EventType.EXPORT_EXPIRED,
    },
    "import": {
        "SUCCEEDED": EventType.IMPORT_SUCCEEDED,
        "FAILED": EventType.IMPORT_FAILED,
        "CANCELED": EventType.IMPORT_CANCELED,
    },
}


def record_event(
    session: Session | AsyncSession, workspace_id: str, type: str, data: dict[str, Any]
) -> str:
    """Add an event to the caller's transaction (blocking or async session alike: nothing is
    executed here); it is delivered once that transaction commits, never if it rolls back.
    `data` must be JSON; its `jobId`, if any, lets subscribers find the job. The event id."""
    if type not in EVENT_TYPES and type != PING:
        raise ValueError(f"unknown event type {type!r}")
    event_id = new_id("notification_event")
    session.add(
        NotificationEventRow(
            id=event_id, workspace_id=workspace_id, type=type, data=data, created_at=now_ns()
        )
    )
    return event_id


def _time(ns: int | None) -> str | None:
    return format_timestamp(ns) if ns is not None else None


def export_job_data(
    job: ExportJobRow, artifacts: list[ExportArtifactRow] | None = None
) -> dict[str, Any]:
    """The job as the API shows it (`ExportJob`'s fields). Artifacts carry their id; signed
    download URLs are added when the event is sent, so that they are fresh at every attempt."""
    options = job.options or {}
    return {
        "kind": "export",
        "jobId": job.id,
        "id": job.id,
        "status": job.status,
        "reason": job.reason,
        "datastreamId": job.datastream_id,
        "format": job.format,
        "compression": job.compression,
        "schema": {
            "name": job.schema_name,
            "id": job.schema_id,
            "version": job.schema_version,
            "columns": [c["outputColumn"] for c in job.schema_snapshot["columns"]],
        },
        "startTime": _time(job.start_ns),
        "endTime": _time(job.end_ns),
        "createdAt": _time(job.created_at),
        "startedAt": _time(job.started_at),
        "finishedAt": _time(job.finished_at),
        "expiresAt": _time(job.expires_at),
        "idempotencyKey": job.idempotency_key,
        "attempts": job.attempts,
        "keepPartial": job.keep_partial,
        "formatOptions": options.get("formatOptions", {}),
        "options": {
            k: options.get(k) for k in ("columns", "limit", "filter", "decimation", "split")
        },
        "progress": {
            "recordsRead": job.records_read,
            "recordsTotal": job.records_total,
            "fraction": job.fraction,
            "rowsWritten": job.rows_written,
            "bytesWritten": job.bytes_written,
            "estimatedRows": job.records_total,  # the API's deprecated alias
        },
        "artifacts": [
            {
                "artifactId": a.id,
                "filename": a.filename,
                "byteSize": a.byte_size,
                "rowCount": a.row_count,
                "sha256": a.sha256,
                "contentType": a.content_type,
                "partial": a.partial,
            }
            for a in artifacts or []
        ],
    }


def import_job_data(job: ImportJobRow) -> dict[str, Any]:
    """The import job as the API shows it (`ImportJob`'s fields)."""
    return {
        "kind": "import",
        "jobId": job.id,
        "id": job.id,
        "status": job.status,
        "reason": job.reason,
        "note": job.note,
        "datastreamId": job.datastream_id,
        "filename": job.filename,
        "onError": job.on_error,
        "force": job.force,
        "idempotencyKey": job.idempotency_key,
        "createdAt": _time(job.created_at),
        "startedAt": _time(job.started_at),
        "finishedAt": _time(job.finished_at),
        "attempts": job.attempts,
        "progress": {
            "bytesRead": job.bytes_read,
            "recordsRead": job.records_read,
            "recordsRejected": job.records_rejected,
            "recordsStored": job.records_stored,
        },
    }


def record_job_event(
    session: Session | AsyncSession,
    job: ExportJobRow | ImportJobRow,
    artifacts: list[ExportArtifactRow] | None = None,
) -> str | None:
    """The event of a job that just reached the terminal state `job.status` (as loaded in the
    transaction that changed it); None for a state nobody is told about."""
    kind = "export" if isinstance(job, ExportJobRow) else "import"
    type = _BY_STATUS[kind].get(job.status)
    if type is None:
        return None
    data = (
        export_job_data(job, artifacts) if isinstance(job, ExportJobRow) else import_job_data(job)
    )
    return record_event(session, job.workspace_id, type.value, data)
