"""Prometheus metrics at `/metrics`: HTTP requests by route and status, GraphQL operations by
root field and outcome with their latency (recorded as they happen), and, read from the
database at each scrape, jobs by state, the queue's depth, notification deliveries by state
and their health, collections with their feeds and their health, export output (recent, and
counters of everything published: `rate()` gives rows and bytes per second), catalog entries
marked broken, and this process's subscribers.

Each app has its own registry (several apps in one process, as in the tests, never collide).
Label values are bounded: routes are the app's own, root fields the schema's."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.domain.runtime import Runtime
from app.domain.stats import RECENT_SECONDS, OperationalCounts, operational_counts
from app.events import EventBus

ROUTES = (
    "/graphql",
    "/downloads",
    "/uploads",
    "/healthz",
    "/readyz",
    "/metrics",
    "/dashboard",
    "/ui",  # the browser pages' assets
)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.http_requests = Counter(
            "gateway_http_requests",
            "HTTP requests by route and status class.",
            ["route", "status"],
            registry=r,
        )
        self.http_seconds = Histogram(
            "gateway_http_request_duration_seconds",
            "HTTP request latency by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.operations = Counter(
            "gateway_graphql_operations",
            "GraphQL operations by type, first root field and outcome (ok, error).",
            ["type", "field", "outcome"],
            registry=r,
        )
        self.operation_seconds = Histogram(
            "gateway_graphql_operation_duration_seconds",
            "GraphQL operation latency (queries and mutations) by type and first root field.",
            ["type", "field"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.shared_answers = Counter(
            "gateway_graphql_shared_answers",
            "Queries answered by the execution of an identical query (same key, document and "
            "variables) that started after they arrived, instead of an execution of their own.",
            registry=r,
        )
        self.jobs = Gauge("gateway_jobs", "Jobs by kind and state.", ["kind", "status"], registry=r)
        self.queue_depth = Gauge(
            "gateway_queue_depth",
            "Jobs waiting for a worker (QUEUED exports and imports).",
            registry=r,
        )
        self.deliveries = Gauge(
            "gateway_notification_deliveries",
            "Webhook and email deliveries by state.",
            ["status"],
            registry=r,
        )
        self.collections = Gauge(
            "gateway_collections",
            "Datastreams being collected (collected), with a feed up (connected), held by no "
            "live collector (unheld), whose feed reports an error (failing).",
            ["state"],
            registry=r,
        )
        self.recent_rows = Gauge(
            "gateway_export_rows_recent",
            f"Rows written by exports that finished in the last {RECENT_SECONDS} s.",
            registry=r,
        )
        self.recent_bytes = Gauge(
            "gateway_export_bytes_recent",
            f"Bytes written by exports that finished in the last {RECENT_SECONDS} s.",
            registry=r,
        )
        self.broken = Gauge(
            "gateway_broken_entries",
            "Catalog entries fsck marked broken (file missing or differing), by kind.",
            ["kind"],
            registry=r,
        )
        self.subscribers = Gauge(
            "gateway_subscribers", "Subscriptions this gateway process is serving.", registry=r
        )
        self.deliveries_retrying = Gauge(
            "gateway_notification_deliveries_retrying",
            "Deliveries waiting for another attempt after a failed one.",
            registry=r,
        )
        self.oldest_undelivered = Gauge(
            "gateway_notification_oldest_undelivered_seconds",
            "Age of the oldest delivery not yet made (0 when none waits).",
            registry=r,
        )
        self.recent_attempts = Gauge(
            "gateway_notification_attempts_recent",
            f"Webhook calls and emails of the last {RECENT_SECONDS} s by outcome (ok, failed).",
            ["outcome"],
            registry=r,
        )
        self.published = PublishedTotals()
        r.register(self.published)

    def observe_operation(self, kind: str, field: str, ok: bool, seconds: float) -> None:
        self.operations.labels(kind, field, "ok" if ok else "error").inc()
        if kind != "subscription":  # a subscription lasts as long as its client wants
            self.operation_seconds.labels(kind, field).observe(seconds)

    async def scrape(self, runtime: Runtime, bus: EventBus) -> bytes:
        async with runtime.sessions() as session:
            counts = await operational_counts(session)
        self.jobs.clear()
        for (kind, status), count in counts.jobs.items():
            self.jobs.labels(kind, status).set(count)
        self.queue_depth.set(sum(n for (_, status), n in counts.jobs.items() if status == "QUEUED"))
        self.deliveries.clear()
        for status, count in counts.deliveries.items():
            self.deliveries.labels(status).set(count)
        self.collections.labels("collected").set(counts.collections)
        self.collections.labels("connected").set(counts.collections_connected)
        self.collections.labels("unheld").set(counts.collections_unheld)
        self.collections.labels("failing").set(counts.collections_failing)
        self.deliveries_retrying.set(counts.deliveries_retrying)
        self.oldest_undelivered.set(counts.oldest_undelivered_seconds)
        for outcome, count in counts.recent_attempts.items():
            self.recent_attempts.labels(outcome).set(count)
        self.published.counts = counts
        self.recent_rows.set(counts.recent_export_rows)
        self.recent_bytes.set(counts.recent_export_bytes)
        for kind, count in counts.broken.items():
            self.broken.labels(kind).set(count)
        self.subscribers.set(bus.subscriber_count)
        return bytes(generate_latest(self.registry))


class PublishedTotals(Collector):
    """Counters of what exports published, ever: kept by the database (`export_totals`), so
    every gateway reports the same and they never go down; read at each scrape."""

    def __init__(self) -> None:
        self.counts: OperationalCounts | None = None

    def collect(self) -> Iterator[Metric]:
        counts = self.counts or OperationalCounts()
        yield CounterMetricFamily(
            "gateway_export_files_published", "Files exports published.", counts.published_files
        )
        yield CounterMetricFamily(
            "gateway_export_rows_written",
            "Rows in the files exports published.",
            counts.published_rows,
        )
        yield CounterMetricFamily(
            "gateway_export_bytes_written",
            "Bytes of the files exports published.",
            counts.published_bytes,
        )


async def metrics_endpoint(request: Request) -> Response:
    state = request.app.state
    body = await state.metrics.scrape(state.runtime, state.bus)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


class HttpMetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = _route(scope.get("path", ""))
        started = time.perf_counter()
        status = 500

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            self.metrics.http_requests.labels(route, f"{status // 100}xx").inc()
            self.metrics.http_seconds.labels(route).observe(time.perf_counter() - started)


def _route(path: str) -> str:
    return next((r for r in ROUTES if path == r or path.startswith(r + "/")), "other")


def metrics_of(context: Any) -> Metrics | None:
    """The app's metrics, from a GraphQL context (None outside an app, as in schema tests)."""
    request = getattr(context, "request", None)
    app = getattr(request, "app", None) if request is not None else None
    return getattr(getattr(app, "state", None), "metrics", None)
