"""Limits checked before any expensive work: header size, body size (refused from its
Content-Length, before it is read, or as soon as it passes the limit), and the JSON body
itself: it must parse, and nest no deeper than a limit (variables included), so that no
request reaches a parser's recursion limit or holds memory it should not.

Files are the exception: a multipart GraphQL request (importRecords) and a PUT to a signed
upload URL may be as large as an import file, so they are not held in memory here but
streamed on, after their Content-Length (required) passed the import size limit; the upload
handler and the multipart parser count what actually arrives.

Every refusal is a GraphQL-shaped error body with `extensions.code` and the request id."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.web.request_id import error_response

MAX_API_KEY_LENGTH = 256


class RequestLimits:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        problem = self._header_problem(scope)
        if problem is not None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": problem})
            else:
                response = error_response(431, "HEADERS_TOO_LARGE", problem)
                await response(scope, receive, send)
            return
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            if _carries_a_file(scope):
                await self._streamed(scope, receive, send)
            else:
                await self._with_checked_body(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Room for the multipart request's other parts (operations, map) besides the file.
        limit = self.settings.max_import_bytes + self.settings.max_body_bytes
        declared = _content_length(scope)
        if declared is None:
            message = "a file upload needs a Content-Length header"
            await error_response(411, "LENGTH_REQUIRED", message)(scope, receive, send)
        elif declared > limit:
            await _too_large(limit, scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _header_problem(self, scope: Scope) -> str | None:
        headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
        size = sum(len(name) + len(value) for name, value in headers)
        if size > self.settings.max_header_bytes:
            limit = self.settings.max_header_bytes
            return f"request headers are {size:,} bytes, the limit is {limit:,}"
        for name, value in headers:
            if name == b"x-api-key" and len(value) > MAX_API_KEY_LENGTH:
                return f"X-Api-Key is longer than {MAX_API_KEY_LENGTH} characters"
        return None

    async def _with_checked_body(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.settings.max_body_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(limit, scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(limit, scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = _json_problem(scope, body, self.settings.max_json_depth)
        if problem is not None:
            await error_response(400, "BAD_REQUEST", problem)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


def _carries_a_file(scope: Scope) -> bool:
    if scope["method"] == "PUT" and scope["path"].startswith("/uploads/"):
        return True
    return scope["method"] == "POST" and _header(scope, b"content-type").startswith(
        "multipart/form-data"
    )


def _header(scope: Scope, wanted: bytes) -> str:
    for name, value in scope.get("headers") or []:
        if name == wanted:
            return str(value.decode("latin-1")).lower()
    return ""


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            text = value.decode("latin-1")
            return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None
    return None


async def _too_large(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
    message = f"the request body is larger than {limit:,} bytes"
    await error_response(413, "PAYLOAD_TOO_LARGE", message)(scope, receive, send)


def _json_problem(scope: Scope, body: bytes, max_depth: int) -> str | None:
    """A JSON body must parse and nest at most `max_depth` deep; other bodies (multipart,
    forms) are the handler's to check."""
    if "json" not in _header(scope, b"content-type"):
        return None
    depth = json_nesting(body)
    if depth > max_depth:
        return f"the JSON body nests {depth} levels deep, the limit is {max_depth}"
    try:
        json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"the request body is not valid JSON: {exc}"
    return None


def json_nesting(body: bytes) -> int:
    """How deep brackets nest, outside strings: found without parsing (no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body, already read, handed to the app as if it came from the client."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            message: dict[str, Any] = {"type": "http.request", "body": body, "more_body": False}
            return message
        return await receive()

    return replay
