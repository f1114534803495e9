"""The gateway's composition root: the Starlette app (/graphql over HTTP and WebSocket with
GraphiQL, /downloads/..., /healthz), wired to a runtime whose effects reach the broker and the
event bus, and the background tasks (sweeper, event bridge, embedded workers)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import graphene_django_graphiql_static
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
)
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError

from app.config import Settings, get_settings
from app.domain.auth import authenticate
from app.domain.exports.queries import get_artifact
from app.domain.runtime import Runtime
from app.domain.sweeper import resume_unfinished, sweep_forever
from app.events import EventBus, build_event_bus
from app.graphql.context import Context
from app.graphql.errors import request_id_var
from app.graphql.root import build_schema
from app.storage import verify_signature
from workers.runtime import runtime_with, use_runtime

log = logging.getLogger(__name__)
GRAPHIQL_ASSETS = (
    Path(graphene_django_graphiql_static.__file__).parent
    / "static"
    / "graphene_django_graphiql_static"
)
GRAPHIQL_PAGE = Path(__file__).parent / "static" / "graphiql.html"


class GatewayGraphQL(GraphQL):
    def __init__(self, runtime: Runtime, bus: EventBus, **kwargs: Any) -> None:
        super().__init__(build_schema(runtime.settings), **kwargs)
        self.runtime = runtime
        self.bus = bus

    async def get_context(self, request: Any, response: Any) -> Context:  # type: ignore[override]
        context = Context(request=request, response=response, runtime=self.runtime, bus=self.bus)
        if request.scope["type"] == "http":
            async with context.sessions() as session:
                context.principal = await authenticate(session, request.headers.get("x-api-key"))
        return context

    async def on_ws_connect(self, context: Context) -> Any:  # type: ignore[override]
        params = context.connection_params or {}
        token = params.get("apiKey") or params.get("X-Api-Key") or params.get("x-api-key")
        if token is not None and not isinstance(token, str):
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        async with context.sessions() as session:
            context.principal = await authenticate(session, token)
        # Without a valid key the connection stays open and each operation gets an
        # UNAUTHENTICATED error, which clients can show; introspection still works.
        return {"authenticated": context.principal is not None}

    async def render_graphql_ide(self, request: Any) -> HTMLResponse:
        return HTMLResponse(GRAPHIQL_PAGE.read_text())


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

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


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
    async with runtime.sessions() as session:
        found = await get_artifact(session, artifact_id)
    if found is None:
        return PlainTextResponse("not found", status_code=404)
    artifact, _job = found
    path = settings.storage_dir / artifact.path
    if not path.is_file():
        return PlainTextResponse("file is no longer stored", status_code=410)
    return FileResponse(
        path,
        media_type=artifact.content_type,
        filename=artifact.filename,
        headers={"ETag": f'"{artifact.sha256}"', "Cache-Control": "private, max-age=3600"},
    )


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    runtime: Runtime = app.state.runtime
    bus: EventBus = app.state.bus
    worker = None
    if runtime.settings.embedded_broker:
        import dramatiq

        import workers.actors  # noqa: F401  (registers the actors)
        from workers.broker import broker

        use_runtime(runtime)  # embedded workers announce on this gateway's bus
        # A short poll timeout lets the gateway stop its workers in a fraction of a second.
        worker = dramatiq.Worker(
            broker, worker_threads=runtime.settings.worker_threads, worker_timeout=100
        )
        worker.start()
        await resume_unfinished(runtime)
    tasks = [
        asyncio.create_task(sweep_forever(runtime)),
        asyncio.create_task(bus.bridge_forever()),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if worker is not None:
            await asyncio.to_thread(worker.stop)
            use_runtime(None)
        await runtime.dispose()


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    bus = build_event_bus(settings)
    runtime = runtime_with(settings, bus)
    graphql = GatewayGraphQL(runtime, bus, keep_alive=True, keep_alive_interval=15)
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/downloads/{artifact_id}/{filename}", download, methods=["GET", "HEAD"]),
            Route("/healthz", healthz),
            Mount("/static/graphiql", StaticFiles(directory=GRAPHIQL_ASSETS), name="graphiql"),
        ],
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.bus = bus
    app.add_middleware(RequestIdMiddleware)
    return app
