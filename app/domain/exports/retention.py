"""The end of an export job's life: expiry after the retention period, and the wall-clock limit
enforced by the sweeper when no worker is left to enforce it.

Each change is a conditional UPDATE/DELETE committed before any file is touched: the database
says what exists, so a download link stops working the moment the row changes, and files are
removed afterwards (idempotently: a pass that dies half-way is finished by the next one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.engine import rows_changed
from app.db.models import ExportArtifactRow, ExportJobRow
from app.domain.exports.runs import time_limit_reason
from app.domain.exports.status import JobStatus
from app.domain.notifications.events import record_job_event
from app.storage import remove_job_files
from engine.timestamps import now_ns

BATCH = 200  # jobs per sweeper step; the next pass takes the rest


@dataclass(frozen=True)
class JobRef:
    """A job that changed, for the event that tells subscribers."""

    id: str
    workspace_id: str
    status: str


async def fail_overdue(session: AsyncSession, settings: Settings) -> list[JobRef]:
    """RUNNING jobs started longer ago than the time limit plus the time after which a silent
    worker counts as dead: a live worker fails its own job at the limit, so these have none."""
    now = now_ns()
    grace = settings.job_timeout_seconds + settings.heartbeat_stale_seconds
    overdue = (ExportJobRow.status == JobStatus.RUNNING.value) & (
        ExportJobRow.started_at < now - int(grace * 1e9)
    )
    rows = (
        await session.execute(
            select(ExportJobRow.id, ExportJobRow.workspace_id).where(overdue).limit(BATCH)
        )
    ).all()
    changed = await _transition(
        session,
        rows,
        overdue,
        status=JobStatus.FAILED.value,
        reason=time_limit_reason(settings.job_timeout_seconds),
        finished_at=now,
    )
    for row in changed:  # partial files of the attempt that was cut off
        await asyncio.to_thread(remove_job_files, settings, row.id)
    return [JobRef(r.id, r.workspace_id, JobStatus.FAILED.value) for r in changed]


async def _transition(
    session: AsyncSession, rows: Sequence[Any], condition: Any, **values: Any
) -> list[Any]:
    """Update each row only if `condition` still holds; the rows that really changed. Another
    gateway's sweeper or a worker re-claiming a job may have won in between."""
    changed = []
    for row in rows:
        result = await session.execute(
            update(ExportJobRow)
            .where(ExportJobRow.id == row.id, condition)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(result) == 1:
            changed.append(row)
            job = await session.get(ExportJobRow, row.id, populate_existing=True)
            if job is not None:  # told in the same transaction (the outbox)
                record_job_event(session, job)
    await session.commit()
    return changed


async def expire_due(session: AsyncSession, settings: Settings) -> list[JobRef]:
    """SUCCEEDED jobs past `expires_at` become EXPIRED: their links stop working at once
    (downloads need a SUCCEEDED job) and `purge_expired_files` deletes the files."""
    now = now_ns()
    # Jobs that succeeded before retention existed (or on an older worker) get a deadline.
    await session.execute(
        update(ExportJobRow)
        .where(
            ExportJobRow.status == JobStatus.SUCCEEDED.value,
            ExportJobRow.expires_at.is_(None),
            ExportJobRow.finished_at.is_not(None),
        )
        .values(expires_at=ExportJobRow.finished_at + int(settings.retention_seconds * 1e9))
        .execution_options(synchronize_session=False)
    )
    due = (ExportJobRow.status == JobStatus.SUCCEEDED.value) & (ExportJobRow.expires_at <= now)
    rows = (
        await session.execute(
            select(ExportJobRow.id, ExportJobRow.workspace_id).where(due).limit(BATCH)
        )
    ).all()
    await session.commit()
    changed = await _transition(session, rows, due, status=JobStatus.EXPIRED.value)
    return [JobRef(r.id, r.workspace_id, JobStatus.EXPIRED.value) for r in changed]


async def purge_expired_files(session: AsyncSession, settings: Settings) -> int:
    """Delete the files of EXPIRED jobs (and the partial files of FAILED jobs past their
    retention), then their artifact rows (so a pass that dies between the two is repeated by
    the next). Returns how many jobs were purged."""
    partial_past_retention = (ExportJobRow.status == JobStatus.FAILED.value) & (
        ExportJobRow.expires_at <= now_ns()
    )
    rows = (
        await session.execute(
            select(ExportArtifactRow.job_id, ExportArtifactRow.path)
            .join(ExportJobRow, ExportJobRow.id == ExportArtifactRow.job_id)
            .where((ExportJobRow.status == JobStatus.EXPIRED.value) | partial_past_retention)
            .limit(BATCH * 4)
        )
    ).all()
    paths: dict[str, list[str]] = {}
    for job_id, path in rows:
        paths.setdefault(job_id, []).append(path)
    for job_id, job_paths in paths.items():
        await asyncio.to_thread(remove_job_files, settings, job_id, job_paths)
    if paths:
        await session.execute(
            delete(ExportArtifactRow).where(ExportArtifactRow.job_id.in_(list(paths)))
        )
        await session.commit()
    return len(paths)
