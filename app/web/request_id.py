"""Every request gets an id: the client's X-Request-Id if it sent a sane one, else a new one.
It is in every response's X-Request-Id header and in every error body, and in every log line
written while the request is served (`app.logs`), so a client's report finds the server's
record. The same middleware writes the access line when the request ends: method, path,
status, duration, client, the GraphQL operation when there was one, and the request id."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db.engine import is_unavailable
from app.logs import request_id_var, request_notes_var

log = logging.getLogger(__name__)
access_log = logging.getLogger("gateway.access")
UNAVAILABLE_MESSAGE = "the database is unavailable for the moment: retry in a few seconds"
UNAVAILABLE_RETRY_SECONDS = 5  # what a client told UNAVAILABLE waits before it retries


def error_response(status: int, code: str, message: str, **extensions: Any) -> JSONResponse:
    """A GraphQL-shaped error body for failures before GraphQL runs (too large, not JSON)."""
    extensions = {"code": code, **extensions}
    if (request_id := request_id_var.get()) is not None:
        extensions["requestId"] = request_id
    body = {"data": None, "errors": [{"message": message, "extensions": extensions}]}
    return JSONResponse(body, status_code=status)


class RequestIdMiddleware:
    """Every HTTP response carries X-Request-Id (the client's, if it sent a sane one)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = (
            incoming if 0 < len(incoming) <= 128 and incoming.isprintable() else uuid.uuid4().hex
        )
        token = request_id_var.set(request_id)
        notes: dict[str, Any] = {}
        notes_token = request_notes_var.set(notes)
        began = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        started = False
        status = 500 if scope["type"] == "http" else 403  # until a response says otherwise

        async def tracking(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "websocket.accept":
                status = 101
            started = started or message["type"] in ("http.response.start", "websocket.accept")
            await send_with_id(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            # The database is down (authentication, a download's lookup...): a typed 503 the
            # client can retry, not a 500 with a traceback.
            if started or scope["type"] != "http" or not is_unavailable(exc):
                raise
            log.warning("request %s: the database is unavailable (%s)", request_id, exc)
            response = error_response(
                503, "UNAVAILABLE", UNAVAILABLE_MESSAGE, retryAfter=UNAVAILABLE_RETRY_SECONDS
            )
            response.headers["retry-after"] = str(UNAVAILABLE_RETRY_SECONDS)
            status = 503
            await response(scope, receive, send_with_id)
        finally:
            _log_access(scope, status, time.perf_counter() - began, notes)
            request_notes_var.reset(notes_token)
            request_id_var.reset(token)


def _log_access(scope: Scope, status: int, seconds: float, notes: dict[str, Any]) -> None:
    """One line per request (per WebSocket, when it closes), with its fields as data."""
    method = scope.get("method", "WS")
    path = scope.get("path", "")
    client = scope.get("client")
    duration_ms = round(seconds * 1000, 1)
    access_log.info(
        "%s %s %d %.1fms",
        method,
        path,
        status,
        duration_ms,
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "client": f"{client[0]}:{client[1]}" if client else None,
            **notes,
        },
    )
