"""Recurring exports as a workspace sees them: create a schedule (its export template checked
as createExport checks a request), update it (future periods only), pause, resume, delete;
read one, its runs, and the workspace's schedules in keyset pages.

The scheduler (`app.domain.schedules.scheduler`) turns due periods into runs and jobs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import ExportScheduleRow, ExportScheduleRunRow
from app.domain.auth import Principal, Role, require
from app.domain.errors import DomainError, ErrorCode, Problem, user_error
from app.domain.exports.requests import ExportRequest, validate_export
from app.domain.runtime import Runtime
from app.domain.schedules.periods import (
    Every,
    Grid,
    parse_delay,
    parse_every,
    parse_timezone,
)
from app.domain.schedules.templates import request_from_template, template_json, under_export
from app.ids import id_prefix, new_id
from engine.timestamps import TimestampError, now_ns, parse_timestamp


class ScheduleStatus(str, Enum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"


class CatchUp(str, Enum):
    ALL = "ALL"  # every missed period, oldest first
    LATEST = "LATEST"  # only the latest missed period


class RunStatus(str, Enum):
    PENDING = "PENDING"  # recorded; its job is not created yet
    ACTIVE = "ACTIVE"  # its job is queued or running
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"  # no job could be created, or the job failed
    CANCELED = "CANCELED"  # its job was canceled or deleted


@dataclass(frozen=True)
class ScheduleRequest:
    """createExportSchedule; for an update, None leaves a value as it is."""

    name: str | None = None
    export: ExportRequest | None = None  # its times and idempotency key are not used
    every: str | None = None
    period_start: Any = None
    delay: str | None = None
    timezone: str | None = None
    catch_up: str | None = None


def grid_of(row: ExportScheduleRow) -> Grid:
    every = parse_every(row.every, (), 1)
    zone = parse_timezone(row.timezone, ())
    assert not isinstance(every, Problem) and not isinstance(zone, Problem)
    return Grid(every, zone, row.anchor_ns)


def next_run_at(grid: Grid, cursor_ns: int, delay_ns: int) -> int:
    """When the period starting at the cursor becomes due: its end plus the delay."""
    return grid.period_of(cursor_ns)[1] + delay_ns


@dataclass(frozen=True)
class CheckedSchedule:
    name: str
    template: dict[str, Any]
    every: str
    timezone: str
    anchor_ns: int
    delay_ns: int
    catch_up: str
    grid: Grid


async def checked_schedule(
    session: AsyncSession,
    settings: Settings,
    who: Principal,
    request: ScheduleRequest,
    current: ExportScheduleRow | None,
) -> CheckedSchedule:
    """Every problem at once; values the request leaves out come from `current`."""
    errors: list[Problem] = []
    name = request.name if request.name is not None else (current.name if current else "")
    if not 1 <= len(name.strip()) <= 200:
        errors.append(
            Problem(
                ErrorCode.INVALID_ARGUMENT, ("input", "name"), "name must be 1 to 200 characters"
            )
        )
    every_text = request.every if request.every is not None else (current.every if current else "")
    every: Every | Problem = parse_every(
        every_text, ("input", "every"), settings.schedule_min_period_seconds
    )
    zone_name = request.timezone or (current.timezone if current else "UTC")
    zone = parse_timezone(zone_name, ("input", "timezone"))
    delay: int | Problem = (
        parse_delay(request.delay, ("input", "delay"))
        if request.delay is not None
        else (current.delay_ns if current else 0)
    )
    anchor: int | None = current.anchor_ns if current else None
    if request.period_start is not None or current is None:
        try:
            anchor = parse_timestamp(request.period_start)
        except TimestampError as exc:
            errors.append(Problem(ErrorCode.INVALID_ARGUMENT, ("input", "periodStart"), str(exc)))
    catch_up = request.catch_up or (current.catch_up if current else CatchUp.ALL.value)
    if catch_up not in CatchUp.__members__:
        errors.append(
            Problem(ErrorCode.INVALID_ARGUMENT, ("input", "catchUp"), "catchUp is ALL or LATEST")
        )
    errors += [p for p in (every, zone, delay) if isinstance(p, Problem)]
    grid = None
    if not isinstance(every, Problem) and not isinstance(zone, Problem) and anchor is not None:
        grid = Grid(every, zone, anchor)
    template = current.template if current else None
    export = request.export
    if export is None and current is None:
        errors.append(
            Problem(ErrorCode.INVALID_ARGUMENT, ("input", "export"), "export is required")
        )
    if grid is not None and (export is not None or request.every is not None):
        # The checks createExport makes, over the first period (options like decimation and
        # split are checked against a range).
        probe = (
            dataclasses.replace(export, idempotency_key=None)
            if export is not None
            else request_from_template(template or {}, 0, 0, None)
        )
        probe = dataclasses.replace(probe, start_time=grid.start(0), end_time=grid.start(1))
        try:
            await validate_export(session, settings, who, probe)
        except DomainError as exc:
            errors += under_export(exc).errors
        if export is not None:
            template = template_json(export)
    if errors:
        raise DomainError(errors)
    assert grid is not None and template is not None and isinstance(delay, int)
    return CheckedSchedule(
        name.strip(), template, every_text, zone_name, grid.anchor_ns, delay, catch_up, grid
    )


def new_schedule_row(
    who: Principal, checked: CheckedSchedule, status: ScheduleStatus, cursor_ns: int
) -> ExportScheduleRow:
    """A schedule of the caller's workspace whose next period starts at `cursor_ns` (the
    anchor, unless periods before it are not to be exported)."""
    now = now_ns()
    return ExportScheduleRow(
        id=new_id("export_schedule"),
        workspace_id=who.workspace_id,
        name=checked.name,
        status=status.value,
        template=checked.template,
        every=checked.every,
        timezone=checked.timezone,
        anchor_ns=checked.anchor_ns,
        delay_ns=checked.delay_ns,
        catch_up=checked.catch_up,
        cursor_ns=cursor_ns,
        next_run_at=next_run_at(checked.grid, cursor_ns, checked.delay_ns),
        created_at=now,
        updated_at=now,
    )


async def create_schedule(
    runtime: Runtime, who: Principal, request: ScheduleRequest
) -> ExportScheduleRow:
    require(who, Role.MEMBER, ("input",))
    async with runtime.sessions() as session:
        checked = await checked_schedule(session, runtime.settings, who, request, None)
        row = new_schedule_row(who, checked, ScheduleStatus.ACTIVE, checked.anchor_ns)
        session.add(row)
        await session.commit()
    return row


def apply_update(row: ExportScheduleRow, checked: CheckedSchedule, not_before_ns: int) -> None:
    """The checked values on the row; its next period is the first of the (new) grid that
    starts at or after the later of `not_before_ns` (at least the cursor: it never moves back)
    and the anchor."""
    cursor = checked.grid.first_start_at_or_after(
        max(row.cursor_ns, not_before_ns, checked.anchor_ns)
    )
    row.name, row.template, row.every = checked.name, checked.template, checked.every
    row.timezone, row.anchor_ns, row.delay_ns = (
        checked.timezone,
        checked.anchor_ns,
        checked.delay_ns,
    )
    row.catch_up, row.cursor_ns = checked.catch_up, cursor
    row.next_run_at = next_run_at(checked.grid, cursor, checked.delay_ns)
    row.updated_at = now_ns()


def resume(row: ExportScheduleRow, now: int) -> None:
    """ACTIVE from the next period to become due (a no-op on an active schedule)."""
    if row.status == ScheduleStatus.PAUSED.value:
        grid = grid_of(row)
        row.cursor_ns = max(row.cursor_ns, grid.period_of(now - row.delay_ns)[0])
        row.next_run_at = next_run_at(grid, row.cursor_ns, row.delay_ns)
        row.status, row.updated_at = ScheduleStatus.ACTIVE.value, now_ns()


async def update_schedule(
    runtime: Runtime, who: Principal, schedule_id: str, request: ScheduleRequest
) -> ExportScheduleRow:
    """Changes apply to periods not created yet; the cursor never moves back, so no period
    is exported twice. A new grid (every, periodStart, timezone) starts at its first boundary
    at or after the later of the current cursor and the new periodStart."""
    require(who, Role.MEMBER, ("input",))
    async with runtime.sessions() as session:
        row = await _owned(session, who, schedule_id)
        checked = await checked_schedule(session, runtime.settings, who, request, row)
        apply_update(row, checked, row.cursor_ns)
        await session.commit()
    return row


async def pause_schedule(runtime: Runtime, who: Principal, schedule_id: str) -> ExportScheduleRow:
    """No period is started while paused (a run already recorded still gets its job)."""
    require(who, Role.MEMBER, ("input",))
    async with runtime.sessions() as session:
        row = await _owned(session, who, schedule_id)
        row.status, row.updated_at = ScheduleStatus.PAUSED.value, now_ns()
        await session.commit()
    return row


async def resume_schedule(
    runtime: Runtime, who: Principal, schedule_id: str, now: int | None = None
) -> ExportScheduleRow:
    """Active again from the next period to become due: periods that became due while the
    schedule was paused are skipped (pausing means "no exports for those periods")."""
    require(who, Role.MEMBER, ("input",))
    now = now if now is not None else now_ns()
    async with runtime.sessions() as session:
        row = await _owned(session, who, schedule_id)
        if row.status == ScheduleStatus.PAUSED.value:
            resume(row, now)
            await session.commit()
    return row


async def delete_schedule(runtime: Runtime, who: Principal, schedule_id: str) -> str:
    """The schedule and its runs; the jobs it created stay (delete them as any job)."""
    require(who, Role.MEMBER, ("input",))
    async with runtime.sessions() as session:
        row = await _owned(session, who, schedule_id)
        await session.execute(
            delete(ExportScheduleRunRow).where(ExportScheduleRunRow.schedule_id == row.id)
        )
        await session.execute(delete(ExportScheduleRow).where(ExportScheduleRow.id == row.id))
        await session.commit()
    return row.id


async def _owned(session: AsyncSession, who: Principal, schedule_id: str) -> ExportScheduleRow:
    row = await get_schedule(session, who, schedule_id)
    if row is None:
        raise user_error(ErrorCode.NOT_FOUND, "input.id", f"no export schedule {schedule_id!r}")
    return row


async def get_schedule(
    session: AsyncSession, who: Principal, schedule_id: str
) -> ExportScheduleRow | None:
    """Another workspace's schedule is simply not found."""
    if id_prefix(schedule_id) != "rec":
        return None
    return await session.scalar(
        select(ExportScheduleRow).where(
            ExportScheduleRow.id == schedule_id, ExportScheduleRow.workspace_id == who.workspace_id
        )
    )


