"""Finding jobs nobody works on (lost wake-ups, dead workers, an embedded gateway restarted),
for both kinds of job: exports and imports share the claim columns (status, heartbeat_at,
created_at, claim_token)."""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ExportJobRow, ExportPartRow
from app.domain.exports.status import ACTIVE, JobStatus
from app.domain.job_rows import JobTable
from engine.timestamps import now_ns


async def stale_jobs(
    session: AsyncSession, table: JobTable, *, heartbeat_before: int, queued_before: int
) -> list[str]:
    """Jobs to wake again: RUNNING with a stopped heartbeat, QUEUED and waiting too long."""
    rows = await session.scalars(
        select(table.id).where(
            or_(
                (table.status == JobStatus.RUNNING.value) & (table.heartbeat_at < heartbeat_before),
                (table.status == JobStatus.QUEUED.value)
                & (table.created_at < queued_before)
                & or_(table.heartbeat_at.is_(None), table.heartbeat_at < queued_before),
            )
        )
    )
    return list(rows)


async def mark_requeued(session: AsyncSession, table: JobTable, job_ids: list[str]) -> None:
    """Remember when a queued job was last woken, so the sweeper does not flood the broker."""
    if job_ids:
        await session.execute(
            update(table)
            .where(table.id.in_(job_ids), table.status == JobStatus.QUEUED.value)
            .values(heartbeat_at=now_ns())
        )
        await session.commit()


async def requeue_unfinished(session: AsyncSession, table: JobTable) -> list[str]:
    """Embedded start-up only: orphaned RUNNING jobs go back to QUEUED; returns all unfinished."""
    await session.execute(
        update(table)
        .where(table.status == JobStatus.RUNNING.value)
        .values(status=JobStatus.QUEUED.value, claim_token=None)
    )
    if table is ExportJobRow:  # their parts too: claimed again at once, not once stale
        await session.execute(
            update(ExportPartRow)
            .where(ExportPartRow.status == JobStatus.RUNNING.value)
            .values(status=JobStatus.QUEUED.value, claim_token=None)
        )
    await session.commit()
    rows = await session.scalars(select(table.id).where(table.status.in_(ACTIVE)))
    return list(rows)


async def stale_parts(
    session: AsyncSession, *, heartbeat_before: int, queued_before: int
) -> list[str]:
    """Export jobs (still RUNNING) with a part to wake again: RUNNING with a stopped heartbeat
    (its worker died while the others kept the job's heartbeat going), or QUEUED and waiting
    too long (a lost wake-up). A wake-up of the job claims such a part. The parts woken for
    waiting are marked, so that the next pass does not wake them again at once."""
    waiting = (
        (ExportPartRow.status == JobStatus.QUEUED.value)
        & (ExportPartRow.created_at < queued_before)
        & or_(ExportPartRow.heartbeat_at.is_(None), ExportPartRow.heartbeat_at < queued_before)
    )
    silent = (ExportPartRow.status == JobStatus.RUNNING.value) & (
        ExportPartRow.heartbeat_at < heartbeat_before
    )
    rows = await session.scalars(
        select(ExportPartRow.job_id)
        .join(ExportJobRow, ExportJobRow.id == ExportPartRow.job_id)
        .where(ExportJobRow.status == JobStatus.RUNNING.value, or_(waiting, silent))
        .distinct()
    )
    job_ids = list(rows)
    if job_ids:
        await session.execute(
            update(ExportPartRow)
            .where(ExportPartRow.job_id.in_(job_ids), waiting)
            .values(heartbeat_at=now_ns())
        )
        await session.commit()
    return job_ids
