"""The scheduler of recurring exports: leader-free, run by every gateway in its sweeper loop
and by `python -m app scheduler`. Any number may run at once, and crash at any point, and
still each period of a schedule gets exactly one run and one export job:

1. A due period becomes a run row in the transaction that moves the schedule's cursor past
   it, with a conditional update (`WHERE cursor_ns = <the period's start>`): of two schedulers
   that saw the same cursor, one moves it, the other updates nothing and rolls back. A unique
   (schedule, period start) constraint backs this up.
2. A PENDING run gets its job through `create_export`, from the template the schedule had
   when the period became due (kept on the run), with an idempotency key derived from the
   schedule and the period, so a scheduler that crashed after creating the job and before
   recording it on the run finds the same job again, never a second one.
3. A run whose job has ended is settled; a job that FAILED (or could not be created) is
   `_run_failed`, the one place a run's failure is recorded.

The clock is a parameter: a scheduler whose clock jumps forward catches up on every missed
period in order (or only the latest, per schedule); one whose clock jumps back sees nothing
due, since the cursor never moves back."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import rows_changed
from app.db.models import ExportJobRow, ExportScheduleRow, ExportScheduleRunRow
from app.domain.auth import Principal, Role
from app.domain.errors import DomainError, ErrorCode
from app.domain.exports.commands import create_export
from app.domain.exports.status import ACTIVE, JobStatus
from app.domain.notifications.events import EventType, record_event
from app.domain.runtime import Runtime
from app.domain.schedules.commands import (
    CatchUp,
    RunStatus,
    ScheduleStatus,
    grid_of,
    next_run_at,
)
from app.domain.schedules.templates import first_problem_text, request_from_template
from app.ids import new_id
from engine.timestamps import format_timestamp, now_ns

log = logging.getLogger(__name__)

PENDING_BATCH = 200


def run_key(schedule_id: str, period_start_ns: int) -> str:
    """The idempotency key of a period's export job: the same whoever creates it."""
    return f"schedule:{schedule_id}:{period_start_ns}"


@dataclass
class Pass:
    """What one pass did (for logs and tests)."""

    opened: list[str] = field(default_factory=list)  # run ids recorded for due periods
    jobs: list[str] = field(default_factory=list)  # jobs created or found for pending runs
    failed: list[str] = field(default_factory=list)  # runs that failed in this pass


async def schedule_forever(runtime: Runtime) -> None:
    """`python -m app scheduler`: a pass every `schedule_interval_seconds`."""
    while True:
        try:
            await schedule_once(runtime)
        except Exception:
            log.exception("scheduler pass failed")
        await asyncio.sleep(runtime.settings.schedule_interval_seconds)


async def schedule_once(runtime: Runtime, now: int | None = None) -> Pass:
    """Open due periods, create the jobs of pending runs, settle runs whose job ended."""
    now = now if now is not None else now_ns()
    done = Pass()
    async with runtime.sessions() as session:
        due = list(
            await session.scalars(
                select(ExportScheduleRow.id)
                .where(
                    ExportScheduleRow.status == ScheduleStatus.ACTIVE.value,
                    ExportScheduleRow.next_run_at <= now,
                )
                .order_by(ExportScheduleRow.next_run_at)
            )
        )
    for schedule_id in due:
        try:
            done.opened += await open_due_periods(runtime, schedule_id, now)
        except Exception:
            log.exception("opening the due periods of schedule %s failed", schedule_id)
    async with runtime.sessions() as session:
        pending = list(
            await session.scalars(
                select(ExportScheduleRunRow.id)
                .where(ExportScheduleRunRow.status == RunStatus.PENDING.value)
                .order_by(ExportScheduleRunRow.schedule_id, ExportScheduleRunRow.period_start_ns)
                .limit(PENDING_BATCH)
            )
        )
    for run_id in pending:
        try:
            await create_run_job(runtime, run_id, done)
        except Exception:
            log.exception("creating the job of schedule run %s failed", run_id)
    done.failed += await settle_finished_runs(runtime)
    return done


