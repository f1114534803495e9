"""The gateway's composition root: the Starlette app (/graphql over HTTP and WebSocket with
GraphiQL, /dashboard and the pages' assets under /ui/, /downloads/..., /uploads/..., /healthz,
/readyz, /metrics), wired to a runtime whose
effects reach the broker and the event bus, and the background tasks: the sweeper, the event
bridge and, in embedded mode, the worker process it supervises (or worker threads in this
process, with GATEWAY_EMBEDDED_WORKERS=thread)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types.unset import UNSET

from app import tracing
from app.config import Settings, get_settings
from app.db.engine import is_unavailable
from app.demo.feed import exchange_feed
from app.domain.auth import Principal, authenticate
from app.domain.notifications.dispatch import notify_forever
from app.domain.runtime import Runtime
from app.domain.sweeper import resume_unfinished, sweep_forever
from app.events import EventBus, build_event_bus
from app.graphql.context import Context
from app.graphql.root import build_schema
from app.heap import freeze_startup_objects, thaw_startup_objects
from app.web.downloads import download
from app.web.health import healthz, readyz
from app.web.limits import RequestLimits, json_nesting
from app.web.metrics import HttpMetricsMiddleware, Metrics, metrics_endpoint
from app.web.rate_limits import RateLimiter
from app.web.request_id import RequestIdMiddleware, error_response
from app.web.ui import BUNDLE_DIR, BundleAssets, dashboard, page
from app.web.uploads import receive_upload
from workers.collector.runner import Collector
from workers.embedded.supervisor import WorkerSupervisor
from workers.runtime import runtime_with, use_runtime

log = logging.getLogger(__name__)
# Subscriptions over WebSockets (both protocols), Server-Sent Events (graphql-sse, distinct
# connections mode) and multipart HTTP (Apollo's multipart subscriptions).
SUBSCRIPTION_PROTOCOLS = (
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    GRAPHQL_SSE_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
# What a page on an allowed origin may read of a response.
EXPOSED_HEADERS = [
    "x-request-id",
    "retry-after",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "ratelimit-policy",
    "content-disposition",
    "content-length",
    "etag",
]


class GatewayGraphQL(GraphQL):
    def __init__(
        self, runtime: Runtime, bus: EventBus, limiter: RateLimiter, **kwargs: Any
    ) -> None:
        super().__init__(build_schema(runtime.settings, limiter), **kwargs)
        self.runtime = runtime
        self.bus = bus

    async def get_context(self, request: Any, response: Any) -> Context:  # type: ignore[override]
        context = Context(request=request, response=response, runtime=self.runtime, bus=self.bus)
        if request.scope["type"] == "http":
            context.principal = await self._caller(context, request.headers.get("x-api-key"))
        return context

    async def _caller(self, context: Context, token: str | None) -> Principal | None:
        """The key's caller: remembered from a moment ago (no session opened), or looked up.
        A dashboard polls every second; a thousand reconnect at once after a restart."""
        principals = self.runtime.principals
        remembered = principals.remembered(token)
        if remembered is not None:
            return remembered
        async with context.sessions() as session:
            return await authenticate(session, token, principals)

    async def on_ws_connect(self, context: Context) -> Any:  # type: ignore[override]
        params = context.connection_params or {}
        token = params.get("apiKey") or params.get("X-Api-Key") or params.get("x-api-key")
        if token is not None and not isinstance(token, str):
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        try:
            context.principal = await self._caller(context, token)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            # The database is down: the key is checked at each operation instead, which
            # answers UNAVAILABLE until the database is back (not a broken connection).
            context.unchecked_token = token
            return {"authenticated": None}
        # Where links point, worked out now rather than on the first event, when a thousand
        # subscribers of this process would each work it out at once.
        context.base_url()
        # Without a valid key the connection stays open and each operation gets an
        # UNAUTHENTICATED error, which clients can show; introspection still works.
        return {"authenticated": context.principal is not None}

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """A request Strawberry refuses before GraphQL runs (a multipart body it cannot
        parse, say) gets the same GraphQL-shaped error body as every other refusal; the
        files of a multipart request are closed whatever happened."""
        try:
            return await super().run(request, context, root_value)
        except HTTPException as exc:
            return error_response(exc.status_code, "BAD_REQUEST", exc.reason)
        finally:
            if isinstance(request, Request):
                await request.close()  # a multipart request's spooled files

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Any,
        root_value: Any,
        request_data: Any,
    ) -> Any:
        """Plain HTTP (no streaming transport asked for): a subscription is refused with a
        typed error rather than run as a query."""
        if _is_subscription(request_data.query, request_data.operation_name):
            raise HTTPException(400, PLAIN_HTTP_SUBSCRIPTION)
        return await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )

    def encode_json(self, data: object) -> str:
        """Responses and WebSocket messages (text frames: a str) with orjson, a fraction of
        json's cost; what orjson refuses (integers past 64 bits) json writes."""
        try:
            return orjson.dumps(data).decode()
        except TypeError:
            return json.dumps(data, separators=(",", ":"))

    def decode_json(self, data: str | bytes) -> object:
        """WebSocket messages too: a message nested past the limit is not JSON we take (the
        connection closes with 4400), rather than a RecursionError in the decoder."""
        raw = data.encode() if isinstance(data, str) else data
        if json_nesting(raw) > self.runtime.settings.max_json_depth:
            raise json.JSONDecodeError(
                "the message nests too deeply", raw.decode(errors="replace"), 0
            )
        return json.loads(raw)

    async def render_graphql_ide(self, request: Any) -> Response:
        """GraphiQL (bundled from frontend/), or a 503 saying the bundle is not built."""
        return page(request, "graphiql.html")


