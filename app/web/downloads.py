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
    storage = storage_for(settings)
    headers = {"ETag": f'"{artifact.sha256}"', "Cache-Control": "private, max-age=3600"}
    if storage.filesystem is None:
        path = storage.local_file(artifact.path)
        if path is None:
            return PlainTextResponse("file is no longer stored", status_code=410)
        return FileResponse(
            path, media_type=artifact.content_type, filename=artifact.filename, headers=headers
        )
    stored = await anyio.to_thread.run_sync(storage.stat, artifact.path)
    if stored is None:
        return PlainTextResponse("file is no longer stored", status_code=410)
    if settings.storage_downloads == "presigned":
        url, _expires = download_url(
            settings, "", artifact_id, artifact.filename, artifact.path, artifact.content_type
        )
        return RedirectResponse(url, status_code=307)
    headers |= {
        "Content-Length": str(stored.size),
        "Content-Disposition": attachment(artifact.filename),
    }
    return StreamingResponse(
        _streamed(storage, artifact.path), media_type=artifact.content_type, headers=headers
    )


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
    path = runtime.settings.storage_dir / report if report else None
    if path is None or not path.is_file():
        return PlainTextResponse("no report of rejected records is kept", status_code=404)
    return FileResponse(path, media_type="text/csv", filename=f"{job_id}-rejected.csv")
