"""Every request gets an id: the client's X-Request-Id if it sent a sane one, else a new one.
It is in every response's X-Request-Id header and in every error body, and in the log line
of anything that goes wrong, so a client's report finds the server's record."""

from __future__ import annotations

import contextvars
import logging
import uuid
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db.engine import is_unavailable

log = logging.getLogger(__name__)
UNAVAILABLE_MESSAGE = "the database is unavailable for the moment: retry in a few seconds"

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)


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

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
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
            response = error_response(503, "UNAVAILABLE", UNAVAILABLE_MESSAGE)
            response.headers["retry-after"] = "5"
            await response(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
