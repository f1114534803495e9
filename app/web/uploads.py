"""Signed upload URLs: `PUT /uploads/<id>?expires=…&signature=…` with the file as the body
(no API key: the signature, made by createImportUpload, is the permission). The body streams
to storage; one PUT per upload; never more than the import size limit."""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from app.domain.imports.uploads import UploadRefused
from app.domain.imports.uploads import receive_upload as store_upload
from app.domain.runtime import Runtime
from app.storage import verify_upload_signature
from app.web.request_id import error_response


async def receive_upload(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    upload_id = request.path_params["upload_id"]
    if not verify_upload_signature(
        runtime.settings,
        upload_id,
        request.query_params.get("expires", ""),
        request.query_params.get("signature", ""),
    ):
        return error_response(403, "FORBIDDEN", "invalid or expired upload link")
    try:
        upload = await store_upload(runtime, upload_id, request.stream())
    except UploadRefused as refused:
        return error_response(refused.status, refused.code, str(refused))
    except ClientDisconnect:
        return Response(status_code=400)  # nobody is left to read an answer
    return JSONResponse(
        {"id": upload.id, "filename": upload.filename, "byteSize": upload.byte_size},
        status_code=201,
    )
