"""Commands on export jobs: create (validated, idempotent, capped), cancel, delete.

Each owns its transaction and, once it has committed, wakes a worker or tells subscribers
through the runtime's effects: the job row is the truth, a broker message only a wake-up."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import ExportArtifactRow, ExportJobRow, ExportPartRow, WorkspaceRow
from app.domain import job_rows
from app.domain.auth import Principal, Role, require
from app.domain.catalog import estimate_rows, segments_in_range_async
from app.domain.errors import DomainError, ErrorCode, Problem, user_error
from app.domain.exports.changes import bury
from app.domain.exports.queries import get_export
from app.domain.exports.requests import ExportRequest, validate_export
from app.domain.exports.status import ACTIVE, JobStatus
from app.domain.runtime import JobEvent, Runtime
from app.ids import new_id
from app.storage import remove_job_files
from engine.timestamps import now_ns


async def create_export(
    runtime: Runtime, who: Principal, request: ExportRequest
) -> tuple[ExportJobRow, bool]:
    """Validate and record a job, then wake a worker for it.

    Returns (job, created); created is False when an idempotency key replays an earlier job.
    """
    require(who, Role.MEMBER, ("input",))
    async with runtime.sessions() as session:
        job, created = await _record(session, runtime.settings, who, request)
    if created:
        runtime.effects.wake_export(job.id)
        runtime.effects.publish(JobEvent(job.id, job.workspace_id, job.status))
    return job, created


async def _record(
    session: AsyncSession, settings: Settings, who: Principal, request: ExportRequest
) -> tuple[ExportJobRow, bool]:
    checked = await validate_export(session, settings, who, request)
    key = request.idempotency_key
    datastream, schema = checked.datastream, checked.schema
    start_ns, end_ns, fingerprint = checked.start_ns, checked.end_ns, checked.fingerprint
    if key is not None:
        existing = await _by_idempotency_key(session, who.workspace_id, key)
        if existing is not None:
            return _replayed(existing, fingerprint), False
    await _check_active_cap(session, who, key, settings)
    estimated = 0
    for stream in checked.datastreams:
        segments = await segments_in_range_async(session, stream.id, start_ns, end_ns)
        estimated += estimate_rows(segments, start_ns, end_ns)
    job = ExportJobRow(
        id=new_id("export_job"),
        workspace_id=who.workspace_id,
        datastream_id=datastream.id,
        datastream_ids=[d.id for d in checked.datastreams] if checked.many else None,
        status=JobStatus.QUEUED.value,
        schema_name=schema.name,
        schema_snapshot=checked.snapshot,
        schema_id=schema.id,
        schema_version=schema.version,
        options=checked.options.to_json(),
        format=checked.format,
        compression=checked.compression,
        start_ns=start_ns,
        end_ns=end_ns,
        idempotency_key=key,
        request_fingerprint=fingerprint,
        created_at=now_ns(),
        rows_written=0,
        bytes_written=0,
        attempts=0,
        records_total=estimated,
        records_read=0,
        fraction=0.0,
        keep_partial=request.keep_partial,
    )
    session.add(job)
    try:
        await session.commit()
    except IntegrityError:
        # A concurrent create with the same idempotency key won the race.
        await session.rollback()
        existing = await _by_idempotency_key(session, who.workspace_id, key or "")
        if existing is None:
            raise
        return _replayed(existing, fingerprint), False
    return job, True


def _replayed(job: ExportJobRow, fingerprint: str) -> ExportJobRow:
    if job.request_fingerprint != fingerprint:
        raise user_error(
            ErrorCode.CONFLICT,
            "input.idempotencyKey",
            f"idempotencyKey was already used for a different request ({job.id})",
        )
    return job


# retryAfter when no running job of the workspace gives a basis for an estimate, and bounds.
DEFAULT_RETRY_AFTER_SECONDS = 10.0


MAX_RETRY_AFTER_SECONDS = 300.0


async def _check_active_cap(
    session: AsyncSession, who: Principal, key: str | None, settings: Settings
) -> None:
    """At most `max_active_exports` queued or running jobs per workspace: RATE_LIMITED beyond.

    The workspace row is locked first and held until the new job commits, so that two
    concurrent creates at cap-1 cannot both pass: SELECT ... FOR UPDATE on PostgreSQL, and on
    SQLite a no-op UPDATE, which takes the database's write lock (busy_timeout waits for it).
    """
    await _lock_workspace(session, who.workspace_id)
    active = (
        await session.execute(
            select(
                ExportJobRow.status,
                ExportJobRow.started_at,
                ExportJobRow.records_read,
                ExportJobRow.records_total,
            ).where(ExportJobRow.workspace_id == who.workspace_id, ExportJobRow.status.in_(ACTIVE))
        )
    ).all()
    if len(active) < settings.max_active_exports:
        return
    if key is not None and await _by_idempotency_key(session, who.workspace_id, key):
        return  # a concurrent request with this key won the race: the insert replays it
    raise DomainError(
        [
            Problem(
                ErrorCode.RATE_LIMITED,
                ("input",),
                f"this workspace already has {len(active)} queued or running exports, the "
                f"limit is {settings.max_active_exports}: retry when one of them has finished",
                retry_after=_retry_after(
                    active, now_ns(), settings, await _measured_throughput(session)
                ),
            )
        ]
    )


async def _lock_workspace(session: AsyncSession, workspace_id: str) -> None:
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(
            update(WorkspaceRow)
            .where(WorkspaceRow.id == workspace_id)
            .values(name=WorkspaceRow.name)
            .execution_options(synchronize_session=False)
        )
    else:
        await session.execute(
            select(WorkspaceRow.id).where(WorkspaceRow.id == workspace_id).with_for_update()
        )


def _retry_after(active: Sequence[Any], now: int, settings: Settings, throughput: float) -> float:
    """Seconds until the soonest running job is expected to finish: the records it still has
    to read at its own rate once it has one (a second of work), else at `throughput` (what
    recent jobs achieved); never beyond the time limit that stops it anyway; whole seconds
    between 1 and MAX_RETRY_AFTER_SECONDS. Records, not rows: a job's total is known in
    records (the catalog's), and unfolding makes rows many times more."""
    estimates = []
    for status, started_at, read, total in active:
        if status != JobStatus.RUNNING.value or started_at is None:
            continue
        elapsed = max(0.0, (now - started_at) / 1e9)
        rate = read / elapsed if read > 0 and elapsed >= 1 else throughput
        to_read = max(0, total - read)
        estimates.append(min(max(0.0, settings.job_timeout_seconds - elapsed), to_read / rate))
    seconds = min(estimates) if estimates else DEFAULT_RETRY_AFTER_SECONDS
    return float(min(max(math.ceil(seconds), 1), MAX_RETRY_AFTER_SECONDS))


# Records per second a job reads when nothing better is known (the engine does 300k-600k on
# two cores for the normalized trades of `make bench`; jobs vary, so this is cautious).
DEFAULT_THROUGHPUT = 100_000.0
THROUGHPUT_SAMPLE = 20


async def _measured_throughput(session: AsyncSession) -> float:
    """The median records per second of the latest jobs that succeeded with some work to do."""
    duration = ExportJobRow.finished_at - ExportJobRow.started_at
    recent = (
        await session.execute(
            select(ExportJobRow.records_read, duration)
            .where(
                ExportJobRow.status == JobStatus.SUCCEEDED.value,
                ExportJobRow.records_read >= 1_000,
                duration > 0,
            )
            .order_by(ExportJobRow.finished_at.desc())
            .limit(THROUGHPUT_SAMPLE)
        )
    ).all()
    rates = sorted(records / (ns / 1e9) for records, ns in recent if ns)
    return rates[len(rates) // 2] if rates else DEFAULT_THROUGHPUT


async def _by_idempotency_key(
    session: AsyncSession, workspace_id: str, key: str
) -> ExportJobRow | None:
    return (
        await session.scalars(
            select(ExportJobRow).where(
                ExportJobRow.workspace_id == workspace_id, ExportJobRow.idempotency_key == key
            )
        )
    ).first()


async def cancel_export(runtime: Runtime, who: Principal, job_id: str) -> ExportJobRow:
    """Stop a queued or running job; its worker notices at its next progress update."""
    require(who, Role.MEMBER, ("input",))
    async with runtime.sessions() as session:
        job = await _cancel(session, who, job_id)
    runtime.effects.publish(JobEvent(job.id, job.workspace_id, job.status))
    return job


async def _cancel(session: AsyncSession, who: Principal, job_id: str) -> ExportJobRow:
    job = await get_export(session, who, job_id)
    if job is None:
        raise user_error(ErrorCode.NOT_FOUND, "input.id", f"no export job {job_id!r}")
    await job_rows.cancel(session, ExportJobRow, job)
    return job


async def delete_export(runtime: Runtime, who: Principal, job_id: str) -> str:
    """Remove a job, its artifacts and its files at once, whatever its state; returns its id.

    A running job is stopped as by cancelExport: its worker loses the claim (the row is gone)
    at its next progress update and deletes its partial file itself.
    """
    require(who, Role.MEMBER, ("input",))
    async with runtime.sessions() as session:
        job, paths = await _delete(session, who, job_id)
    await asyncio.to_thread(remove_job_files, runtime.settings, job.id, paths)
    runtime.effects.publish(JobEvent(job.id, job.workspace_id, "DELETED"))
    return job.id


async def _delete(
    session: AsyncSession, who: Principal, job_id: str
) -> tuple[ExportJobRow, list[str]]:
    job = await get_export(session, who, job_id)
    if job is None:
        raise user_error(ErrorCode.NOT_FOUND, "input.id", f"no export job {job_id!r}")
    paths = list(
        await session.scalars(
            select(ExportArtifactRow.path).where(ExportArtifactRow.job_id == job.id)
        )
    )
    await session.execute(delete(ExportArtifactRow).where(ExportArtifactRow.job_id == job.id))
    await session.execute(delete(ExportPartRow).where(ExportPartRow.job_id == job.id))
    bury(session, job)  # for subscriptions that resume from before the deletion
    await session.execute(
        delete(ExportJobRow).where(
            ExportJobRow.id == job.id, ExportJobRow.workspace_id == who.workspace_id
        )
    )
    await session.commit()
    return job, paths
