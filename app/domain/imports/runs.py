"""Import jobs as a worker sees them: claim, heartbeat/progress, finish. Blocking SQLAlchemy.

As for exports, every transition is a conditional UPDATE on (id, status, claim_token): one
owner at a time, one terminal state, and a cancel wins over a worker still reading."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.db.engine import rows_changed
from app.db.models import ImportJobRow, ImportUploadRow
from app.domain import job_rows
from app.domain.exports.status import JobStatus
from app.domain.notifications.events import record_job_event
from engine.timestamps import now_ns


class ClaimLost(Exception):
    """Canceled, or taken over by another worker: stop and store nothing."""


@dataclass(frozen=True)
class ClaimedImport:
    id: str
    workspace_id: str
    claim_token: str
    datastream_id: int
    upload_path: str  # relative to the storage directory
    filename: str
    on_error: str
    force: bool


@dataclass
class Counts:
    bytes_read: int = 0
    records_read: int = 0
    records_rejected: int = 0
    records_stored: int = 0

    def values(self) -> dict[str, int]:
        return dict(vars(self))


def claim(session: Session, job_id: str, stale_before_ns: int) -> ClaimedImport | None:
    """Take a QUEUED job, or a RUNNING one whose worker stopped sending heartbeats."""
    token = job_rows.claim(session, ImportJobRow, job_id, stale_before_ns, **Counts().values())
    if token is None:
        return None
    job = session.get(ImportJobRow, job_id)
    upload = session.get(ImportUploadRow, job.upload_id) if job else None
    assert job is not None and upload is not None
    return ClaimedImport(
        job.id,
        job.workspace_id,
        token,
        job.datastream_id,
        upload.path,
        job.filename,
        job.on_error,
        job.force,
    )


def _owned(job: ClaimedImport) -> Any:
    return job_rows.owned(ImportJobRow, job.id, job.claim_token)


def record_progress(session: Session, job: ClaimedImport, counts: Counts) -> None:
    """Progress doubles as the heartbeat; ClaimLost once the job is no longer ours."""
    result = session.execute(
        update(ImportJobRow).where(_owned(job)).values(heartbeat_at=now_ns(), **counts.values())
    )
    session.commit()
    if rows_changed(result) != 1:
        raise ClaimLost(job.id)


def mark_succeeded(
    session: Session,
    job: ClaimedImport,
    counts: Counts,
    *,
    note: str | None,
    report: tuple[str, int] | None,
    keep_seconds: float,
) -> None:
    """In the transaction that registers the segments (not committed here): SUCCEEDED and
    the records become visible together, or neither. ClaimLost if it is no longer ours."""
    now = now_ns()
    result = session.execute(
        update(ImportJobRow)
        .where(_owned(job))
        .values(
            status=JobStatus.SUCCEEDED.value,
            finished_at=now,
            heartbeat_at=now,
            note=note,
            report_path=report[0] if report else None,
            report_byte_size=report[1] if report else None,
            expires_at=now + int(keep_seconds * 1e9) if report else None,
            **counts.values(),
        )
    )
    if rows_changed(result) != 1:
        raise ClaimLost(job.id)
    _record_event(session, job.id)


def _record_event(session: Session, job_id: str) -> None:
    """The terminal state's notification, in the transaction that reached it (the outbox)."""
    row = session.get(ImportJobRow, job_id, populate_existing=True)
    assert row is not None
    record_job_event(session, row)


def fail(session: Session, job: ClaimedImport, reason: str, counts: Counts) -> bool:
    result = session.execute(
        update(ImportJobRow)
        .where(_owned(job))
        .values(
            status=JobStatus.FAILED.value,
            reason=reason[:2000],
            finished_at=now_ns(),
            **counts.values(),
        )
    )
    changed = rows_changed(result) == 1
    if changed:
        _record_event(session, job.id)
    session.commit()
    return changed


def release(session: Session, job: ClaimedImport) -> None:
    """Hand a running job back (graceful shutdown, transient error): it will run again."""
    job_rows.release(session, ImportJobRow, job.id, job.claim_token)
