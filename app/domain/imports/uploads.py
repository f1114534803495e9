"""Files clients send to be imported. Two ways in: `createImportUpload` returns a signed URL
that takes one PUT of the file (large files, straight to storage), or a multipart GraphQL
request carries it (`importRecords`). Either way the file lands under
`<storage>/uploads/<id>/<filename>`, written under a temporary name and renamed, never larger
than `max_import_bytes`; one import job consumes it, and the sweeper removes uploads nobody
used once their URL has expired."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import BinaryIO

import anyio
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.engine import rows_changed
from app.db.models import ImportUploadRow
from app.domain.auth import Principal, Role, require
from app.domain.errors import ErrorCode, user_error
from app.domain.runtime import Runtime
from app.ids import new_id
from app.storage import Storage, folder_of, storage_for
from engine.record_files import supported
from engine.timestamps import now_ns

MAX_FILENAME = 300
COPY_CHUNK = 1 << 20


def check_filename(filename: str, field: str) -> str:
    """A plain file name whose suffix says the format: .csv, .jsonl, .parquet, optionally .gz."""
    if not 1 <= len(filename) <= MAX_FILENAME or any(c in filename for c in "/\\\0"):
        raise user_error(
            ErrorCode.INVALID_ARGUMENT,
            field,
            f"a file name of 1 to {MAX_FILENAME} characters without / or \\",
        )
    if filename in (".", "..") or not supported(filename):
        raise user_error(
            ErrorCode.INVALID_ARGUMENT,
            field,
            f"{filename[:80]!r}: name the file .csv, .jsonl or .parquet (optionally .gz) "
            "after its format",
        )
    return filename


def check_size(size: int, limit: int, field: str) -> None:
    if size > limit:
        raise user_error(
            ErrorCode.PAYLOAD_TOO_LARGE,
            field,
            f"the file is {size:,} bytes; imports take at most {limit:,}",
        )


async def create_upload(
    runtime: Runtime, who: Principal, filename: str, byte_size: int | None
) -> ImportUploadRow:
    """A place for one file, and until when its signed PUT URL is valid."""
    require(who, Role.MEMBER, ("input",))
    check_filename(filename, "input.filename")
    if byte_size is not None:
        if byte_size < 0:
            raise user_error(ErrorCode.INVALID_ARGUMENT, "input.byteSize", "must be 0 or more")
        check_size(byte_size, runtime.settings.max_import_bytes, "input.byteSize")
    upload = _new_row(who, filename, now_ns() + int(runtime.settings.upload_ttl_seconds * 1e9))
    async with runtime.sessions() as session:
        session.add(upload)
        await session.commit()
    return upload


def _new_row(who: Principal, filename: str, expires_at: int) -> ImportUploadRow:
    upload_id = new_id("import_upload")
    return ImportUploadRow(
        id=upload_id,
        workspace_id=who.workspace_id,
        filename=filename,
        path=f"uploads/{upload_id}/{filename}",
        created_at=now_ns(),
        expires_at=expires_at,
    )


class UploadRefused(Exception):
    """A PUT the upload URL cannot take; `status` is the HTTP status to answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


async def receive_upload(
    runtime: Runtime, upload_id: str, chunks: AsyncIterator[bytes]
) -> ImportUploadRow:
    """Store the body of a signed PUT (its signature already checked). An upload takes one
    PUT; a body past the size limit is refused and nothing is kept."""
    settings = runtime.settings
    async with runtime.sessions() as session:
        upload = await session.get(ImportUploadRow, upload_id)
    if upload is None:
        raise UploadRefused(404, "NOT_FOUND", f"no upload {upload_id}")
    if upload.received_at is not None:
        raise UploadRefused(409, "CONFLICT", "this upload already has its file")
    storage, limit = storage_for(settings), settings.max_import_bytes
    size = await _write_chunks(chunks, storage, upload.path, limit)
    async with runtime.sessions() as session:
        won = await _mark_received(session, upload.id, size)
    if not won:  # a concurrent PUT finished first: the file is its
        raise UploadRefused(409, "CONFLICT", "this upload already has its file")
    upload.received_at, upload.byte_size = now_ns(), size
    return upload


async def _write_chunks(
    chunks: AsyncIterator[bytes], storage: Storage, key: str, limit: int
) -> int:
    temp = storage.staging_file(key)  # unique: concurrent PUTs never share it
    temp.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    try:
        async with await anyio.open_file(temp, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise UploadRefused(
                        413, "PAYLOAD_TOO_LARGE", f"imports take at most {limit:,} bytes"
                    )
                await out.write(chunk)
        await anyio.to_thread.run_sync(storage.publish, temp, key)
    finally:
        temp.unlink(missing_ok=True)
    return size


async def _mark_received(session: AsyncSession, upload_id: str, size: int) -> bool:
    result = await session.execute(
        update(ImportUploadRow)
        .where(ImportUploadRow.id == upload_id, ImportUploadRow.received_at.is_(None))
        .values(received_at=now_ns(), byte_size=size)
    )
    await session.commit()
    return rows_changed(result) == 1


async def store_file(
    runtime: Runtime, who: Principal, filename: str, source: BinaryIO, field: str
) -> ImportUploadRow:
    """A file that came with the request (multipart): copied to its upload place at once."""
    require(who, Role.MEMBER, ("input",))
    check_filename(filename, field)
    settings = runtime.settings
    upload = _new_row(who, filename, now_ns() + int(settings.upload_ttl_seconds * 1e9))
    storage = storage_for(settings)
    size = await anyio.to_thread.run_sync(
        _copy, source, storage, upload.path, settings.max_import_bytes
    )
    if size is None:
        await anyio.to_thread.run_sync(storage.delete_tree, folder_of(upload.path))
        raise user_error(
            ErrorCode.PAYLOAD_TOO_LARGE,
            field,
            f"the file is larger than {settings.max_import_bytes:,} bytes, the most imports take",
        )
    upload.received_at, upload.byte_size = now_ns(), size
    async with runtime.sessions() as session:
        session.add(upload)
        await session.commit()
    return upload


def _copy(source: BinaryIO, storage: Storage, key: str, limit: int) -> int | None:
    """Copy up to `limit` bytes; None if the source holds more (nothing is kept then)."""
    temp = storage.staging_file(key)
    temp.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    try:
        with open(temp, "wb") as out:
            while chunk := source.read(COPY_CHUNK):
                size += len(chunk)
                if size > limit:
                    return None
                out.write(chunk)
        storage.publish(temp, key)
        return size
    finally:
        temp.unlink(missing_ok=True)


async def own_upload(session: AsyncSession, who: Principal, upload_id: str) -> ImportUploadRow:
    upload = (
        await session.scalars(
            select(ImportUploadRow).where(
                ImportUploadRow.id == upload_id, ImportUploadRow.workspace_id == who.workspace_id
            )
        )
    ).first()
    if upload is None:
        raise user_error(ErrorCode.NOT_FOUND, "input.uploadId", f"no upload {upload_id[:60]!r}")
    return upload


def remove_upload_files(settings: Settings, upload: ImportUploadRow) -> None:
    """Blocking; missing files are fine."""
    storage_for(settings).delete_tree(folder_of(upload.path))
