"""OpenTelemetry tracing, when configured: a request continues its caller's trace (W3C
traceparent) through the HTTP span, the GraphQL operation, its database statements and, over
the broker, into the worker that runs the export it created. When it is off, nothing of
OpenTelemetry is even imported."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from app.config import Settings
from tests.api.helpers import CREATE, export_input, finished, idle_app
from tests.helpers.inprocess import (
    BYBIT_TRADES,
    TRADES,
    Seed,
    copy_seed,
    running_app,
    settings_for,
)
from tests.helpers.tracing import hex_ids, memory_spans

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN}-01"
VIEWER = "query WhoAmI { viewer { workspace { id } } }"


def traced(seed: Seed, tmp_path: Path) -> Settings:
    return settings_for(copy_seed(seed, tmp_path / "data"), tracing=True)


async def test_a_request_continues_the_callers_trace(seed: Seed, tmp_path: Path) -> None:
    spans = memory_spans()
    async with idle_app(traced(seed, tmp_path), seed.keys) as api:
        response = await api.http.post(
            "/graphql",
            json={"query": VIEWER},
            headers={"X-Api-Key": seed.keys["alpha"], "traceparent": TRACEPARENT},
        )
        assert response.status_code == 200 and not response.json().get("errors")
    mine = [s for s in spans.get_finished_spans() if hex_ids(s)[0] == TRACE_ID]
    [http] = [s for s in mine if s.name == "POST /graphql"]
    assert hex_ids(http)[2] == CALLER_SPAN  # a child of the caller's span
    [operation] = [s for s in mine if s.name == "GraphQL Query: WhoAmI"]
    assert dict(operation.attributes or {})["graphql.operation.type"] == "query"
    assert dict(operation.attributes or {})["graphql.operation.name"] == "WhoAmI"
    assert "query" not in dict(operation.attributes or {})  # documents may hold secrets
    assert [s.name for s in mine if s.name.startswith("GraphQL Resolving")] == [
        "GraphQL Resolving: viewer"  # root fields only
    ]
    statements = [s for s in mine if dict(s.attributes or {}).get("db.system") == "sqlite"]
    assert statements, [s.name for s in mine]


async def test_the_worker_continues_the_trace_of_the_request_that_created_the_job(
    seed: Seed, tmp_path: Path
) -> None:
    spans = memory_spans()
    async with running_app(traced(seed, tmp_path), seed.keys) as api:
        response = await api.http.post(
            "/graphql",
            json={"query": CREATE, "variables": {"input": export_input()}},
            headers={"X-Api-Key": seed.keys["alpha"], "traceparent": TRACEPARENT},
        )
        job = response.json()["data"]["createExport"]["exportJob"]
        assert (await finished(api, job["id"]))["status"] == "SUCCEEDED"
        worker = await _span_named(spans, "worker run_export_job")
        run = await _span_named(spans, "export run")
    assert hex_ids(worker)[0] == TRACE_ID
    assert dict(worker.attributes or {})["job.id"] == job["id"]
    assert hex_ids(run)[0] == TRACE_ID and hex_ids(run)[2] == hex_ids(worker)[1]
    # The wake-up was sent from inside the request's createExport resolver span.
    [resolver] = [
        s
        for s in spans.get_finished_spans()
        if s.name == "GraphQL Resolving: createExport" and hex_ids(s)[0] == TRACE_ID
    ]
    assert hex_ids(worker)[2] == hex_ids(resolver)[1]
    # Arguments may hold secrets (a webhook's): none is recorded.
    assert not [k for k in dict(resolver.attributes or {}) if k.startswith("graphql.param")]


async def test_each_part_of_an_export_is_a_span_of_its_job_and_workspace(
    seed: Seed, tmp_path: Path
) -> None:
    """A split export runs in parts, each a span a trace backend can find by job and by
    workspace, like the span of an export run in one piece."""
    spans = memory_spans()
    request = export_input(
        datastreamId=None,
        datastreamIds=[str(TRADES.id), str(BYBIT_TRADES.id)],
        split={"perDatastream": True},
    )
    async with running_app(traced(seed, tmp_path), seed.keys) as api:
        created = await api.execute(CREATE, {"input": request})
        job = created["createExport"]["exportJob"]
        assert (await finished(api, job["id"]))["status"] == "SUCCEEDED"
        await _span_named(spans, "export part")
        workspace = (await api.execute(VIEWER))["viewer"]["workspace"]["id"]
    parts = [s for s in spans.get_finished_spans() if s.name == "export part"]
    assert len(parts) == 2, [s.name for s in spans.get_finished_spans()]
    for part in parts:
        attributes = dict(part.attributes or {})
        assert attributes["job.id"] == job["id"]
        assert attributes["workspace.id"] == workspace
    assert len({dict(p.attributes or {})["export.part.id"] for p in parts}) == 2


async def _span_named(spans: Any, name: str, timeout: float = 10) -> Any:
    """The span ends just after the job's row says it finished: wait for it."""
    deadline = time.monotonic() + timeout
    while True:
        found = [s for s in spans.get_finished_spans() if s.name == name]
        if found:
            return found[0]
        assert time.monotonic() < deadline, [s.name for s in spans.get_finished_spans()]
        await asyncio.sleep(0.02)


def test_tracing_off_sets_nothing_up(tmp_path: Path) -> None:
    """In a process of its own (the tests' provider is process-wide): no tracer, no SDK
    tracing module loaded (a library may load OpenTelemetry's API on its own), no middleware,
    nothing added to a wake-up."""
    script = textwrap.dedent(
        f"""
        import pathlib, sys
        from app import tracing
        from app.main import create_app
        from tests.helpers.inprocess import settings_for
        from dramatiq import Message
        from workers.broker import EXPORT_QUEUE, broker, wake_export
        app = create_app(settings_for(pathlib.Path({str(tmp_path)!r})))
        wake_export("exp_0")
        [sent] = broker.queues[EXPORT_QUEUE].queue
        message = Message.decode(sent)
        assert message.options == {{}}, message.options
        assert not tracing.active()
        assert "opentelemetry.sdk.trace" not in sys.modules
        assert [m.cls.__name__ for m in app.user_middleware] == [
            "CORSMiddleware", "RequestIdMiddleware", "RequestLimits", "HttpMetricsMiddleware"
        ], app.user_middleware
        """
    )
    environment = {"PATH": "/usr/bin:/bin", "OTEL_EXPORTER_OTLP_ENDPOINT": ""}
    subprocess.run(
        [sys.executable, "-c", script], check=True, cwd=Path.cwd(), env=environment, timeout=60
    )