async def open_due_periods(runtime: Runtime, schedule_id: str, now: int) -> list[str]:
    """Record a run per due period of one schedule, oldest first, each in the transaction
    that moves the cursor past it (at most `schedule_max_runs_per_tick` per pass)."""
    opened: list[str] = []
    for _ in range(runtime.settings.schedule_max_runs_per_tick):
        async with runtime.sessions() as session:
            await _lock(session, schedule_id)
            schedule = await session.get(ExportScheduleRow, schedule_id)
            if schedule is None or schedule.status != ScheduleStatus.ACTIVE.value:
                break
            grid = grid_of(schedule)
            due_until = now - schedule.delay_ns  # periods ending by then are due
            start, end = grid.period_of(schedule.cursor_ns)
            start = max(start, schedule.cursor_ns)
            if end > due_until:
                break
            if schedule.catch_up == CatchUp.LATEST.value:
                latest_start, latest_end = grid.period_of(due_until)
                latest_start, latest_end = grid.period_of(latest_start - 1)
                if latest_start > start:
                    start, end = latest_start, latest_end
            moved = await session.execute(
                update(ExportScheduleRow)
                .where(
                    ExportScheduleRow.id == schedule_id,
                    ExportScheduleRow.cursor_ns == schedule.cursor_ns,
                    ExportScheduleRow.status == ScheduleStatus.ACTIVE.value,
                )
                .values(cursor_ns=end, next_run_at=next_run_at(grid, end, schedule.delay_ns))
                .execution_options(synchronize_session=False)
            )
            if rows_changed(moved) != 1:
                await session.rollback()  # another scheduler moved it: read it again
                continue
            run = ExportScheduleRunRow(
                id=new_id("export_schedule_run"),
                schedule_id=schedule_id,
                workspace_id=schedule.workspace_id,
                period_start_ns=start,
                period_end_ns=end,
                status=RunStatus.PENDING.value,
                idempotency_key=run_key(schedule_id, start),
                template=schedule.template,
                created_at=now_ns(),
                updated_at=now_ns(),
            )
            session.add(run)
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()  # that period has its run already
                continue
            opened.append(run.id)
    return opened


async def _lock(session: AsyncSession, schedule_id: str) -> None:
    """Write first, read after: a no-op UPDATE takes SQLite's write lock (waiting for it)
    before the transaction reads, and locks the row on PostgreSQL, so concurrent schedulers
    take turns on a schedule instead of failing on a stale read. The conditional update of
    the cursor is what guarantees one run per period either way."""
    await session.execute(
        update(ExportScheduleRow)
        .where(ExportScheduleRow.id == schedule_id)
        .values(updated_at=ExportScheduleRow.updated_at)
        .execution_options(synchronize_session=False)
    )


