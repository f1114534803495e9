"""Import queries, mutations and the subscription that follows a job."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Annotated, Any, BinaryIO

import strawberry

from app.domain.auth import Role, require
from app.domain.errors import DomainError, ErrorCode, user_error
from app.domain.exports.status import JobStatus
from app.domain.imports import commands, queries, uploads
from app.domain.imports.commands import ImportRequest
from app.graphql.arguments import datastream_id_arg
from app.graphql.context import Info, authenticated, authenticated_subscription
from app.graphql.errors import ApiError, guarded
from app.graphql.exports.subscriptions import recheck_seconds
from app.graphql.imports.inputs import (
    CreateImportUploadInput,
    ImportJobIdInput,
    ImportRecordsInput,
    StartImportInput,
)
from app.graphql.imports.types import (
    ImportJob,
    ImportJobPayload,
    ImportStatus,
    ImportUpload,
    ImportUploadPayload,
)
from app.graphql.relay import After, Connection, First, cursor_value, page_connection, page_size


async def one_import(info: Info, job_id: str) -> ImportJob | None:
    async with info.context.sessions() as session:
        job = await queries.get_import(session, info.context.caller, job_id)
    return ImportJob.from_row(job) if job else None


@strawberry.type(description="Read your import jobs.")
class ImportQuery:
    @authenticated(description="One of your import jobs; null if not yours.")
    async def import_job(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="`imp_...` id.")],
    ) -> ImportJob | None:
        return await one_import(info, str(id))

    @authenticated(description="Your import jobs, newest first.")
    async def import_jobs(
        self,
        info: Info,
        status: Annotated[
            ImportStatus | None, strawberry.argument(description="Only jobs in this state.")
        ] = None,
        datastream_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only into this datastream.")
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[ImportJob]:
        limit = page_size(info, first)
        ds_id = datastream_id_arg(datastream_id, "datastreamId") if datastream_id else None
        try:
            async with info.context.sessions() as session:
                rows, total = await queries.list_imports(
                    session,
                    info.context.caller,
                    status=status.name if status else None,
                    datastream_id=ds_id,
                    after=cursor_value(after),
                    limit=limit + 1,
                )
        except DomainError as exc:
            raise ApiError.from_domain(exc) from None
        return page_connection(
            rows, limit, after, total, ImportJob.from_row, lambda r: queries.list_cursor(r)
        )


async def _upload_created(info: Info, input: CreateImportUploadInput) -> ImportUploadPayload:
    row = await uploads.create_upload(
        info.context.runtime, info.context.caller, input.filename, input.byte_size
    )
    return ImportUploadPayload(upload=ImportUpload.from_row(info, row))


def _request(input: StartImportInput | ImportRecordsInput, upload_id: str) -> ImportRequest:
    return ImportRequest(
        upload_id=upload_id,
        datastream_id=input.datastream_id,
        on_error=input.on_error.name,
        force=input.force,
        idempotency_key=input.idempotency_key,
    )


async def _started(info: Info, input: StartImportInput) -> ImportJobPayload:
    job, _created = await commands.start_import(
        info.context.runtime, info.context.caller, _request(input, str(input.upload_id))
    )
    return ImportJobPayload(import_job=ImportJob.from_row(job))


async def _imported(info: Info, input: ImportRecordsInput) -> ImportJobPayload:
    """The file came with the request: stored as an upload, then imported like one. An
    upload no job takes (a refused request, a replayed key) is removed at once."""
    runtime, caller = info.context.runtime, info.context.caller
    require(caller, Role.MEMBER, ("input",))  # before the request's file is even looked at
    filename, source = sent_file(input.file)
    upload = await uploads.store_file(runtime, caller, filename, source, "input.file")
    try:
        job, created = await commands.start_import(runtime, caller, _request(input, upload.id))
    except BaseException:
        await commands.discard_upload(runtime, upload)
        raise
    if not created:
        await commands.discard_upload(runtime, upload)
    return ImportJobPayload(import_job=ImportJob.from_row(job))


def sent_file(value: Any) -> tuple[str, BinaryIO]:
    """The multipart file part (Starlette's UploadFile); anything else was not a file."""
    filename, source = getattr(value, "filename", None), getattr(value, "file", None)
    if not isinstance(filename, str) or source is None:
        raise user_error(
            ErrorCode.INVALID_ARGUMENT,
            "input.file",
            "send the file as a part of a multipart request (the GraphQL multipart request "
            "spec), or use createImportUpload",
        )
    return filename, source


async def _canceled(info: Info, job_id: str) -> ImportJobPayload:
    job = await commands.cancel_import(info.context.runtime, info.context.caller, job_id)
    return ImportJobPayload(import_job=ImportJob.from_row(job))


@strawberry.type(description="Upload files of records and import them (MEMBER).")
class ImportMutation:
    @authenticated(
        description="A signed URL to PUT a file to (large files go straight to storage), "
        "then startImport with the upload's id."
    )
    async def create_import_upload(
        self,
        info: Info,
        input: Annotated[
            CreateImportUploadInput, strawberry.argument(description="The file to upload.")
        ],
    ) -> ImportUploadPayload:
        return await guarded(ImportUploadPayload, _upload_created(info, input))

    @authenticated(description="Import an uploaded file into a datastream, as a job.")
    async def start_import(
        self,
        info: Info,
        input: Annotated[StartImportInput, strawberry.argument(description="What to import.")],
    ) -> ImportJobPayload:
        return await guarded(ImportJobPayload, _started(info, input))

    @authenticated(
        description="Import a file sent with this request (multipart) into a datastream, as a job."
    )
    async def import_records(
        self,
        info: Info,
        input: Annotated[ImportRecordsInput, strawberry.argument(description="The file.")],
    ) -> ImportJobPayload:
        return await guarded(ImportJobPayload, _imported(info, input))

    @authenticated(description="Stop a queued or running import; nothing of it is stored.")
    async def cancel_import(
        self,
        info: Info,
        input: Annotated[ImportJobIdInput, strawberry.argument(description="Which job.")],
    ) -> ImportJobPayload:
        return await guarded(ImportJobPayload, _canceled(info, str(input.id)))


def _state(job: ImportJob) -> tuple[object, ...]:
    return (job.status, job.progress.bytes_read, job.progress.records_read, job.attempts)


@strawberry.type(description="Follow import jobs as they change.")
class ImportSubscription:
    @authenticated_subscription(
        description="The job's current state first, then every status change and progress "
        "update; completes after a terminal state."
    )
    async def import_job_updated(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="`imp_...` id.")],
    ) -> AsyncGenerator[ImportJob, None]:
        async with info.context.bus.subscribe() as events:
            job = await one_import(info, str(id))
            if job is None:
                raise ApiError(f"no import job {str(id)[:60]}", "NOT_FOUND")
            yield job
            last = _state(job)
            while not JobStatus(job.status.value).terminal:
                with contextlib.suppress(TimeoutError):
                    event = await asyncio.wait_for(events.get(), recheck_seconds(info))
                    if event.job_id != job.id:
                        continue
                fresh = await one_import(info, str(id))
                if fresh is None:
                    return
                job = fresh
                if _state(job) != last:
                    last = _state(job)
                    yield job
