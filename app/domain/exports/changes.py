"""What changed in a workspace's export jobs after a point in time, for subscriptions that
resume (`since`): the jobs whose row changed, and tombstones of the jobs deleted.

Every UPDATE of a job row bumps its `revision` and sets `updated_at` (the writer's clock, see
the model); a deletion leaves a tombstone with the job's last state, one revision further, kept
for the retention period. Writers' clocks and the time between a change and its commit can put
a change's `updated_at` a little before one a client has already seen, so a replay reaches back
`REPLAY_MARGIN_NS` before `since`: it may repeat jobs the client has, never miss one. Clients
keep the state with the higher revision.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import ExportJobRow, ExportJobTombstoneRow
from app.domain.auth import Principal
from app.domain.errors import ErrorCode, user_error
from app.domain.exports.status import ACTIVE
from engine.timestamps import now_ns

# How far before `since` a replay reaches (clock skew between writers, commit delays).
REPLAY_MARGIN_NS = 60 * 10**9
# Tombstones removed per sweeper pass.
PURGE_BATCH = 1000


def replay_from(settings: Settings, since: int) -> int:
    """The time a replay `since` starts at; INVALID_ARGUMENT (field `since`) when deletions
    before it may already be forgotten (tombstones are kept for the retention period)."""
    horizon = now_ns() - int(settings.retention_seconds * 1e9)
    if since < horizon:
        raise user_error(
            ErrorCode.INVALID_ARGUMENT,
            "since",
            "since is older than the retention period, so deletions since then may be "
            "forgotten: reload the jobs (exportJobs) and subscribe without since",
        )
    return since - REPLAY_MARGIN_NS


async def changed_jobs(session: AsyncSession, who: Principal, after: int) -> list[ExportJobRow]:
    """The workspace's jobs whose row changed at or after `after`, and those still queued or
    running (whose current state a subscription starts with anyway), in one query."""
    rows = await session.scalars(
        select(ExportJobRow).where(
            ExportJobRow.workspace_id == who.workspace_id,
            or_(ExportJobRow.updated_at >= after, ExportJobRow.status.in_(ACTIVE)),
        )
    )
    return list(rows)


async def deleted_since(
    session: AsyncSession, who: Principal, after: int
) -> list[ExportJobTombstoneRow]:
    rows = await session.scalars(
        select(ExportJobTombstoneRow).where(
            ExportJobTombstoneRow.workspace_id == who.workspace_id,
            ExportJobTombstoneRow.deleted_at >= after,
        )
    )
    return list(rows)


async def tombstone_any_workspace(
    session: AsyncSession, job_id: str
) -> ExportJobTombstoneRow | None:
    """For a read shared by several workspaces' subscribers: each checks the workspace."""
    return await session.get(ExportJobTombstoneRow, job_id)


def bury(session: AsyncSession, job: ExportJobRow) -> None:
    """Add the tombstone of `job`, about to be deleted, to the caller's transaction: its last
    state, one revision further, changed now."""
    now = now_ns()
    state: dict[str, Any] = {
        column.key: getattr(job, column.key) for column in ExportJobRow.__mapper__.column_attrs
    }
    state.update(revision=job.revision + 1, updated_at=now)
    session.add(
        ExportJobTombstoneRow(
            job_id=job.id, workspace_id=job.workspace_id, deleted_at=now, last_state=state
        )
    )


def last_state(tombstone: ExportJobTombstoneRow) -> ExportJobRow:
    """The deleted job as it was (a detached row, never added to a session)."""
    return ExportJobRow(**tombstone.last_state)


async def purge_tombstones(session: AsyncSession, settings: Settings) -> int:
    """Forget deletions older than the retention period (a `since` that old is refused)."""
    horizon = now_ns() - int(settings.retention_seconds * 1e9)
    old = select(ExportJobTombstoneRow.job_id).where(ExportJobTombstoneRow.deleted_at < horizon)
    ids = list(await session.scalars(old.limit(PURGE_BATCH)))
    if ids:
        await session.execute(
            delete(ExportJobTombstoneRow).where(ExportJobTombstoneRow.job_id.in_(ids))
        )
        await session.commit()
    return len(ids)
