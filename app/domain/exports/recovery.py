"""Finding jobs nobody works on: lost wake-ups, dead workers, an embedded gateway restarted."""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ExportJobRow
from app.domain.exports.status import ACTIVE, JobStatus
from engine.timestamps import now_ns


async def stale_jobs(
    session: AsyncSession, *, heartbeat_before: int, queued_before: int
) -> list[str]:
    """Jobs to wake again: RUNNING with a stopped heartbeat, QUEUED and waiting too long."""
    rows = await session.scalars(
        select(ExportJobRow.id).where(
            or_(
                (ExportJobRow.status == JobStatus.RUNNING.value)
                & (ExportJobRow.heartbeat_at < heartbeat_before),
                (ExportJobRow.status == JobStatus.QUEUED.value)
                & (ExportJobRow.created_at < queued_before)
                & or_(
                    ExportJobRow.heartbeat_at.is_(None), ExportJobRow.heartbeat_at < queued_before
                ),
            )
        )
    )
    return list(rows)


async def mark_requeued(session: AsyncSession, job_ids: list[str]) -> None:
    """Remember when a queued job was last woken, so the sweeper does not flood the broker."""
    if job_ids:
        await session.execute(
            update(ExportJobRow)
            .where(ExportJobRow.id.in_(job_ids), ExportJobRow.status == JobStatus.QUEUED.value)
            .values(heartbeat_at=now_ns())
        )
        await session.commit()


async def requeue_unfinished(session: AsyncSession) -> list[str]:
    """Embedded start-up only: orphaned RUNNING jobs go back to QUEUED; returns all unfinished."""
    await session.execute(
        update(ExportJobRow)
        .where(ExportJobRow.status == JobStatus.RUNNING.value)
        .values(status=JobStatus.QUEUED.value, claim_token=None)
    )
    await session.commit()
    rows = await session.scalars(select(ExportJobRow.id).where(ExportJobRow.status.in_(ACTIVE)))
    return list(rows)
