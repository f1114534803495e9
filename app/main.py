"""Starlette app factory: /graphql (HTTP + WebSocket, GraphiQL), /downloads/..., /healthz."""

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
from app.db.engine import async_sessions
from app.domain import exports, retention
from app.domain.auth import authenticate
from app.events import JobEvent, get_event_bus
from app.graphql.context import Context
from app.graphql.errors import request_id_var
from app.graphql.schema import build_schema
from app.storage import verify_signature
from engine.timestamps import now_ns

log = logging.getLogger(__name__)
GRAPHIQL_ASSETS = (
    Path(graphene_django_graphiql_static.__file__).parent
    / "static"
    / "graphene_django_graphiql_static"
)
GRAPHIQL_PAGE = Path(__file__).parent / "static" / "graphiql.html"


class GatewayGraphQL(GraphQL):
    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(build_schema(settings), **kwargs)
        self.settings = settings

    async def get_context(self, request: Any, response: Any) -> Context:  # type: ignore[override]
        context = Context(
            request=request, response=response, settings=self.settings, sessions=async_sessions()
        )
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
    settings: Settings = request.app.state.settings
    artifact_id = request.path_params["artifact_id"]
    if not verify_signature(
        settings,
        artifact_id,
        request.query_params.get("expires", ""),
        request.query_params.get("signature", ""),
    ):
        return PlainTextResponse("invalid or expired download link", status_code=403)
    async with async_sessions()() as session:
        found = await exports.get_artifact(session, artifact_id)
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


async def sweep_forever(settings: Settings) -> None:
    """Wake jobs that nobody is working on (lost messages, dead workers). See DESIGN.md."""
    from workers.broker import wake_export

    while True:
        await end_of_life_pass(settings)
        try:
            now = now_ns()
            async with async_sessions()() as session:
                stale = await exports.stale_jobs(
                    session,
                    heartbeat_before=now - int(settings.heartbeat_stale_seconds * 1e9),
                    queued_before=now - int(settings.queued_stale_seconds * 1e9),
                )
                await exports.mark_requeued(session, stale)
            for job_id in stale:
                log.info("waking stale export job %s", job_id)
                wake_export(job_id)
        except Exception:
            log.exception("sweeper pass failed")
        await asyncio.sleep(settings.sweep_interval_seconds)


async def end_of_life_pass(settings: Settings) -> None:
    """Fail jobs past the time limit that no live worker stopped, expire succeeded jobs past
    their retention and delete their files, and tell subscribers. Every gateway runs it;
    each change is a conditional update, so concurrent passes do each thing once."""
    try:
        async with async_sessions()() as session:
            changed = await retention.fail_overdue(session, settings)
            changed += await retention.expire_due(session, settings)
            await retention.purge_expired_files(session, settings)
        for job in changed:
            log.info("export job %s is now %s", job.id, job.status)
            get_event_bus().publish(JobEvent(job.id, job.workspace_id, job.status))
    except Exception:
        log.exception("retention and time-limit pass failed")


async def wake_unfinished(settings: Settings) -> None:
    """Embedded mode at start-up: this process is the only worker, so a job left RUNNING
    belonged to a process that is gone. Every unfinished job is resumed at once instead of
    after the stale-heartbeat timeout."""
    from workers.broker import wake_export

    async with async_sessions()() as session:
        ids = await exports.requeue_unfinished(session)
    for job_id in ids:
        wake_export(job_id)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    worker = None
    if settings.embedded_broker:
        import dramatiq

        import workers.actors  # noqa: F401  (registers the actors)
        from workers.broker import broker

        worker = dramatiq.Worker(broker, worker_threads=settings.worker_threads)
        worker.start()
        await wake_unfinished(settings)
    tasks = [
        asyncio.create_task(sweep_forever(settings)),
        asyncio.create_task(get_event_bus().bridge_forever()),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        if worker is not None:
            await asyncio.to_thread(worker.stop)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    graphql = GatewayGraphQL(settings, keep_alive=True, keep_alive_interval=15)
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
    app.state.settings = settings
    app.add_middleware(RequestIdMiddleware)
    return app
