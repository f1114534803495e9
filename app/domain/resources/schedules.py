"""A workspace's export schedules as files, one row per schedule, named by its name.

A row is checked as createExportSchedule checks its input (updateExportSchedule's rules for
an existing schedule), the template as createExport checks a request; `status` pauses or
resumes it. `next_period_start` is the schedule's cursor: a schedule restored from a file
starts there, so that the periods the original already exported are not exported again (they
are neither run nor caught up); without it, the usual periodStart and catchUp rules apply. An
existing schedule's cursor never moves back.

Names are not unique within a workspace: a row whose name is that of several schedules is
rejected (rename them apart first)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import ExportScheduleRow
from app.domain.auth import Principal, Role
from app.domain.errors import DomainError, Problem
from app.domain.resources.model import (
    ExportFilter,
    Outcome,
    Record,
    Resource,
    ResourceKind,
    Row,
)
from app.domain.resources.values import RowReader
from app.domain.schedules.commands import (
    ScheduleRequest,
    ScheduleStatus,
    apply_update,
    checked_schedule,
    new_schedule_row,
    resume,
)
from app.domain.schedules.periods import iso_seconds
from app.domain.schedules.templates import request_from_view, template_view
from engine.timestamps import TimestampError, format_timestamp, now_ns, parse_timestamp

# createExportSchedule's input fields, as this file's columns.
SCHEDULE_FIELDS = {
    "name": "name",
    "every": "every",
    "periodStart": "period_start",
    "delay": "delay",
    "timezone": "timezone",
    "catchUp": "catch_up",
}


async def schedule_rows(session: AsyncSession, who: Principal, where: ExportFilter) -> list[Row]:
    """The caller's workspace's schedules, ordered by name (then age); the filter matches
    part of the name."""
    query = select(ExportScheduleRow).where(ExportScheduleRow.workspace_id == who.workspace_id)
    if where.text:
        query = query.where(ExportScheduleRow.name.icontains(where.text, autoescape=True))
    order = (ExportScheduleRow.name, ExportScheduleRow.id)
    found = await session.scalars(query.order_by(*order).limit(where.limit))
    return [
        {
            "name": s.name,
            "status": s.status,
            "every": s.every,
            "period_start": format_timestamp(s.anchor_ns),
            "timezone": s.timezone,
            "delay": iso_seconds(s.delay_ns // 10**9),
            "catch_up": s.catch_up,
            "export": template_view(s.template),
            "next_period_start": format_timestamp(s.cursor_ns),
        }
        for s in found
    ]


def _state(row: ExportScheduleRow) -> tuple[Any, ...]:
    """What a row can change (templates compared as shown: a template stored without options
    is the same as one whose options are all unset)."""
    return (
        row.name,
        row.status,
        template_view(row.template),
        row.every,
        row.timezone,
        row.anchor_ns,
        row.delay_ns,
        row.catch_up,
        row.cursor_ns,
        row.next_run_at,
    )


class ScheduleImporter:
    def __init__(
        self,
        session: AsyncSession,
        who: Principal,
        settings: Settings,
        by_name: dict[str, list[ExportScheduleRow]],
    ) -> None:
        self.session, self.who, self.settings = session, who, settings
        self.by_name = by_name

    @classmethod
    async def load(
        cls, session: AsyncSession, who: Principal, settings: Settings
    ) -> ScheduleImporter:
        by_name: dict[str, list[ExportScheduleRow]] = {}
        rows = await session.scalars(
            select(ExportScheduleRow)
            .where(ExportScheduleRow.workspace_id == who.workspace_id)
            .order_by(ExportScheduleRow.id)
        )
        for row in rows:
            by_name.setdefault(row.name, []).append(row)
        return cls(session, who, settings, by_name)

    async def apply(self, record: Record) -> Outcome:
        cells = RowReader(record)
        name = cells.text("name").strip()
        status = _status(cells)
        next_start = _timestamp(cells, "next_period_start")
        request = ScheduleRequest(
            name=name,
            export=_export(cells),
            every=cells.text("every"),
            period_start=_period_start(cells),
            delay=_given(cells.optional_text("delay")),
            timezone=_given(cells.optional_text("timezone")),
            catch_up=_given(cells.optional_text("catch_up")),
        )
        matches = self.by_name.get(name, []) if name else []
        if len(matches) > 1:
            cells.problem(
                "name",
                f"{len(matches)} schedules are named {name!r}: rename them so that each name "
                "is one schedule's, then import again",
            )
        existing = matches[0] if len(matches) == 1 else None
        checked = None
        if request.export is not None:  # the template can be read: check it all as the API does
            at_fault = {column for column, _reason in cells.problems}
            try:
                checked = await checked_schedule(
                    self.session, self.settings, self.who, request, existing
                )
            except DomainError as exc:
                _schedule_problems(cells, exc.errors, at_fault)
        cells.done()
        assert checked is not None
        if existing is None:
            cursor = checked.anchor_ns
            if next_start is not None:
                cursor = checked.grid.first_start_at_or_after(max(next_start, checked.anchor_ns))
            row = new_schedule_row(self.who, checked, status or ScheduleStatus.ACTIVE, cursor)
            self.session.add(row)
            self.by_name[row.name] = [row]
            return Outcome.CREATED
        before, updated_at, template = _state(existing), existing.updated_at, existing.template
        apply_update(existing, checked, next_start or existing.cursor_ns)
        if template_view(existing.template) == template_view(template):
            existing.template = template
        if status is ScheduleStatus.PAUSED:
            existing.status = ScheduleStatus.PAUSED.value
        elif status is ScheduleStatus.ACTIVE:
            resume(existing, now_ns())
        if _state(existing) == before:
            existing.updated_at = updated_at
            return Outcome.UNCHANGED
        return Outcome.UPDATED


def _given(value: object) -> str | None:
    """A missing column or an empty cell: not given (a new schedule's default, an existing
    schedule's current value)."""
    return value if isinstance(value, str) else None


def _status(cells: RowReader) -> ScheduleStatus | None:
    given = cells.optional_text("status")
    if not isinstance(given, str):
        return None
    if given not in ScheduleStatus.__members__:
        cells.problem("status", f"status is ACTIVE or PAUSED, not {given[:40]!r}")
        return None
    return ScheduleStatus(given)


def _period_start(cells: RowReader) -> object:
    """As the file gives it (ISO-8601 text, or nanoseconds); checked as periodStart is."""
    value = cells.values.get("period_start")
    if value is None or value == "":
        cells.problem("period_start", "period_start is required")
    return value


def _timestamp(cells: RowReader, column: str) -> int | None:
    value = cells.values.get(column)
    if value is None or value == "":
        return None
    try:
        return parse_timestamp(value)
    except TimestampError as exc:
        cells.problem(column, f"{column}: {exc}")
        return None


def _export(cells: RowReader) -> Any:
    view = cells.json_object("export")
    if view is None:
        return None
    try:
        return request_from_view(view, ("input", "export"))
    except DomainError as exc:
        _schedule_problems(cells, exc.errors)
        return None


def _schedule_problems(
    cells: RowReader, problems: Sequence[Problem], at_fault: set[str | None] | None = None
) -> None:
    """createExportSchedule's problems, named by this file's columns: those of the template
    (`input.export.format`) go to `export`, with the path inside it. A column already found
    at fault (a required value missing, say) is not reported twice."""
    for problem in problems:
        field = problem.field[1:] if problem.field[:1] == ("input",) else problem.field
        if field[:1] == ("export",):
            where = ".".join(field[1:])
            column: str | None = "export"
            reason = f"{where}: {problem.message}" if where else problem.message
        else:
            column = SCHEDULE_FIELDS.get(field[0]) if field else None
            reason = problem.message
        if at_fault is None or column not in at_fault:
            cells.problem(column, reason)


EXPORT_SCHEDULES = Resource(
    kind=ResourceKind.EXPORT_SCHEDULES,
    columns=(
        "name",
        "status",
        "every",
        "period_start",
        "timezone",
        "delay",
        "catch_up",
        "export",
        "next_period_start",
    ),
    required=("name", "every", "period_start", "export"),
    identifier="name",
    identity="a schedule's name (a name several schedules share is rejected)",
    import_role=Role.MEMBER,
    rows=schedule_rows,
    importer=ScheduleImporter.load,
)
