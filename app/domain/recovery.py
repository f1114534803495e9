"""Finding jobs nobody works on (lost wake-ups, dead workers, an embedded gateway restarted),
for both kinds of job: exports and imports share the claim columns (status, heartbeat_at,
created_at, claim_token)."""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

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
    await session.commit()
    rows = await session.scalars(select(table.id).where(table.status.in_(ACTIVE)))
    return list(rows)
