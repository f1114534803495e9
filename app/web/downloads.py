"""Signed, expiring download links: no API key, a signature over artifact, file name and
expiry; files served with their size, type, name, sha256 ETag and Range support. The same
links serve an import job's report of rejected records (`/downloads/imp_…/rejected.csv`).

Artifacts in an object store are streamed from it (STORAGE_DOWNLOADS=proxy, whole files: no
Range), or the link redirects to a presigned URL of the store (`presigned`: the links in
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
        return await _rejected_report(runtime, artifact_id)
    async with runtime.sessions() as session:
        found = await get_artifact(session, artifact_id)
    if found is None:
        return PlainTextResponse("not found", status_code=404)
    artifact, _job = found
    headers = {"ETag": f'"{artifact.sha256}"', "Cache-Control": "private, max-age=3600"}
    served = await _served(
        settings, artifact_id, artifact.filename, artifact.path, artifact.content_type, headers
    )
    return served or PlainTextResponse("file is no longer stored", status_code=410)


async def _served(
    settings: Settings,
    file_id: str,
    filename: str,
    key: str,
    content_type: str,
    headers: dict[str, str] | None = None,
    saved_as: str | None = None,
) -> Response | None:
    """The stored file `key` (None if there is none): from local disk with Range support,
    else a redirect to the store's presigned URL or the file streamed from the store."""
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
    headers |= {
        "Content-Length": str(stored.size),
        "Content-Disposition": attachment(saved_as or filename),
    }
    return StreamingResponse(_streamed(storage, key), media_type=content_type, headers=headers)


async def _streamed(storage: Storage, key: str) -> AsyncIterator[bytes]:
    """The object's bytes, read a chunk at a time in a worker thread."""
    handle: BinaryIO = await anyio.to_thread.run_sync(storage.open_read, key)
    try:
        while chunk := await anyio.to_thread.run_sync(handle.read, CHUNK_BYTES):
            yield chunk
    finally:
        await anyio.to_thread.run_sync(handle.close)


async def _rejected_report(runtime: Runtime, job_id: str) -> Response:
    async with runtime.sessions() as session:
        report = await rejected_report(session, job_id)
    saved_as = f"{job_id}-rejected.csv"
    served = None
    if report is not None:
        served = await _served(
            runtime.settings, job_id, "rejected.csv", report, "text/csv", saved_as=saved_as
        )
    return served or PlainTextResponse("no report of rejected records is kept", status_code=404)
