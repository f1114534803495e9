"""Commands on import jobs: start one from an upload (validated, idempotent), cancel one.
Each owns its transaction and, once committed, wakes a worker or tells subscribers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import rows_changed
from app.db.models import DatastreamRow, ImportJobRow, ImportUploadRow
from app.domain import job_rows
from app.domain.auth import Principal, Role, require
from app.domain.errors import DomainError, ErrorCode, Problem, user_error
from app.domain.exports.requests import parse_datastream_id
from app.domain.exports.status import JobStatus
from app.domain.imports.queries import get_import
from app.domain.imports.uploads import check_size, own_upload, remove_upload_files
from app.domain.runtime import JobEvent, Runtime
from app.ids import new_id
from engine.timestamps import now_ns

ON_ERROR = ("ABORT", "SKIP")
MAX_IDEMPOTENCY_KEY = 200


@dataclass(frozen=True)
class ImportRequest:
    upload_id: str
    datastream_id: object  # as the client sent it: `101` or `ds_101`
    on_error: str = "ABORT"
    force: bool = False
    idempotency_key: str | None = None


async def start_import(
    runtime: Runtime, who: Principal, request: ImportRequest
) -> tuple[ImportJobRow, bool]:
    """Queue the import of an uploaded file; (job, created). Created is False when the
    idempotency key replays an earlier import of the same file into the same datastream."""
    require(who, Role.MEMBER, ("input",))
    async with runtime.sessions() as session:
        job, created = await _record(session, runtime, who, request)
    if created:
        runtime.effects.wake_import(job.id)
        runtime.effects.publish(JobEvent(job.id, job.workspace_id, job.status, "import"))
    return job, created


async def _record(
    session: AsyncSession, runtime: Runtime, who: Principal, request: ImportRequest
) -> tuple[ImportJobRow, bool]:
    key = request.idempotency_key
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise user_error(
            ErrorCode.INVALID_ARGUMENT,
            "input.idempotencyKey",
            f"an idempotency key has 1 to {MAX_IDEMPOTENCY_KEY} characters",
        )
    datastream_id = await _datastream(session, request.datastream_id)
    upload = await own_upload(session, who, request.upload_id)
    if request.idempotency_key is not None:
        earlier = await _by_key(session, who, request.idempotency_key)
        if earlier is not None:
            return _replayed(earlier, upload, datastream_id), False
    check_upload(upload, runtime.settings.max_import_bytes)
    job = ImportJobRow(
        id=new_id("import_job"),
        workspace_id=who.workspace_id,
        datastream_id=datastream_id,
        upload_id=upload.id,
        filename=upload.filename,
        byte_size=upload.byte_size or 0,
        on_error=request.on_error,
        force=request.force,
        status=JobStatus.QUEUED.value,
        idempotency_key=request.idempotency_key,
        created_at=now_ns(),
        attempts=0,
        bytes_read=0,
        records_read=0,
        records_rejected=0,
        records_stored=0,
    )
    session.add(job)
    claimed = await session.execute(
        update(ImportUploadRow)
        .where(ImportUploadRow.id == upload.id, ImportUploadRow.import_job_id.is_(None))
        .values(import_job_id=job.id)
    )
    if rows_changed(claimed) != 1:
        await session.rollback()
        raise _used(upload)
    try:
        await session.commit()
    except IntegrityError:  # a concurrent start with the same idempotency key won
        await session.rollback()
        earlier = await _by_key(session, who, request.idempotency_key or "")
        if earlier is None:
            raise
        return _replayed(earlier, upload, datastream_id), False
    return job, True


async def _datastream(session: AsyncSession, value: object) -> int:
    datastream_id = parse_datastream_id(value, "input.datastreamId")
    if await session.get(DatastreamRow, datastream_id) is None:
        raise user_error(
            ErrorCode.NOT_FOUND,
            "input.datastreamId",
            f"no datastream {datastream_id}: register it (registerDatastream) before importing",
        )
    return datastream_id


def check_upload(upload: ImportUploadRow, limit: int) -> None:
    if upload.received_at is None or upload.byte_size is None:
        raise user_error(
            ErrorCode.FAILED_PRECONDITION,
            "input.uploadId",
            f"upload {upload.id} has no file yet: PUT the file to its URL first",
        )
    if upload.import_job_id is not None:
        raise _used(upload)
    if upload.expires_at < now_ns():
        raise user_error(
            ErrorCode.FAILED_PRECONDITION,
            "input.uploadId",
            f"upload {upload.id} has expired: create a new one",
        )
    check_size(upload.byte_size, limit, "input.uploadId")


def _used(upload: ImportUploadRow) -> DomainError:
    return user_error(
        ErrorCode.CONFLICT,
        "input.uploadId",
        f"upload {upload.id} was already imported ({upload.import_job_id or 'another job'})",
    )


async def _by_key(session: AsyncSession, who: Principal, key: str) -> ImportJobRow | None:
    return (
        await session.scalars(
            select(ImportJobRow).where(
                ImportJobRow.workspace_id == who.workspace_id,
                ImportJobRow.idempotency_key == key,
            )
        )
    ).first()


def _replayed(earlier: ImportJobRow, upload: ImportUploadRow, datastream_id: int) -> ImportJobRow:
    """The same request again: the same upload, or (multipart: every request uploads anew)
    a file of the same name and size, into the same datastream."""
    same_file = earlier.upload_id == upload.id or (
        earlier.filename == upload.filename and earlier.byte_size == upload.byte_size
    )
    if same_file and earlier.datastream_id == datastream_id:
        return earlier
    raise DomainError(
        [
            Problem(
                ErrorCode.CONFLICT,
                ("input", "idempotencyKey"),
                f"idempotencyKey was already used for a different import ({earlier.id})",
            )
        ]
    )


async def discard_upload(runtime: Runtime, upload: ImportUploadRow) -> None:
    """An upload that no job will read (a refused or replayed multipart import)."""
    async with runtime.sessions() as session:
        row = await session.get(ImportUploadRow, upload.id)
        if row is not None and row.import_job_id is None:
            await session.delete(row)
            await session.commit()
    await asyncio.to_thread(remove_upload_files, runtime.settings, upload)


async def cancel_import(runtime: Runtime, who: Principal, job_id: str) -> ImportJobRow:
    """Stop a queued or running import: nothing it read is stored (its worker notices within
    a progress interval and throws its segments away)."""
    require(who, Role.MEMBER, ("input",))
    async with runtime.sessions() as session:
        job = await get_import(session, who, job_id)
        if job is None:
            raise user_error(ErrorCode.NOT_FOUND, "input.id", f"no import job {job_id[:60]!r}")
        await job_rows.cancel(session, ImportJobRow, job)
    runtime.effects.publish(JobEvent(job.id, job.workspace_id, job.status, "import"))
    return job