async def create_run_job(runtime: Runtime, run_id: str, done: Pass | None = None) -> None:
    """A PENDING run's export job, created as createExport creates one, by a MEMBER of the
    schedule's workspace. The workspace's cap on active exports leaves the run PENDING until a
    later pass; any other refusal fails the run."""
    async with runtime.sessions() as session:
        run = await session.get(ExportScheduleRunRow, run_id)
        schedule = await session.get(ExportScheduleRow, run.schedule_id) if run else None
        if run is None or schedule is None or run.status != RunStatus.PENDING.value:
            return
        request = request_from_template(
            run.template, run.period_start_ns, run.period_end_ns, run.idempotency_key
        )
    who = Principal(schedule.workspace_id, f"schedule:{schedule.id}", Role.MEMBER)
    try:
        job, _created = await create_export(runtime, who, request)
        job_id, job_status = job.id, job.status
    except DomainError as exc:
        codes = {p.code for p in exc.errors}
        if ErrorCode.RATE_LIMITED in codes:
            log.info("schedule run %s waits: the workspace is at its export cap", run_id)
            return
        found = await _job_by_key(runtime, schedule.workspace_id, run.idempotency_key)
        if found is None:  # e.g. the datastream or the schema is gone
            async with runtime.sessions() as session:
                await _run_failed(session, schedule, run, first_problem_text(exc.errors))
                await session.commit()
            if done is not None:
                done.failed.append(run_id)
            return
        job_id, job_status = found  # created before (by a release that kept no template)
    async with runtime.sessions() as session:
        await session.execute(
            update(ExportScheduleRunRow)
            .where(
                ExportScheduleRunRow.id == run_id,
                ExportScheduleRunRow.status == RunStatus.PENDING.value,
            )
            .values(
                status=RunStatus.ACTIVE.value,
                job_id=job_id,
                updated_at=now_ns(),
            )
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    if done is not None:
        done.jobs.append(job_id)
    log.info("schedule %s: job %s (%s) for run %s", schedule.id, job_id, job_status, run_id)


async def _job_by_key(runtime: Runtime, workspace_id: str, key: str) -> tuple[str, str] | None:
    async with runtime.sessions() as session:
        found = (
            await session.execute(
                select(ExportJobRow.id, ExportJobRow.status).where(
                    ExportJobRow.workspace_id == workspace_id,
                    ExportJobRow.idempotency_key == key,
                )
            )
        ).first()
    return (found[0], found[1]) if found else None


_SETTLED = {
    JobStatus.SUCCEEDED.value: RunStatus.SUCCEEDED,
    JobStatus.EXPIRED.value: RunStatus.SUCCEEDED,
    JobStatus.CANCELED.value: RunStatus.CANCELED,
}


async def settle_finished_runs(runtime: Runtime) -> list[str]:
    """ACTIVE runs whose job has ended take its outcome; a FAILED job fails its run."""
    failed: list[str] = []
    async with runtime.sessions() as session:
        rows = (
            await session.execute(
                select(ExportScheduleRunRow, ExportJobRow.status, ExportJobRow.reason)
                .outerjoin(ExportJobRow, ExportJobRow.id == ExportScheduleRunRow.job_id)
                .where(
                    ExportScheduleRunRow.status == RunStatus.ACTIVE.value,
                    (ExportJobRow.status.is_(None)) | ExportJobRow.status.notin_(ACTIVE),
                )
            )
        ).all()
        for run, job_status, reason in rows:
            if job_status == JobStatus.FAILED.value:
                schedule = await session.get(ExportScheduleRow, run.schedule_id)
                if schedule is not None and await _run_failed(
                    session, schedule, run, f"export job {run.job_id} failed: {reason or ''}"
                ):
                    failed.append(run.id)
                continue
            settled = _SETTLED.get(job_status or "", RunStatus.CANCELED)
            await session.execute(
                update(ExportScheduleRunRow)
                .where(
                    ExportScheduleRunRow.id == run.id,
                    ExportScheduleRunRow.status == RunStatus.ACTIVE.value,
                )
                .values(
                    status=settled.value,
                    reason=None if job_status else f"export job {run.job_id} was deleted",
                    updated_at=now_ns(),
                )
                .execution_options(synchronize_session=False)
            )
        await session.commit()
    return failed


async def _run_failed(
    session: AsyncSession,
    schedule: ExportScheduleRow,
    run: ExportScheduleRunRow,
    reason: str,
) -> bool:
    """The `schedule.run_failed` event: a run could not create its job, or its job FAILED.
    Records the failure on the run row (in the caller's transaction); True only for the call
    that recorded it, so that whatever is told about it is told once, however many
    schedulers noticed."""
    changed = await session.execute(
        update(ExportScheduleRunRow)
        .where(
            ExportScheduleRunRow.id == run.id,
            ExportScheduleRunRow.status.in_((RunStatus.PENDING.value, RunStatus.ACTIVE.value)),
        )
        .values(status=RunStatus.FAILED.value, reason=reason[:2000], updated_at=now_ns())
        .execution_options(synchronize_session=False)
    )
    recorded = rows_changed(changed) == 1
    if recorded:
        log.warning(
            "schedule.run_failed: schedule %s, period starting %d: %s",
            schedule.id,
            run.period_start_ns,
            reason,
        )
        record_event(
            session,
            schedule.workspace_id,
            EventType.SCHEDULE_RUN_FAILED.value,
            {
                "kind": "schedule_run",
                "scheduleId": schedule.id,
                "scheduleName": schedule.name,
                "periodStart": format_timestamp(run.period_start_ns),
                "periodEnd": format_timestamp(run.period_end_ns),
                "jobId": run.job_id,
                "status": RunStatus.FAILED.value,
                "reason": reason[:2000],
            },
        )
    return recorded
