"""Signed, expiring download links: no API key, a signature over artifact, file name and
expiry; files served with their size, type, name, sha256 ETag and Range support. The same
links serve an import job's report of rejected records (`/downloads/imp_…/rejected.csv`).

Artifacts in an object store are streamed from it (STORAGE_DOWNLOADS=proxy, a byte range
too), or the link redirects to a presigned URL of the store (`presigned`: the links in
notifications lead there too)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import BinaryIO

import anyio
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

from app.config import Settings
from app.domain.exports.queries import get_artifact
from app.domain.imports.queries import rejected_report
from app.domain.runtime import Runtime
from app.ids import id_prefix
from app.storage import Storage, attachment, download_url, storage_for, verify_signature

CHUNK_BYTES = 1 << 20


async def download(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    artifact_id = request.path_params["artifact_id"]
    if not verify_signature(
        settings,
        artifact_id,
        request.path_params["filename"],
        request.query_params.get("expires", ""),
        request.query_params.get("signature", ""),
    ):
        return PlainTextResponse("invalid or expired download link", status_code=403)
    if id_prefix(artifact_id) == "imp":
        return await _rejected_report(request, runtime, artifact_id)
    async with runtime.sessions() as session:
        found = await get_artifact(session, artifact_id)
    if found is None:
        return PlainTextResponse("not found", status_code=404)
    artifact, _job = found
    headers = {"ETag": f'"{artifact.sha256}"', "Cache-Control": "private, max-age=3600"}
    served = await _served(
        request,
        settings,
        artifact_id,
        artifact.filename,
        artifact.path,
        artifact.content_type,
        headers,
    )
    return served or PlainTextResponse("file is no longer stored", status_code=410)


async def _served(
    request: Request,
    settings: Settings,
    file_id: str,
    filename: str,
    key: str,
    content_type: str,
    headers: dict[str, str] | None = None,
    saved_as: str | None = None,
) -> Response | None:
    """The stored file `key` (None if there is none): from local disk, else a redirect to the
    store's presigned URL or the file streamed from the store; Range requests either way."""
    storage = storage_for(settings)
    headers = headers or {}
    if storage.filesystem is None:
        path = storage.local_file(key)
        if path is None:
            return None
        return FileResponse(
            path, media_type=content_type, filename=saved_as or filename, headers=headers
        )
    stored = await anyio.to_thread.run_sync(storage.stat, key)
    if stored is None:
        return None
    if settings.storage_downloads == "presigned":
        url, _expires = download_url(settings, "", file_id, filename, key, content_type, saved_as)
        return RedirectResponse(url, status_code=307)
    return _proxied(request, storage, key, stored.size, content_type, saved_as or filename, headers)


def _proxied(
    request: Request,
    storage: Storage,
    key: str,
    size: int,
    content_type: str,
    filename: str,
    headers: dict[str, str],
) -> Response:
    """The file streamed from the store, whole or one byte range (as FileResponse serves
    local files: other requests, several ranges say, get the whole file)."""
    headers = headers | {"Content-Disposition": attachment(filename), "Accept-Ranges": "bytes"}
    span = _byte_range(request.headers.get("range", ""), size)
    if span == UNSATISFIABLE:
        return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
    start, end = span or (0, size)
    if span is not None:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Length"] = str(end - start)
    status = 206 if span is not None else 200
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=content_type)
    body = _streamed(storage, key, start, end)
    return StreamingResponse(body, status_code=status, media_type=content_type, headers=headers)


UNSATISFIABLE = (-1, -1)


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """[start, end) of a single `bytes=` range; None for no range, or one this does not serve
    (several, or malformed: the whole file then); UNSATISFIABLE past the end."""
    unit, _, spec = header.partition("=")
    first, dash, last = spec.strip().partition("-")
    if unit.strip().lower() != "bytes" or not dash or "," in spec:
        return None
    if not first and last.isdigit():  # the last N bytes
        count = int(last)
        return (max(0, size - count), size) if count and size else UNSATISFIABLE
    if not first.isdigit() or not (last.isdigit() or not last):
        return None
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        return UNSATISFIABLE
    return start, min(size, int(last) + 1) if last else size


async def _streamed(storage: Storage, key: str, start: int, end: int) -> AsyncIterator[bytes]:
    """Bytes [start, end) of the object, read a chunk at a time in a worker thread."""
    handle: BinaryIO = await anyio.to_thread.run_sync(storage.open_read, key)
    try:
        if start:
            await anyio.to_thread.run_sync(handle.seek, start)
        left = end - start
        while left > 0 and (
            chunk := await anyio.to_thread.run_sync(handle.read, min(left, CHUNK_BYTES))
        ):
            left -= len(chunk)
            yield chunk
    finally:
        await anyio.to_thread.run_sync(handle.close)


async def _rejected_report(request: Request, runtime: Runtime, job_id: str) -> Response:
    async with runtime.sessions() as session:
        report = await rejected_report(session, job_id)
    saved_as = f"{job_id}-rejected.csv"
    served = None
    if report is not None:
        served = await _served(
            request, runtime.settings, job_id, "rejected.csv", report, "text/csv", saved_as=saved_as
        )
    return served or PlainTextResponse("no report of rejected records is kept", status_code=404)
