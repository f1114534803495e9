"""GraphQL types of export schedules, their runs and mutation payloads."""

from __future__ import annotations

from enum import Enum
from typing import cast

import strawberry
from strawberry.scalars import JSON

from app.db import models
from app.domain.schedules import commands as domain
from app.domain.schedules.periods import iso_seconds
from app.domain.schedules.templates import template_view
from app.graphql.context import Info, computed
from app.graphql.errors import ApiError, UserError
from app.graphql.exports.types import ExportJob
from app.graphql.relay import (
    After,
    Connection,
    First,
    Node,
    cursor_value,
    page_connection,
    page_size,
)
from app.graphql.scalars import Timestamp
from app.graphql.schedules.inputs import ScheduleCatchUp
from engine.strict import is_ascii_digits


@strawberry.enum(description="Whether a schedule creates jobs.")
class ExportScheduleStatus(Enum):
    ACTIVE = strawberry.enum_value("ACTIVE", description="Creates a job per period.")
    PAUSED = strawberry.enum_value(
        "PAUSED", description="Creates nothing; periods that end while paused are skipped."
    )


@strawberry.enum(description="Where one period of a schedule is.")
class ExportScheduleRunStatus(Enum):
    PENDING = strawberry.enum_value(
        "PENDING",
        description="Due; its job is being created (or waits for the workspace's cap on "
        "active exports).",
    )
    ACTIVE = strawberry.enum_value("ACTIVE", description="Its job is queued or running.")
    SUCCEEDED = strawberry.enum_value("SUCCEEDED", description="Its job succeeded.")
    FAILED = strawberry.enum_value(
        "FAILED", description="Its job failed, or could not be created; see reason."
    )
    CANCELED = strawberry.enum_value("CANCELED", description="Its job was canceled or deleted.")


@strawberry.type(description="One period of a schedule and the job that exports it.")
class ExportScheduleRun:
    period_start: Timestamp = strawberry.field(description="Period start (inclusive).")
    period_end: Timestamp = strawberry.field(description="Period end (exclusive).")
    status: ExportScheduleRunStatus = strawberry.field(description="Where the run is.")
    reason: str | None = strawberry.field(description="Why it FAILED or was CANCELED.")
    created_at: Timestamp = strawberry.field(description="When the period was found due.")
    job_id: strawberry.Private[str | None]

    @computed(description="The period's export job; null before it exists or once deleted.")
    async def export_job(self, info: Info) -> ExportJob | None:
        if self.job_id is None:
            return None
        job = await info.context.export_jobs.load(self.job_id)
        return ExportJob.from_row(job) if job else None

    @classmethod
    def from_row(cls, row: models.ExportScheduleRunRow) -> ExportScheduleRun:
        return cls(
            period_start=row.period_start_ns,
            period_end=row.period_end_ns,
            status=ExportScheduleRunStatus(row.status),
            reason=row.reason,
            created_at=row.created_at,
            job_id=row.job_id,
        )


@strawberry.type(
    description="A recurring export: a job per period [start, end) of `every`, created once "
    "the period has ended plus `delay`; exactly one per period."
)
class ExportSchedule(Node):
    name: str = strawberry.field(description="Its name.")
    status: ExportScheduleStatus = strawberry.field(description="ACTIVE or PAUSED.")
    every: str = strawberry.field(description="Period length (ISO-8601 duration).")
    period_start: Timestamp = strawberry.field(
        description="The anchor: a boundary of every period."
    )
    delay: str = strawberry.field(description="Wait after a period ends (ISO-8601 duration).")
    timezone: str = strawberry.field(description="IANA time zone of calendar periods.")
    catch_up: ScheduleCatchUp = strawberry.field(description="Which missed periods it exports.")
    export: JSON = strawberry.field(
        description="The export template each job is made from, with the fields of the "
        "createExport input (datastreamId, schema, format, formatOptions, columns ...)."
    )
    next_period_start: Timestamp = strawberry.field(
        description="Start of the next period to export."
    )
    next_run_at: Timestamp | None = strawberry.field(
        description="When the next period's job will be created (its end plus the delay); "
        "null while PAUSED."
    )
    created_at: Timestamp = strawberry.field(description="When it was created.")
    updated_at: Timestamp = strawberry.field(description="When it was last changed.")

    @computed(description="Its runs, one per period already due, latest period first.")
    async def runs(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[ExportScheduleRun]:
        limit = page_size(info, first)
        position = cursor_value(after)
        if position is not None and not is_ascii_digits(position.lstrip("-")):
            raise ApiError("after is not a cursor of this list", "INVALID_ARGUMENT", field="after")
        async with info.context.sessions() as session:
            rows, total = await domain.runs_of(
                session,
                str(self.id),
                after_start=int(position) if position is not None else None,
                limit=limit + 1,
            )
        return page_connection(
            rows, limit, after, total, ExportScheduleRun.from_row, lambda r: str(r.period_start_ns)
        )

    @classmethod
    def from_row(cls, row: models.ExportScheduleRow) -> ExportSchedule:
        active = row.status == domain.ScheduleStatus.ACTIVE.value
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            status=ExportScheduleStatus(row.status),
            every=row.every,
            period_start=row.anchor_ns,
            delay=iso_seconds(row.delay_ns // 10**9),
            timezone=row.timezone,
            catch_up=ScheduleCatchUp(row.catch_up),
            export=cast(JSON, template_view(row.template)),
            next_period_start=row.cursor_ns,
            next_run_at=row.next_run_at if active else None,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type(description="Result of a mutation on an export schedule.")
class ExportSchedulePayload:
    export_schedule: ExportSchedule | None = strawberry.field(
        default=None, description="The schedule as it now is; null on errors."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was done."
    )


@strawberry.type(description="Result of deleteExportSchedule.")
class DeleteExportSchedulePayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="The deleted schedule's id; null on errors."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was deleted."
    )
