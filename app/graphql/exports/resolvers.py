"""Export job queries (one, list, estimate) and mutations (create, cancel, delete)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.domain.errors import DomainError
from app.domain.exports import commands, queries
from app.domain.exports import estimate as estimate_domain
from app.graphql.arguments import datastream_id_arg, timestamp_arg
from app.graphql.context import Info, authenticated
from app.graphql.errors import ApiError, guarded
from app.graphql.exports.inputs import (
    CancelExportInput,
    CreateExportInput,
    DeleteExportInput,
    export_request,
)
from app.graphql.exports.types import (
    CancelExportPayload,
    CreateExportPayload,
    DeleteExportPayload,
    ExportEstimate,
    ExportFormat,
    ExportJob,
    ExportJobOrder,
    ExportStatus,
)
from app.graphql.relay import (
    After,
    Connection,
    First,
    cursor_value,
    page_connection,
    page_size,
    selects_total,
)
from app.graphql.scalars import Timestamp


async def _estimate(info: Info, input: CreateExportInput) -> ExportEstimate:
    request = export_request(input)
    async with info.context.sessions() as session:
        found = await estimate_domain.estimate_export(
            session, info.context.settings, info.context.caller, request
        )
    return ExportEstimate(
        estimated_rows=found.rows,
        estimated_bytes=found.bytes,
        records_in_range=found.records,
        sampled_records=found.sampled_records,
    )


async def _created(info: Info, input: CreateExportInput) -> CreateExportPayload:
    context = info.context
    job, _created = await commands.create_export(
        context.runtime, context.caller, export_request(input)
    )
    return CreateExportPayload(export_job=ExportJob.from_row(job))


async def _canceled(info: Info, job_id: str) -> CancelExportPayload:
    job = await commands.cancel_export(info.context.runtime, info.context.caller, job_id)
    return CancelExportPayload(export_job=ExportJob.from_row(job))


async def _deleted(info: Info, job_id: str) -> DeleteExportPayload:
    deleted = await commands.delete_export(info.context.runtime, info.context.caller, job_id)
    return DeleteExportPayload(deleted_id=strawberry.ID(deleted))


@strawberry.type(description="Read your export jobs and estimate new ones.")
class ExportQuery:
    @authenticated(
        description="Estimate the rows and bytes of an export (from the segment catalog and a "
        "small sample) without creating a job, so a dashboard can warn about huge requests."
    )
    async def estimate_export(
        self,
        info: Info,
        input: Annotated[
            CreateExportInput, strawberry.argument(description="The export to estimate.")
        ],
    ) -> ExportEstimate:
        return await guarded(ExportEstimate, _estimate(info, input))

    @authenticated(
        description="One of your export jobs; null if it does not exist or is not yours."
    )
    async def export_job(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Job id, `exp_<32 hex>`.")],
    ) -> ExportJob | None:
        async with info.context.sessions() as session:
            job = await queries.get_export(session, info.context.caller, str(id))
        return ExportJob.from_row(job) if job else None

    @authenticated(
        description="Your export jobs, filtered (all conditions hold), newest first unless "
        "orderBy says otherwise."
    )
    async def export_jobs(
        self,
        info: Info,
        status: Annotated[
            ExportStatus | None, strawberry.argument(description="Only jobs in this state.")
        ] = None,
        datastream_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Only jobs that export this datastream (alone or among others)."
            ),
        ] = None,
        format: Annotated[
            ExportFormat | None, strawberry.argument(description="Only jobs with this format.")
        ] = None,
        created_after: Annotated[
            Timestamp | None,
            strawberry.argument(description="Only jobs created at or after this time."),
        ] = None,
        created_before: Annotated[
            Timestamp | None,
            strawberry.argument(description="Only jobs created before this time (exclusive)."),
        ] = None,
        order_by: Annotated[
            ExportJobOrder,
            strawberry.argument(description="By creation time, then id; default newest first."),
        ] = ExportJobOrder.CREATED_AT_DESC,
        first: First = None,
        after: After = None,
    ) -> Connection[ExportJob]:
        limit = page_size(info, first)
        after_value = cursor_value(after)
        where = queries.ListFilter(
            status=status.name if status else None,
            datastream_id=(
                datastream_id_arg(datastream_id, "datastreamId")
                if datastream_id is not None
                else None
            ),
            format=format.name if format else None,
            created_after=timestamp_arg(created_after, "createdAfter"),
            created_before=timestamp_arg(created_before, "createdBefore"),
        )
        try:
            async with info.context.sessions() as session:
                rows, total = await queries.list_exports(
                    session,
                    info.context.caller,
                    where,
                    after=after_value,
                    limit=limit + 1,
                    ascending=order_by == ExportJobOrder.CREATED_AT_ASC,
                    count=selects_total(info),
                )
        except DomainError as exc:
            raise ApiError.from_domain(exc) from None
        return page_connection(rows, limit, after, total, ExportJob.from_row, queries.list_cursor)


@strawberry.type(description="Create and control export jobs.")
class ExportMutation:
    @authenticated(
        description="Start an export job. It runs asynchronously: follow it with "
        "`exportJobUpdated` or poll `exportJob`."
    )
    async def create_export(
        self,
        info: Info,
        input: Annotated[CreateExportInput, strawberry.argument(description="What to export.")],
    ) -> CreateExportPayload:
        return await guarded(CreateExportPayload, _created(info, input))

    @authenticated(
        description="Cancel a queued or running job; a running one stops within a "
        "second or two and leaves no files."
    )
    async def cancel_export(
        self,
        info: Info,
        input: Annotated[CancelExportInput, strawberry.argument(description="Which job.")],
    ) -> CancelExportPayload:
        return await guarded(CancelExportPayload, _canceled(info, str(input.id)))

    @authenticated(
        description="Delete a job and its files at once, in any state: a queued or running "
        "job is stopped first (as by cancelExport). Its download links stop working and it "
        "no longer appears anywhere."
    )
    async def delete_export(
        self,
        info: Info,
        input: Annotated[DeleteExportInput, strawberry.argument(description="Which job.")],
    ) -> DeleteExportPayload:
        return await guarded(DeleteExportPayload, _deleted(info, str(input.id)))
