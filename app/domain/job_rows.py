"""What export and import jobs share: the columns a worker claims them by (status,
claim_token, heartbeat_at, attempts), and the conditional updates on them. Under at-least-once
delivery a job has one owner at a time and exactly one terminal state, because every
transition matches the state (and the claim) it expects."""

from __future__ import annotations

import os
import secrets
import socket
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.db.engine import rows_changed
from app.db.models import ExportJobRow, ExportPartRow, ImportJobRow
from app.domain.errors import ErrorCode, user_error
from app.domain.exports.status import ACTIVE, JobStatus
from app.domain.notifications.events import record_job_event
from engine.timestamps import now_ns

# Export parts are claimed by the same rules as jobs.
JobTable = type[ExportJobRow] | type[ImportJobRow] | type[ExportPartRow]


def claim(
    session: Session, table: JobTable, job_id: str, stale_before_ns: int, **reset: int
) -> str | None:
    """Take a QUEUED job, or a RUNNING one whose worker stopped sending heartbeats; the new
    claim token, or None if the job is not to be had. `reset`: progress columns to zero."""
    token, now = secrets.token_hex(8), now_ns()
    result = session.execute(
        update(table)
        .where(
            table.id == job_id,
            or_(
                table.status == JobStatus.QUEUED.value,
                (table.status == JobStatus.RUNNING.value) & (table.heartbeat_at < stale_before_ns),
            ),
        )
        .values(
            status=JobStatus.RUNNING.value,
            claim_token=token,
            heartbeat_at=now,
            started_at=now,
            claimed_by=f"{socket.gethostname()}:{os.getpid()}",
            attempts=table.attempts + 1,
            **reset,
        )
    )
    session.commit()
    return token if rows_changed(result) == 1 else None


def owned(table: JobTable, job_id: str, token: str) -> Any:
    """The job is still RUNNING under this claim: not canceled, deleted or taken over."""
    running = table.status == JobStatus.RUNNING.value
    return (table.id == job_id) & (table.claim_token == token) & running


def release(session: Session, table: JobTable, job_id: str, token: str) -> None:
    """Hand a running job back (graceful shutdown, transient error): it will be claimed again."""
    session.execute(
        update(table)
        .where(owned(table, job_id, token))
        .values(status=JobStatus.QUEUED.value, claim_token=None, heartbeat_at=now_ns())
    )
    session.commit()


async def cancel(session: AsyncSession, table: JobTable, job: ExportJobRow | ImportJobRow) -> None:
    """CANCELED if still queued or running (its worker notices at its next heartbeat);
    FAILED_PRECONDITION naming the state it is in otherwise."""
    result = await session.execute(
        update(table)
        .where(table.id == job.id, table.status.in_(ACTIVE))
        .values(status=JobStatus.CANCELED.value, reason="canceled by request", finished_at=now_ns())
    )
    if rows_changed(result) == 1:  # told in the same transaction (the outbox)
        await session.refresh(job)
        record_job_event(session, job)
    await session.commit()
    await session.refresh(job)
    if rows_changed(result) == 0:
        kind = "export" if table is ExportJobRow else "import"
        raise user_error(
            ErrorCode.FAILED_PRECONDITION,
            "input.id",
            f"{kind} job {job.id} is already {job.status} and cannot be canceled",
        )