async def list_schedules(
    session: AsyncSession,
    who: Principal,
    *,
    status: str | None,
    after_id: str | None,
    limit: int,
) -> tuple[list[ExportScheduleRow], int]:
    """Oldest first (ids are time-ordered), keyset pages after an id; and the total."""
    where = [ExportScheduleRow.workspace_id == who.workspace_id]
    if status is not None:
        where.append(ExportScheduleRow.status == status)
    total = await session.scalar(select(func.count()).select_from(ExportScheduleRow).where(*where))
    query = select(ExportScheduleRow).where(*where)
    if after_id is not None:
        query = query.where(ExportScheduleRow.id > after_id)
    rows = await session.scalars(query.order_by(ExportScheduleRow.id).limit(limit))
    return list(rows), int(total or 0)


async def runs_of(
    session: AsyncSession, schedule_id: str, *, after_start: int | None, limit: int
) -> tuple[list[ExportScheduleRunRow], int]:
    """A schedule's runs, latest period first, keyset pages after a period start."""
    where = [ExportScheduleRunRow.schedule_id == schedule_id]
    total = await session.scalar(
        select(func.count()).select_from(ExportScheduleRunRow).where(*where)
    )
    query = select(ExportScheduleRunRow).where(*where)
    if after_start is not None:
        query = query.where(ExportScheduleRunRow.period_start_ns < after_start)
    rows = await session.scalars(
        query.order_by(ExportScheduleRunRow.period_start_ns.desc()).limit(limit)
    )
    return list(rows), int(total or 0)
