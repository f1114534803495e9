"""Export a resource as a file; import a file of one, synchronously (the files are small).

An import upserts: a row whose identifier matches nothing is created, one that matches is
updated where it differs and left unchanged where it does not. It runs in one transaction:
with ABORT, a single rejected row means nothing is written (every rejection is still
reported); with SKIP, the good rows are written. A dry run writes nothing and reports the
same counts. The file comes with the request (multipart) or from an upload
(createImportUpload and its PUT); an upload is consumed (removed) by the import that writes
from it, and a dry run or an aborted import leaves it for another try."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from typing import BinaryIO

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.engine import rows_changed
from app.db.models import ImportUploadRow
from app.domain.auth import Principal, require
from app.domain.catalog import check_filters
from app.domain.errors import ErrorCode, user_error
from app.domain.imports.commands import ON_ERROR, check_upload
from app.domain.imports.uploads import own_upload, remove_upload_files
from app.domain.resources import formats
from app.domain.resources.catalog import DATASTREAMS, EXCHANGES, INSTRUMENTS
from app.domain.resources.export_schemas import EXPORT_SCHEMAS
from app.domain.resources.formats import ReadFile, ResourceFormat
from app.domain.resources.model import (
    MAX_ROWS,
    ExportFilter,
    Outcome,
    Rejection,
    Resource,
    ResourceKind,
    RowRejected,
)
from app.domain.resources.schedules import EXPORT_SCHEDULES
from app.domain.resources.webhooks import WEBHOOKS
from app.domain.runtime import Runtime
from app.storage import Storage, storage_for

RESOURCES: dict[ResourceKind, Resource] = {
    r.kind: r
    for r in (EXCHANGES, INSTRUMENTS, DATASTREAMS, EXPORT_SCHEMAS, EXPORT_SCHEDULES, WEBHOOKS)
}
MAX_FILE_BYTES = 10 * 1024 * 1024  # or the gateway's import limit, if smaller
MAX_LISTED_REJECTIONS = 1_000  # a file of bad rows must not make a response of megabytes


# -- export -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceFile:
    filename: str
    content_type: str
    row_count: int
    content: str


async def export_resources(
    session: AsyncSession,
    who: Principal,
    kind: ResourceKind,
    format: ResourceFormat,
    where: ExportFilter,
) -> ResourceFile:
    """Any key may export: the catalog is shared, and export schemas, schedules and webhooks
    are the caller's workspace's own (webhooks without their secrets)."""
    check_filters(filter=where.text)
    resource = RESOURCES[kind]
    rows = await resource.rows(session, who, dataclasses.replace(where, limit=MAX_ROWS + 1))
    if len(rows) > MAX_ROWS:
        raise user_error(
            ErrorCode.PAYLOAD_TOO_LARGE,
            "filter",
            f"more than {MAX_ROWS:,} rows: export them in parts with filter",
        )
    return ResourceFile(
        filename=kind.value.lower() + format.suffix,
        content_type=format.content_type,
        row_count=len(rows),
        content=formats.write(format, resource.columns, rows),
    )


# -- import -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentFile:
    """A file that came with the request."""

    filename: str
    source: BinaryIO


@dataclass(frozen=True)
class ImportResourcesRequest:
    resource: ResourceKind
    file: SentFile | None = None
    upload_id: str | None = None
    format: ResourceFormat | None = None  # None: from the file's name
    identifier_column: str | None = None  # None: the resource's
    on_error: str = "ABORT"
    dry_run: bool = False


@dataclass
class ImportOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected_rows: int = 0
    rejections: list[Rejection] = field(default_factory=list)  # the first ones, by line
    applied: bool = False  # whether the changes were saved

    def count(self, outcome: Outcome) -> None:
        name = outcome.value
        setattr(self, name, getattr(self, name) + 1)


async def import_resources(
    runtime: Runtime, who: Principal, request: ImportResourcesRequest
) -> ImportOutcome:
    resource = RESOURCES[request.resource]
    require_import_role(who, request.resource)
    _check_request(resource, request)
    async with runtime.sessions() as session:
        file, upload = await _file(runtime, session, who, request)
        outcome = await _apply(session, who, runtime.settings, resource, file)
        outcome.applied = not request.dry_run and (
            request.on_error == "SKIP" or outcome.rejected_rows == 0
        )
        if not outcome.applied:
            await session.rollback()
            return outcome
        if upload is not None:
            await _consume(session, upload)
        await _commit(session)
    if upload is not None:
        await asyncio.to_thread(remove_upload_files, runtime.settings, upload)
    return outcome


async def _file(
    runtime: Runtime, session: AsyncSession, who: Principal, request: ImportResourcesRequest
) -> tuple[ReadFile, ImportUploadRow | None]:
    """The file's records, and the upload they came from, if they did."""
    upload = None
    if request.file is not None:
        filename, field = request.file.filename, "input.file"
        content = await _sent(runtime, request.file)
    else:
        assert request.upload_id is not None
        upload = await own_upload(session, who, request.upload_id)
        check_upload(upload, _max_bytes(runtime))
        filename, field = upload.filename, "input.uploadId"
        content = await _uploaded(runtime, upload)
    format = formats.format_of(filename, request.format, "input.format")
    return formats.read(content, format, field), upload


