"""Mutation root. Each mutation takes one `input` and returns a payload with `userErrors`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.domain import exports
from app.domain.errors import DomainError
from app.events import JobEvent, get_event_bus
from app.graphql.context import Context, authenticated
from app.graphql.errors import UserError
from app.graphql.scalars import Timestamp
from app.graphql.types import Compression, ExportFormat, ExportJob
from workers.broker import wake_export

Info = strawberry.Info[Context, None]


@strawberry.input(description="What to export.")
class CreateExportInput:
    datastream_id: strawberry.ID = strawberry.field(
        description="Datastream id (`101` or `ds_101`)."
    )
    start_time: Timestamp = strawberry.field(description="Range start, inclusive.")
    end_time: Timestamp = strawberry.field(description="Range end, exclusive.")
    schema: str = strawberry.field(
        default="raw", description="Export schema name: `raw` or `normalized`."
    )
    format: ExportFormat = strawberry.field(default=ExportFormat.CSV, description="File format.")
    compression: Compression | None = strawberry.field(
        default=None, description="Default: GZIP for CSV and JSONL, NONE for Parquet."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry-safe key: the same key and request return the same job; "
        "the same key with a different request is a CONFLICT.",
    )


@strawberry.type(description="Result of createExport.")
class CreateExportPayload:
    export_job: ExportJob | None = strawberry.field(
        description="The job, new or replayed; null on errors."
    )
    user_errors: list[UserError] = strawberry.field(description="Why the job was not created.")


@strawberry.input(description="Which job to cancel.")
class CancelExportInput:
    id: strawberry.ID = strawberry.field(description="Job id, `exp_<32 hex>`.")


@strawberry.type(description="Result of cancelExport.")
class CancelExportPayload:
    export_job: ExportJob | None = strawberry.field(description="The job after cancellation.")
    user_errors: list[UserError] = strawberry.field(description="Why it could not be canceled.")


@strawberry.type(description="Create and control export jobs.")
class Mutation:
    @authenticated(
        description="Start an export job. It runs asynchronously: follow it with "
        "`exportJobUpdated` or poll `exportJob`."
    )
    async def create_export(
        self,
        info: Info,
        input: Annotated[CreateExportInput, strawberry.argument(description="What to export.")],
    ) -> CreateExportPayload:
        request = exports.ExportRequest(
            datastream_id=input.datastream_id,
            start_time=input.start_time,
            end_time=input.end_time,
            schema=input.schema,
            format=input.format.name,
            compression=input.compression.name if input.compression else None,
            idempotency_key=input.idempotency_key,
        )
        try:
            async with info.context.sessions() as session:
                job, created = await exports.create_export(session, info.context.caller, request)
        except DomainError as exc:
            return CreateExportPayload(
                export_job=None, user_errors=[UserError.from_domain(e) for e in exc.errors]
            )
        if created:
            wake_export(job.id)
        return CreateExportPayload(export_job=ExportJob.from_row(job), user_errors=[])

    @authenticated(
        description="Cancel a queued or running job; a running one stops within a "
        "second or two and leaves no files."
    )
    async def cancel_export(
        self,
        info: Info,
        input: Annotated[CancelExportInput, strawberry.argument(description="Which job.")],
    ) -> CancelExportPayload:
        try:
            async with info.context.sessions() as session:
                job = await exports.cancel_export(session, info.context.caller, str(input.id))
        except DomainError as exc:
            return CancelExportPayload(
                export_job=None, user_errors=[UserError.from_domain(e) for e in exc.errors]
            )
        get_event_bus().publish(JobEvent(job.id, job.workspace_id, job.status))
        return CancelExportPayload(export_job=ExportJob.from_row(job), user_errors=[])
