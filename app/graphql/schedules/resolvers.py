"""Export schedule queries and mutations (reads: VIEWER; changes: MEMBER)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.domain.schedules import commands as domain
from app.graphql.context import Info, authenticated
from app.graphql.errors import guarded
from app.graphql.relay import After, Connection, First, id_cursor, page_connection, page_size
from app.graphql.schedules.inputs import (
    CreateExportScheduleInput,
    ExportScheduleIdInput,
    UpdateExportScheduleInput,
    create_request,
    update_request,
)
from app.graphql.schedules.types import (
    DeleteExportSchedulePayload,
    ExportSchedule,
    ExportSchedulePayload,
    ExportScheduleStatus,
)

IdArgument = Annotated[ExportScheduleIdInput, strawberry.argument(description="Which schedule.")]


async def one_schedule(info: Info, schedule_id: str) -> ExportSchedule | None:
    async with info.context.sessions() as session:
        row = await domain.get_schedule(session, info.context.caller, schedule_id)
    return ExportSchedule.from_row(row) if row is not None else None


async def _created(info: Info, input: CreateExportScheduleInput) -> ExportSchedulePayload:
    row = await domain.create_schedule(
        info.context.runtime, info.context.caller, create_request(input)
    )
    return ExportSchedulePayload(export_schedule=ExportSchedule.from_row(row))


async def _updated(info: Info, input: UpdateExportScheduleInput) -> ExportSchedulePayload:
    row = await domain.update_schedule(
        info.context.runtime, info.context.caller, str(input.id), update_request(input)
    )
    return ExportSchedulePayload(export_schedule=ExportSchedule.from_row(row))


async def _paused(info: Info, schedule_id: str) -> ExportSchedulePayload:
    row = await domain.pause_schedule(info.context.runtime, info.context.caller, schedule_id)
    return ExportSchedulePayload(export_schedule=ExportSchedule.from_row(row))


async def _resumed(info: Info, schedule_id: str) -> ExportSchedulePayload:
    row = await domain.resume_schedule(info.context.runtime, info.context.caller, schedule_id)
    return ExportSchedulePayload(export_schedule=ExportSchedule.from_row(row))


async def _deleted(info: Info, schedule_id: str) -> DeleteExportSchedulePayload:
    deleted = await domain.delete_schedule(info.context.runtime, info.context.caller, schedule_id)
    return DeleteExportSchedulePayload(deleted_id=strawberry.ID(deleted))


@strawberry.type(description="Read your recurring exports.")
class ExportScheduleQuery:
    @authenticated(
        description="One of your export schedules, with its runs and next run time; null if "
        "it does not exist or is not yours."
    )
    async def export_schedule(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID, strawberry.argument(description="Schedule id, `rec_<32 hex>`.")
        ],
    ) -> ExportSchedule | None:
        return await one_schedule(info, str(id))

    @authenticated(description="Your export schedules, oldest first.")
    async def export_schedules(
        self,
        info: Info,
        status: Annotated[
            ExportScheduleStatus | None, strawberry.argument(description="Only in this state.")
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[ExportSchedule]:
        limit = page_size(info, first)
        after_id = id_cursor(after, "rec")
        async with info.context.sessions() as session:
            rows, total = await domain.list_schedules(
                session,
                info.context.caller,
                status=status.name if status else None,
                after_id=after_id,
                limit=limit + 1,
            )
        return page_connection(rows, limit, after, total, ExportSchedule.from_row, lambda r: r.id)


@strawberry.type(description="Create and control recurring exports (MEMBER).")
class ExportScheduleMutation:
    @authenticated(
        description="Export a datastream every period: a job per period once it has ended "
        "plus the delay, exactly one per period. The export template is checked as "
        "createExport checks its input (problems under `input.export`)."
    )
    async def create_export_schedule(
        self,
        info: Info,
        input: Annotated[
            CreateExportScheduleInput, strawberry.argument(description="What and how often.")
        ],
    ) -> ExportSchedulePayload:
        return await guarded(ExportSchedulePayload, _created(info, input))

    @authenticated(
        description="Change a schedule; periods already exported are not exported again."
    )
    async def update_export_schedule(
        self,
        info: Info,
        input: Annotated[
            UpdateExportScheduleInput, strawberry.argument(description="What to change.")
        ],
    ) -> ExportSchedulePayload:
        return await guarded(ExportSchedulePayload, _updated(info, input))

    @authenticated(description="Stop creating jobs until resumed.")
    async def pause_export_schedule(self, info: Info, input: IdArgument) -> ExportSchedulePayload:
        return await guarded(ExportSchedulePayload, _paused(info, str(input.id)))

    @authenticated(
        description="Create jobs again, from the next period to end: periods that ended "
        "while paused are skipped."
    )
    async def resume_export_schedule(self, info: Info, input: IdArgument) -> ExportSchedulePayload:
        return await guarded(ExportSchedulePayload, _resumed(info, str(input.id)))

    @authenticated(description="Delete a schedule and its runs; the jobs it created stay.")
    async def delete_export_schedule(
        self, info: Info, input: IdArgument
    ) -> DeleteExportSchedulePayload:
        return await guarded(DeleteExportSchedulePayload, _deleted(info, str(input.id)))