PLAIN_HTTP_SUBSCRIPTION = (
    "a subscription needs a streaming transport: a WebSocket (graphql-transport-ws), "
    "Server-Sent Events (Accept: text/event-stream) or multipart HTTP "
    '(Accept: multipart/mixed;subscriptionSpec="1.0")'
)


def _is_subscription(query: str | None, operation_name: str | None) -> bool:
    if not query or "subscription" not in query:  # the common case costs no parse
        return False
    try:
        document = parse(query)
    except (GraphQLError, RecursionError):
        return False  # the executor reports it
    operation = get_operation_ast(document, operation_name)
    return operation is not None and operation.operation == OperationType.SUBSCRIPTION


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    runtime: Runtime = app.state.runtime
    bus: EventBus = app.state.bus
    supervisor: WorkerSupervisor | None = app.state.supervisor
    worker = None
    if supervisor is not None:
        # Started before the loops below wake anything; each worker process it starts
        # resumes the jobs the previous one (or the previous gateway) left.
        await supervisor.start(lambda: resume_unfinished(runtime))
    elif runtime.settings.embedded_broker:
        worker = await _start_worker_threads(runtime)
    tasks = [
        asyncio.create_task(sweep_forever(runtime)),
        asyncio.create_task(notify_forever(runtime)),
        asyncio.create_task(bus.bridge_forever()),
    ]
    try:
        async with contextlib.AsyncExitStack() as stack:
            if runtime.settings.demo_feed:  # the local exchange feed `make run` collects from
                feed = exchange_feed(port=runtime.settings.demo_feed_port)
                await stack.enter_async_context(feed)
            if runtime.settings.gateway_collects:
                stop = asyncio.Event()
                collector = asyncio.create_task(Collector(runtime).run(stop))
                stack.push_async_callback(_stop_collector, stop, collector)
            freeze_startup_objects()
            yield
    finally:
        thaw_startup_objects()  # an app stopped in a longer-lived process (the tests)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if supervisor is not None:
            await supervisor.stop()
        if worker is not None:
            await asyncio.to_thread(worker.stop)
            use_runtime(None)
        await release(app)


async def _start_worker_threads(runtime: Runtime) -> Any:
    """GATEWAY_EMBEDDED_WORKERS=thread: Dramatiq worker threads in this process, on the
    in-memory broker, announcing on this gateway's bus (the API tests run this way)."""
    import dramatiq

    import workers.actors  # noqa: F401  (registers the actors)
    from workers.broker import broker

    use_runtime(runtime)
    # A short poll timeout lets the gateway stop its workers in a fraction of a second.
    worker = dramatiq.Worker(
        broker, worker_threads=runtime.settings.worker_threads, worker_timeout=100
    )
    worker.start()
    await resume_unfinished(runtime)
    return worker


async def _stop_collector(stop: asyncio.Event, collector: asyncio.Task[None]) -> None:
    """The collector flushes what it received and ends its spans (STOPPED)."""
    stop.set()
    await collector


async def release(app: Starlette) -> None:
    """Close what the app holds open (database pools, the rate limit store's connections)."""
    await app.state.runtime.dispose()
    await app.state.limiter.aclose()


def create_app(settings: Settings | None = None, bundle_dir: Path | None = None) -> Starlette:
    """The gateway; `bundle_dir` is where the built pages are (default: the package's)."""
    settings = settings or get_settings()
    bundle_dir = bundle_dir or BUNDLE_DIR
    traced = tracing.configure(settings)  # before the engines and the schema are made
    bus = build_event_bus(settings)
    supervisor = None
    if settings.embedded_broker and settings.embedded_workers == "process":
        supervisor = WorkerSupervisor(settings, publish=bus.publish, resync=bus.resync)
        runtime = Runtime.create(settings, supervisor.effects())
    else:
        runtime = runtime_with(settings, bus)
    limiter = RateLimiter(settings)
    graphql = GatewayGraphQL(
        runtime,
        bus,
        limiter,
        keep_alive=True,
        keep_alive_interval=15,
        multipart_uploads_enabled=True,  # importRecords; bounded by RequestLimits
        subscription_protocols=SUBSCRIPTION_PROTOCOLS,
        allowed_origins=settings.allowed_origins,  # WebSockets from other origins
    )
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/downloads/{artifact_id}/{filename}", download, methods=["GET", "HEAD"]),
            Route("/uploads/{upload_id}", receive_upload, methods=["PUT"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            Route("/dashboard", dashboard),
            Mount("/ui", BundleAssets(bundle_dir), name="ui"),
        ],
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.bus = bus
    app.state.supervisor = supervisor
    app.state.limiter = limiter
    app.state.bundle_dir = bundle_dir
    app.state.metrics = metrics = Metrics()
    app.add_middleware(HttpMetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestLimits, settings=settings)
    app.add_middleware(RequestIdMiddleware)  # every response carries its id
    # Outermost: a preflight is answered (or, from an origin not allowed, refused with a 400
    # saying so) before anything else.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST", "PUT", "HEAD"],
        allow_headers=["x-api-key", "content-type", "accept", "range", "last-event-id"],
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
    )
    if traced:  # outermost: every line logged while serving carries the request's trace
        middleware, options = tracing.asgi_middleware()
        app.add_middleware(middleware, **options)
    return app