def require_import_role(who: Principal, kind: ResourceKind) -> None:
    """ADMIN for the catalog and webhooks, MEMBER for export schemas and schedules: checked
    before a file is looked at."""
    require(who, RESOURCES[kind].import_role, ("input",))


def _check_request(resource: Resource, request: ImportResourcesRequest) -> None:
    column = request.identifier_column
    if column is not None and column != resource.identifier:
        raise user_error(
            ErrorCode.INVALID_ARGUMENT,
            "input.identifierColumn",
            f"{resource.kind.value} rows are identified by {resource.identifier!r} "
            f"({resource.identity})",
        )
    if request.on_error not in ON_ERROR:
        raise user_error(ErrorCode.INVALID_ARGUMENT, "input.onError", "ABORT or SKIP")
    if (request.file is None) == (request.upload_id is None):
        raise user_error(
            ErrorCode.INVALID_ARGUMENT, "input.file", "give exactly one of file and uploadId"
        )


def _max_bytes(runtime: Runtime) -> int:
    return min(MAX_FILE_BYTES, runtime.settings.max_import_bytes)


async def _sent(runtime: Runtime, sent: SentFile) -> bytes:
    limit = _max_bytes(runtime)
    content = await asyncio.to_thread(sent.source.read, limit + 1)
    if len(content) > limit:
        raise user_error(
            ErrorCode.PAYLOAD_TOO_LARGE,
            "input.file",
            f"the file is larger than {limit:,} bytes, the most a resource import takes",
        )
    return content


def _read_bytes(storage: Storage, key: str) -> bytes:
    with storage.local_copy(key) as path:
        return path.read_bytes()


async def _uploaded(runtime: Runtime, upload: ImportUploadRow) -> bytes:
    try:
        return await asyncio.to_thread(_read_bytes, storage_for(runtime.settings), upload.path)
    except FileNotFoundError:
        raise user_error(
            ErrorCode.FAILED_PRECONDITION,
            "input.uploadId",
            f"upload {upload.id} has no file any more: create a new one",
        ) from None


async def _apply(
    session: AsyncSession, who: Principal, settings: Settings, resource: Resource, file: ReadFile
) -> ImportOutcome:
    """Every record in the session (nothing committed); the rejections sorted by line."""
    outcome = ImportOutcome(rejected_rows=len(file.rejections))
    rejections = list(file.rejections)
    header = _header_rejections(resource, file.columns)
    if header:  # no row can be read without its required columns
        outcome.rejected_rows += len(file.records)
        outcome.rejections = header
        return outcome
    importer = await resource.importer(session, who, settings)
    for record in resource.ordered(file.records):
        try:
            outcome.count(await importer.apply(record))
        except RowRejected as rejected:
            outcome.rejected_rows += 1
            rejections += [Rejection(record.line, c, r) for c, r in rejected.problems]
    outcome.rejections = sorted(rejections, key=lambda r: r.line)[:MAX_LISTED_REJECTIONS]
    return outcome


def _header_rejections(resource: Resource, columns: tuple[str, ...] | None) -> list[Rejection]:
    """A CSV header (line 1) must have the required columns, and name no column of the
    resource twice; other columns are ignored."""
    if columns is None:
        return []
    missing = [
        Rejection(1, c, f"the header has no {c} column, which is required")
        for c in resource.required
        if c not in columns
    ]
    twice = [
        Rejection(1, c, f"the header names {c} more than once")
        for c in resource.columns
        if columns.count(c) > 1
    ]
    return missing + twice


async def _consume(session: AsyncSession, upload: ImportUploadRow) -> None:
    """In the import's transaction: a concurrent import of the same upload writes nothing."""
    result = await session.execute(
        delete(ImportUploadRow).where(
            ImportUploadRow.id == upload.id, ImportUploadRow.import_job_id.is_(None)
        )
    )
    if rows_changed(result) != 1:
        await session.rollback()
        raise user_error(
            ErrorCode.CONFLICT, "input.uploadId", f"upload {upload.id} was already imported"
        )


async def _commit(session: AsyncSession) -> None:
    try:
        await session.commit()
    except IntegrityError:  # another change created the same exchange, instrument or schema
        await session.rollback()
        raise user_error(
            ErrorCode.CONFLICT,
            "input",
            "the same entries were changed while this file was imported; nothing was "
            "written: import the file again",
        ) from None
