"""Export jobs as a worker sees them: claim, heartbeat/progress, finish. Blocking SQLAlchemy.

Every transition is a conditional UPDATE on (id, status, claim_token), so that under
at-least-once delivery a job has one owner at a time and exactly one terminal state.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db.engine import rows_changed
from app.db.models import (
    EXPORT_TOTALS_ID,
    DatastreamRow,
    ExportArtifactRow,
    ExportJobRow,
    ExportTotalsRow,
    InstrumentRow,
)
from app.domain import job_rows
from app.domain.catalog import source_context
from app.domain.exports.progress import raised_fraction
from app.domain.exports.status import JobStatus
from app.domain.notifications.events import record_job_event
from app.ids import new_id
from engine.export import Progress
from engine.logical import SourceContext
from engine.timestamps import now_ns


class ClaimLost(Exception):
    """The job was canceled, or another worker took it over: stop and publish nothing."""


@dataclass(frozen=True)
class ClaimedJob:
    id: str
    workspace_id: str
    claim_token: str
    datastream_id: int
    context: SourceContext
    schema_spec: dict[str, Any]
    options: dict[str, Any]
    format: str
    compression: str
    start_ns: int
    end_ns: int
    keep_partial: bool = False
    # Every datastream of a many-stream export with its context; empty for one datastream.
    sources: tuple[tuple[int, SourceContext], ...] = ()


def _sources(session: Session, ids: list[int]) -> tuple[tuple[int, SourceContext], ...]:
    """Every datastream of a many-stream job with its context, in order, in two queries."""
    if not ids:
        return ()
    streams = {
        d.id: d for d in session.scalars(select(DatastreamRow).where(DatastreamRow.id.in_(ids)))
    }
    wanted = {d.instrument_id for d in streams.values()}
    instruments = {
        i.id: i for i in session.scalars(select(InstrumentRow).where(InstrumentRow.id.in_(wanted)))
    }
    return tuple(
        (i, source_context(streams[i], instruments.get(streams[i].instrument_id))) for i in ids
    )


@dataclass(frozen=True)
class PublishedArtifact:
    filename: str
    path: str
    content_type: str
    byte_size: int
    row_count: int
    sha256: str
    partial: bool = False


def claim(session: Session, job_id: str, stale_before_ns: int) -> ClaimedJob | None:
    """Take a QUEUED job, or a RUNNING one whose worker stopped sending heartbeats."""
    token = job_rows.claim(
        session,
        ExportJobRow,
        job_id,
        stale_before_ns,
        rows_written=0,
        bytes_written=0,
        records_read=0,
    )
    if token is None:
        return None
    job = session.get(ExportJobRow, job_id)
    assert job is not None
    return claimed_job(session, job, token)


def claimed_job(session: Session, job: ExportJobRow, token: str) -> ClaimedJob:
    """What a worker needs to run `job` (or one of its parts, claimed by `token`)."""
    datastream = session.get(DatastreamRow, job.datastream_id)
    assert datastream is not None
    instrument = session.get(InstrumentRow, datastream.instrument_id)
    sources = _sources(session, job.datastream_ids or [])
    return ClaimedJob(
        id=job.id,
        workspace_id=job.workspace_id,
        claim_token=token,
        datastream_id=datastream.id,
        context=source_context(datastream, instrument),
        schema_spec=job.schema_snapshot,
        options=job.options or {},
        format=job.format,
        compression=job.compression,
        start_ns=job.start_ns,
        end_ns=job.end_ns,
        keep_partial=job.keep_partial,
        sources=sources,
    )


def _owned(job: ClaimedJob) -> Any:
    return job_rows.owned(ExportJobRow, job.id, job.claim_token)


def record_progress(session: Session, job: ClaimedJob, progress: Progress) -> None:
    """Progress doubles as the heartbeat, in one UPDATE of the job's row (the fraction is
    raised in the same statement); raises ClaimLost when the job is no longer ours."""
    result = session.execute(
        update(ExportJobRow)
        .where(_owned(job))
        .values(
            rows_written=progress.rows_written,
            bytes_written=progress.bytes_written,
            records_read=progress.records_read,
            fraction=raised_fraction(
                ExportJobRow.fraction, progress.records_read, ExportJobRow.records_total
            ),
            heartbeat_at=now_ns(),
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if rows_changed(result) != 1:
        raise ClaimLost(job.id)


def succeed(
    session: Session,
    job: ClaimedJob,
    artifacts: list[PublishedArtifact],
    retention_seconds: float,
    records_read: int | None = None,
) -> bool:
    """Terminal state and artifacts in one transaction: both visible, or neither. The files
    are kept for `retention_seconds`; then the sweeper marks the job EXPIRED. `records_read`:
    the input records the export read in all (the last progress tick may be older)."""
    extra = {} if records_read is None else {"records_read": records_read}
    return _finish(session, job, JobStatus.SUCCEEDED, None, artifacts, retention_seconds, extra)


def fail(
    session: Session,
    job: ClaimedJob,
    reason: str,
    partial: Sequence[PublishedArtifact] = (),
    retention_seconds: float = 0.0,
) -> bool:
    """FAILED with its reason; with the partial files the job asked to keep (listed and
    downloadable until `retention_seconds` have passed), or none."""
    return _finish(session, job, JobStatus.FAILED, reason, partial, retention_seconds)


def _finish(
    session: Session,
    job: ClaimedJob,
    status: JobStatus,
    reason: str | None,
    artifacts: Sequence[PublishedArtifact],
    retention_seconds: float,
    extra: dict[str, Any] | None = None,
) -> bool:
    now = now_ns()
    values: dict[str, Any] = {"status": status.value, "finished_at": now, "heartbeat_at": now}
    values |= extra or {}
    if reason is not None:
        values["reason"] = reason[:2000]
    if status is JobStatus.SUCCEEDED:
        values["fraction"] = 1.0
    if artifacts or status is JobStatus.SUCCEEDED:
        values.update(
            expires_at=now + int(retention_seconds * 1e9),
            rows_written=sum(a.row_count for a in artifacts),
            bytes_written=sum(a.byte_size for a in artifacts),
        )
    result = session.execute(update(ExportJobRow).where(_owned(job)).values(**values))
    if rows_changed(result) != 1:
        session.rollback()
        return False
    rows_added = catalog_artifacts(session, job.id, artifacts, now)
    _record_event(session, job.id, rows_added)
    session.commit()
    return True


def catalog_artifacts(
    session: Session, job_id: str, artifacts: Sequence[PublishedArtifact], now: int
) -> list[ExportArtifactRow]:
    """The catalog rows of a job's published files, added to the caller's transaction."""
    rows = [
        ExportArtifactRow(
            id=new_id("artifact"),
            job_id=job_id,
            filename=a.filename,
            path=a.path,
            content_type=a.content_type,
            byte_size=a.byte_size,
            row_count=a.row_count,
            sha256=a.sha256,
            created_at=now,
            partial=a.partial,
        )
        for a in artifacts
    ]
    session.add_all(rows)
    _add_to_totals(session, artifacts)
    return rows


def _add_to_totals(session: Session, artifacts: Sequence[PublishedArtifact]) -> None:
    """The output counters, in the transaction that publishes the files (so a rolled-back
    publication counts nothing). One row: a concurrent publication waits for this commit."""
    if not artifacts:
        return
    added = {
        "files": len(artifacts),
        "rows_written": sum(a.row_count for a in artifacts),
        "bytes_written": sum(a.byte_size for a in artifacts),
    }
    result = session.execute(
        update(ExportTotalsRow)
        .where(ExportTotalsRow.id == EXPORT_TOTALS_ID)
        .values({name: getattr(ExportTotalsRow, name) + n for name, n in added.items()})
    )
    if rows_changed(result) == 0:  # a store made without the migration's first row
        session.add(ExportTotalsRow(id=EXPORT_TOTALS_ID, **added))


def _record_event(
    session: Session, job_id: str, artifacts: list[ExportArtifactRow] | None = None
) -> None:
    """The terminal state's notification, in the transaction that reached it (the outbox)."""
    row = session.get(ExportJobRow, job_id, populate_existing=True)
    assert row is not None
    record_job_event(session, row, artifacts)


def time_limit_reason(limit_seconds: float) -> str:
    """The reason of a job failed for running too long (by its worker or by the sweeper)."""
    shown = int(limit_seconds) if float(limit_seconds).is_integer() else limit_seconds
    return f"export exceeded the time limit of {shown} s"


class TimeLimitExceeded(Exception):
    """The job ran longer than `job_timeout_seconds`: it fails with this message."""


def time_limit_check(limit: float) -> Callable[[], None]:
    """A check to call often while the job runs (each progress callback): raises
    TimeLimitExceeded once `limit` seconds have passed since this attempt started."""
    deadline = time.monotonic() + limit

    def check() -> None:
        if time.monotonic() > deadline:
            raise TimeLimitExceeded(time_limit_reason(limit))

    return check


def release(session: Session, job: ClaimedJob) -> None:
    """Hand a running job back (graceful shutdown, transient error): it will be claimed again."""
    job_rows.release(session, ExportJobRow, job.id, job.claim_token)
