"""Tracing through real processes: with OTEL_EXPORTER_OTLP_ENDPOINT set, a gateway and the
workers that run its exports (embedded mode's worker process, or `python -m app worker` on a
Redis broker) send their spans over OTLP/HTTP; the request's traceparent reaches the worker's
span, whichever process it ran in. The spans are read back by a receiver decoding OTLP's
protobuf messages with the protocol's own definitions."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.helpers.data import BINANCE, Dataset
from tests.helpers.environments import environment
from tests.helpers.operations import CREATE, JOB

pytestmark = pytest.mark.e2e

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    trace_id: str
    span_id: str
    parent_id: str
    name: str


class Collector(http.server.ThreadingHTTPServer):
    """An OTLP/HTTP trace receiver on a loopback port, keeping what it was sent."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Receive)
        self.spans: list[ReceivedSpan] = []
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def keep(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            service = next(
                (
                    a.value.string_value
                    for a in resource.resource.attributes
                    if a.key == "service.name"
                ),
                "",
            )
            for scope in resource.scope_spans:
                with self.lock:
                    self.spans.extend(
                        ReceivedSpan(
                            service,
                            s.trace_id.hex(),
                            s.span_id.hex(),
                            s.parent_span_id.hex(),
                            s.name,
                        )
                        for s in scope.spans
                    )

    def named(self, name: str, timeout: float = 30) -> ReceivedSpan:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [s for s in self.spans if s.name == name and s.trace_id == TRACE_ID]
            if found:
                return found[0]
            time.sleep(0.1)
        raise AssertionError(f"no span {name!r} in trace {TRACE_ID}: {self.spans[-30:]}")


class _Receive(http.server.BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/v1/traces":
            self.server.keep(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_an_export_is_traced_from_the_request_into_the_worker_process(
    mode: str, collector: Collector, dataset: Dataset, tmp_path: Path
) -> None:
    with environment(
        mode,
        tmp_path,
        dataset,
        workers=1,
        streams=[BINANCE.id],
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint,
        OTEL_SERVICE_NAME="traced-gateway",
        OTEL_BSP_SCHEDULE_DELAY="100",  # milliseconds between batches
    ) as gateway:
        client = gateway.client()
        variables = {
            "input": {
                "datastreamId": str(BINANCE.id),
                "startTime": "2024-03-01T00:00:00Z",
                "endTime": "2024-03-01T00:05:00Z",
            }
        }
        created = client.post(CREATE, variables, headers={"traceparent": TRACEPARENT})
        job_id = created.json()["data"]["createExport"]["exportJob"]["id"]
        deadline = time.monotonic() + 60
        while client.execute(JOB, {"id": job_id})["exportJob"]["status"] in ("QUEUED", "RUNNING"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert client.execute(JOB, {"id": job_id})["exportJob"]["status"] == "SUCCEEDED"

        request = collector.named("POST /graphql")
        resolver = collector.named("GraphQL Resolving: createExport")
        worker = collector.named("worker run_export_job")
        run = collector.named("export run")
    assert request.parent_id == "b7ad6b7169203331"  # the caller's span
    assert worker.parent_id == resolver.span_id  # woken from inside createExport
    assert run.parent_id == worker.span_id
    assert {s.service for s in (request, worker, run)} == {"traced-gateway"}
