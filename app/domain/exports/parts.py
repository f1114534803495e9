"""Exports run in parts: an export split by period (`split.by`) or per datastream (a
many-stream export with `split.perDatastream`) is cut, when a worker first claims it, into
parts whose boundaries are known before anything runs: a range of whole periods, of one
datastream or of all of them. Any worker runs any part; the job finishes when the last part
does, by whichever worker finished it. Blocking SQLAlchemy, like `runs`.

A part is claimed by the rules of jobs (`job_rows`: QUEUED, or RUNNING with a stale
heartbeat, by a conditional update). Its progress is its heartbeat and the job's: the job's
rows, bytes and records read are the sums of its parts'. A finished part keeps its files
(listed in the part row) across crashes; only unfinished parts run again. The job reaches a
terminal state once, with a conditional update on its status (RUNNING, and for success no
part unfinished).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import Session

from app.db.engine import rows_changed
from app.db.models import ExportJobRow, ExportPartRow, SegmentRow
from app.domain import job_rows
from app.domain.exports.progress import raised_fraction
from app.domain.exports.runs import (
    ClaimedJob,
    ClaimLost,
    PublishedArtifact,
    catalog_artifacts,
    claimed_job,
)
from app.domain.exports.status import JobStatus
from app.domain.notifications.events import record_job_event
from engine.export import Progress, period_bounds
from engine.options import ExportOptions
from engine.timestamps import now_ns

# More parts than this would cost more in claims and scans than they save: consecutive periods
# are grouped (a part may hold several periods; each still gets its own files).
MAX_PARTS = 128


@dataclass(frozen=True)
class PartRange:
    start_ns: int
    end_ns: int
    stream_index: int | None = None


@dataclass(frozen=True)
class ClaimedPart:
    id: str
    job: ClaimedJob  # its claim_token is the part's
    seq: int
    start_ns: int
    end_ns: int
    stream_index: int | None
    job_started_at: int  # the time limit counts from the job's start, not the part's


def plan(session: Session, job: ExportJobRow) -> list[PartRange] | None:
    """The parts of `job`, or None when it runs as one piece: unsplit, or split only by
    size (a file's end is known only while writing), or with a row limit, decimation or the
    WIDE layout (rows or buckets that cross part boundaries), or when it would be one part.

    Period parts are cut at the period boundaries inside the time the job's segments cover
    (an export of "everything" is not a million empty hours); the first part starts at the
    job's start and the last ends at its end, so that each part names its files as the whole
    export would."""
    options = ExportOptions.from_json(job.format, job.options or {})
    split = options.split
    if split is None or options.limit is not None or options.decimation is not None:
        return None
    if options.layout == "WIDE" or split.max_bytes_per_file is not None:
        return None  # a file's size is learned from the files before it
    stream_ids = job.datastream_ids or [job.datastream_id]
    per_stream = split.per_datastream and len(stream_ids) > 1
    if split.by is None and not per_stream:
        return None
    bounds = [job.start_ns, job.end_ns]
    if split.by:
        low, high = session.execute(
            select(func.min(SegmentRow.min_ts), func.max(SegmentRow.max_ts)).where(
                SegmentRow.datastream_id.in_(stream_ids),
                SegmentRow.max_ts >= job.start_ns,
                SegmentRow.min_ts < job.end_ns,
                SegmentRow.retired_at.is_(None),
            )
        ).one()
        if low is not None and high is not None:
            low, high = max(low, job.start_ns), min(high + 1, job.end_ns)
            inner = period_bounds(low, high, split.by)[1:-1]
            bounds = [job.start_ns, *inner, job.end_ns]
    groups = max(1, MAX_PARTS // (len(stream_ids) if per_stream else 1))
    step = -(-(len(bounds) - 1) // groups)  # periods per part, rounded up
    cuts = bounds[::step]
    if cuts[-1] != bounds[-1]:
        cuts.append(bounds[-1])
    ranges = list(itertools.pairwise(cuts))
    if per_stream:
        parts = [PartRange(a, b, index) for index in range(len(stream_ids)) for a, b in ranges]
    else:
        parts = [PartRange(a, b) for a, b in ranges]
    return parts if len(parts) > 1 else None


def begin(session: Session, job_id: str, stale_before_ns: int) -> int | None:
    """Claim the job itself (QUEUED, or RUNNING with every part silent) and create its parts
    if it has none yet; the number of parts left to run, or None if the job was not ours to
    claim (its parts are then someone else's or done)."""
    token = job_rows.claim(session, ExportJobRow, job_id, stale_before_ns)
    if token is None:
        return None
    job = session.get(ExportJobRow, job_id)
    assert job is not None
    has_parts = session.scalar(select(exists().where(ExportPartRow.job_id == job_id)))
    if not has_parts:
        now = now_ns()
        session.add_all(
            ExportPartRow(
                id=f"{job_id}:{seq:05d}",
                job_id=job_id,
                seq=seq,
                start_ns=part.start_ns,
                end_ns=part.end_ns,
                stream_index=part.stream_index,
                status=JobStatus.QUEUED.value,
                created_at=now,
                rows_written=0,
                bytes_written=0,
                attempts=0,
            )
            for seq, part in enumerate(plan(session, job) or [])
        )
    _sum_progress(session, job_id)
    session.commit()
    left = session.scalar(
        select(func.count())
        .select_from(ExportPartRow)
        .where(ExportPartRow.job_id == job_id, ExportPartRow.status != JobStatus.SUCCEEDED.value)
    )
    return int(left or 0)


def has_parts(session: Session, job_id: str) -> bool:
    return bool(session.scalar(select(exists().where(ExportPartRow.job_id == job_id))))


def claim(session: Session, job_id: str, stale_before_ns: int) -> ClaimedPart | None:
    """Take the first part of a RUNNING job that is QUEUED or whose worker went silent."""
    job = session.get(ExportJobRow, job_id)
    if job is None or job.status != JobStatus.RUNNING.value:
        return None
    candidates = session.scalars(
        select(ExportPartRow.id)
        .where(
            ExportPartRow.job_id == job_id,
            or_(
                ExportPartRow.status == JobStatus.QUEUED.value,
                (ExportPartRow.status == JobStatus.RUNNING.value)
                & (ExportPartRow.heartbeat_at < stale_before_ns),
            ),
        )
        .order_by(ExportPartRow.seq)
    ).all()
    for part_id in candidates:
        token = job_rows.claim(
            session,
            ExportPartRow,
            part_id,
            stale_before_ns,
            rows_written=0,
            bytes_written=0,
            records_read=0,
        )
        if token is None:
            continue  # another worker took it first
        part = session.get(ExportPartRow, part_id, populate_existing=True)
        row = session.get(ExportJobRow, job_id, populate_existing=True)
        assert part is not None and row is not None
        return ClaimedPart(
            id=part.id,
            job=claimed_job(session, row, token),
            seq=part.seq,
            start_ns=part.start_ns,
            end_ns=part.end_ns,
            stream_index=part.stream_index,
            job_started_at=row.started_at or now_ns(),
        )
    return None


def _owned(part: ClaimedPart) -> Any:
    return job_rows.owned(ExportPartRow, part.id, part.job.claim_token)


def _parts_sum(column: Any, job_id: str) -> Any:
    return (
        select(func.coalesce(func.sum(column), 0))
        .where(ExportPartRow.job_id == job_id)
        .scalar_subquery()
    )


def _sum_progress(session: Session, job_id: str) -> int:
    """The job's rows, bytes and records read become its parts' sums (the records in range
    are the whole job's, counted at creation), its fraction rises with them, and its heartbeat
    is now: one UPDATE of the job's row."""
    records_read = _parts_sum(ExportPartRow.records_read, job_id)
    result = session.execute(
        update(ExportJobRow)
        .where(ExportJobRow.id == job_id, ExportJobRow.status == JobStatus.RUNNING.value)
        .values(
            rows_written=_parts_sum(ExportPartRow.rows_written, job_id),
            bytes_written=_parts_sum(ExportPartRow.bytes_written, job_id),
            records_read=records_read,
            fraction=raised_fraction(
                ExportJobRow.fraction, records_read, ExportJobRow.records_total
            ),
            heartbeat_at=now_ns(),
        )
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result)


def record_progress(session: Session, part: ClaimedPart, progress: Progress) -> None:
    """The part's heartbeat and the job's (one UPDATE of each row); raises ClaimLost when
    the part is no longer ours or the job stopped (canceled, failed by another part, past its
    time limit)."""
    result = session.execute(
        update(ExportPartRow)
        .where(_owned(part))
        .values(
            rows_written=progress.rows_written,
            bytes_written=progress.bytes_written,
            records_read=progress.records_read,
            heartbeat_at=now_ns(),
        )
        .execution_options(synchronize_session=False)
    )
    job_running = _sum_progress(session, part.job.id)
    session.commit()
    if rows_changed(result) != 1 or job_running != 1:
        raise ClaimLost(part.id)


def succeed(
    session: Session, part: ClaimedPart, files: Sequence[dict[str, Any]], records_read: int
) -> bool:
    """The part is done and its files recorded; False if it was no longer ours."""
    rows = sum(int(f["row_count"]) for f in files)
    byte_count = sum(int(f["byte_size"]) for f in files)
    now = now_ns()
    result = session.execute(
        update(ExportPartRow)
        .where(_owned(part))
        .values(
            status=JobStatus.SUCCEEDED.value,
            files=list(files),
            rows_written=rows,
            bytes_written=byte_count,
            records_read=records_read,
            finished_at=now,
            heartbeat_at=now,
        )
    )
    if rows_changed(result) != 1:
        session.rollback()
        return False
    _sum_progress(session, part.job.id)
    session.commit()
    return True


def release(session: Session, part: ClaimedPart) -> None:
    """Hand a running part back (graceful shutdown, transient error)."""
    job_rows.release(session, ExportPartRow, part.id, part.job.claim_token)


def finished_files(session: Session, job_id: str) -> list[dict[str, Any]] | None:
    """Every part's files in order when all parts SUCCEEDED and the job still runs; else None."""
    job = session.get(ExportJobRow, job_id, populate_existing=True)
    if job is None or job.status != JobStatus.RUNNING.value:
        return None
    rows = session.scalars(
        select(ExportPartRow).where(ExportPartRow.job_id == job_id).order_by(ExportPartRow.seq)
    ).all()
    if not rows or any(r.status != JobStatus.SUCCEEDED.value for r in rows):
        return None
    return [f for r in rows for f in (r.files or [])]


def kept_files(session: Session, job_id: str) -> list[tuple[int, list[dict[str, Any]]]]:
    """The files of the parts that finished, by part (what a failed job may keep)."""
    rows = session.scalars(
        select(ExportPartRow)
        .where(ExportPartRow.job_id == job_id, ExportPartRow.status == JobStatus.SUCCEEDED.value)
        .order_by(ExportPartRow.seq)
    ).all()
    return [(r.seq, list(r.files or [])) for r in rows]


def take_success(session: Session, job_id: str, retention_seconds: float) -> bool:
    """Mark the job SUCCEEDED, if it still runs and every part is done; once, whoever asks
    (the update waits for and then re-checks a concurrent one). The transaction stays open
    for `add_artifacts` and the commit; False (rolled back) if someone else got there."""
    unfinished = exists().where(
        ExportPartRow.job_id == job_id, ExportPartRow.status != JobStatus.SUCCEEDED.value
    )
    now = now_ns()
    result = session.execute(
        update(ExportJobRow)
        .where(
            ExportJobRow.id == job_id,
            ExportJobRow.status == JobStatus.RUNNING.value,
            ~unfinished,
        )
        .values(
            status=JobStatus.SUCCEEDED.value,
            fraction=1.0,
            finished_at=now,
            heartbeat_at=now,
            expires_at=now + int(retention_seconds * 1e9),
        )
        .execution_options(synchronize_session=False)
    )
    if rows_changed(result) != 1:
        session.rollback()
        return False
    return True


def take_failure(session: Session, part: ClaimedPart, reason: str) -> bool:
    """The part FAILED and with it the job, if it still runs (once). The transaction stays
    open for the kept files and the commit; False (rolled back) if the job had ended, or if
    the part is no longer this worker's (another took it over)."""
    now = now_ns()
    owned = session.execute(
        update(ExportPartRow)
        .where(_owned(part))
        .values(status=JobStatus.FAILED.value, finished_at=now, heartbeat_at=now)
    )
    if rows_changed(owned) != 1:  # taken over: the part's new owner decides, not this worker
        session.rollback()
        return False
    result = session.execute(
        update(ExportJobRow)
        .where(ExportJobRow.id == part.job.id, ExportJobRow.status == JobStatus.RUNNING.value)
        .values(status=JobStatus.FAILED.value, reason=reason[:2000], finished_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(result) != 1:
        session.rollback()
        return False
    return True


def add_artifacts(
    session: Session,
    job_id: str,
    artifacts: Sequence[PublishedArtifact],
    retention_seconds: float | None = None,
) -> None:
    """List the job's files (in order), set its totals from them, tell its terminal state,
    and commit: the end of `take_success` or `take_failure`."""
    now = now_ns()
    values: dict[str, Any] = {
        "rows_written": sum(a.row_count for a in artifacts),
        "bytes_written": sum(a.byte_size for a in artifacts),
    }
    if retention_seconds is not None and artifacts:
        values["expires_at"] = now + int(retention_seconds * 1e9)
    if artifacts:
        session.execute(
            update(ExportJobRow)
            .where(ExportJobRow.id == job_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    rows = catalog_artifacts(session, job_id, artifacts, now)
    job = session.get(ExportJobRow, job_id, populate_existing=True)
    assert job is not None
    record_job_event(session, job, rows)
    session.commit()


def job_status(session: Session, job_id: str) -> str | None:
    return session.scalar(select(ExportJobRow.status).where(ExportJobRow.id == job_id))


def used_directories(session: Session, job_id: str) -> set[str]:
    """The attempt directories (relative paths' parents) whose files a part recorded."""
    rows = session.scalars(select(ExportPartRow.files).where(ExportPartRow.job_id == job_id))
    return {str(f["path"]).rsplit("/", 1)[0] for files in rows for f in (files or [])}
