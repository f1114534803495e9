"""The work a chaos run keeps going while it breaks things: exports of several shapes (whole,
in parts by hour or per datastream, in several files), imports and a recurring export, each
job followed by a subscriber that reconnects (to either gateway) when its connection dies.

Clients behave as a careful client would under failures: a request that could not be
answered (a gateway gone, HTTP 503 UNAVAILABLE) is sent again, to either gateway, with the
same idempotency key; anything else unexpected (an HTTP 500, an untyped error) is recorded
as a defect."""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.sync.client import connect

from tests.helpers.chaos.cluster import BINANCE, BYBIT, IMPORTS, IMPORTS_FIRST_NS, Cluster
from tests.helpers.operations import LONG_SCHEMA

WHOLE = {"startTime": "2024-03-01T00:00:00Z", "endTime": "2024-03-01T03:00:00Z"}
# Every shape gives the same files each time it runs (names aside: they carry the job id).
SHAPES: dict[str, dict[str, Any]] = {
    "csv-normalized": {"datastreamId": str(BINANCE.id), "schema": "normalized", **WHOLE},
    # Slow on purpose: every message parsed as JSON, transformed and written again.
    "jsonl-transforms": {
        "datastreamId": str(BINANCE.id),
        "inlineSchema": LONG_SCHEMA,
        "format": "JSONL",
        **WHOLE,
    },
    "parquet-hourly-parts": {
        "datastreamId": str(BINANCE.id),
        "schema": "normalized",
        "format": "PARQUET",
        "split": {"by": "HOUR"},
        **WHOLE,
    },
    "two-streams-per-datastream-parts": {
        "datastreamIds": [str(BINANCE.id), str(BYBIT.id)],
        "schema": "normalized",
        "format": "CSV",
        "split": {"perDatastream": True},
        **WHOLE,
    },
    "raw-jsonl-files-of-20k-rows": {
        "datastreamId": str(BYBIT.id),
        "format": "JSONL",
        "split": {"maxRowsPerFile": 20_000},
        **WHOLE,
    },
}
SCHEDULE_TEMPLATE = {"datastreamId": str(BINANCE.id), "format": "CSV", "schema": "raw"}
# The schedule's periods: years in UTC, so 2024 (every record) and 2025 (none) are due.
SCHEDULE_PERIODS = [
    ("2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"),
    ("2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
]
# Each period's job, as a plain export: what its files must be.
SCHEDULE_SHAPES = {
    f"schedule-{start[:4]}": {**SCHEDULE_TEMPLATE, "startTime": start, "endTime": end}
    for start, end in SCHEDULE_PERIODS
}
IMPORT_RECORDS = 20_000
IMPORT_REJECTED_LINES = (5, 12_345)

CREATE = """mutation($input: CreateExportInput!) { createExport(input: $input) {
  exportJob { id status } userErrors { code field message } } }"""
CREATE_SCHEDULE = """mutation($input: CreateExportScheduleInput!) {
  createExportSchedule(input: $input) { exportSchedule { id } userErrors { code message } } }"""
IMPORT = """mutation($input: ImportRecordsInput!) { importRecords(input: $input) {
  importJob { id status } userErrors { code field message } } }"""
FOLLOW_EXPORT = """subscription($id: ID!) { exportJobUpdated(id: $id) { id status } }"""
FOLLOW_IMPORT = """subscription($id: ID!) { importJobUpdated(id: $id) { id status } }"""
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELED", "EXPIRED", "DELETED"}


class Defects:
    """What a client met that it never should (HTTP 500, untyped errors), from any thread."""

    def __init__(self) -> None:
        self.found: list[str] = []
        self._lock = threading.Lock()

    def add(self, what: str) -> None:
        with self._lock:
            self.found.append(what[:500])


class Gateways:
    """Requests to whichever gateway answers, retried while none can."""

    def __init__(self, cluster: Cluster, defects: Defects, rng: random.Random) -> None:
        self.cluster = cluster
        self.defects = defects
        self._rng = rng
        self._lock = threading.Lock()
        self.retries = 0

    def url(self) -> str:
        with self._lock:
            return self._rng.choice(self.cluster.gateways).url

    def execute(
        self, query: str, variables: dict[str, Any], files: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        deadline = time.monotonic() + 120
        while True:
            answer = self._post(query, variables, files)
            if answer is not None:
                return answer
            assert time.monotonic() < deadline, f"no gateway answered {query[:60]}"
            with self._lock:
                self.retries += 1
            time.sleep(0.3)

    def _post(
        self, query: str, variables: dict[str, Any], files: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The data, or None when the request should be sent again."""
        headers = {"X-Api-Key": self.cluster.key}
        try:
            if files is None:
                response = httpx.post(
                    self.url() + "/graphql",
                    json={"query": query, "variables": variables},
                    headers=headers,
                    timeout=30,
                )
            else:
                response = httpx.post(
                    self.url() + "/graphql", files=files, headers=headers, timeout=60
                )
        except httpx.HTTPError:
            return None  # a gateway going or gone
        if response.status_code == 503:
            body = response.json()
            codes = {e.get("extensions", {}).get("code") for e in body.get("errors", [])}
            if codes != {"UNAVAILABLE"}:
                self.defects.add(f"503 without UNAVAILABLE: {response.text}")
            return None
        body = response.json() if response.status_code == 200 else {}
        errors = body.get("errors")
        if response.status_code != 200 or errors:
            codes = {e.get("extensions", {}).get("code") for e in errors or []}
            if codes == {"UNAVAILABLE"}:
                return None
            self.defects.add(f"HTTP {response.status_code}: {response.text}")
            return None
        return dict(body["data"])


@dataclass
class Job:
    id: str
    kind: str  # export | import | schedule
    shape: str  # the SHAPES key, the import's name, or the schedule's period
    subscriber: Subscriber | None = None


@dataclass
class Subscriber:
    """Follows one job over graphql-transport-ws until it sees a terminal state; when the
    connection dies or the subscription ends in an error, it subscribes again (to either
    gateway), and the first message of a new subscription is the job's current state."""

    gateways: Gateways
    job_id: str
    query: str
    root_field: str
    defects: Defects
    statuses: list[str] = field(default_factory=list)
    connections: int = 0
    errors: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Subscriber:
        threading.Thread(target=self._run, daemon=True).start()
        return self

    @property
    def terminal(self) -> str | None:
        return self.statuses[-1] if self.statuses and self.statuses[-1] in TERMINAL else None

    def _run(self) -> None:
        deadline = time.monotonic() + 900
        while self.terminal is None and time.monotonic() < deadline:
            try:
                self._follow_once()
            except ConnectionClosed as closed:  # by a dying gateway, or by an error?
                if closed.rcvd is not None and closed.rcvd.code == 1011:
                    self.defects.add(f"{self.job_id}: the gateway closed with 1011 {closed}")
            except (OSError, TimeoutError, WebSocketException):
                pass  # the gateway died or restarts: subscribe again
            if self.terminal is None:
                time.sleep(0.3)
        self.done.set()

    def _follow_once(self) -> None:
        url = self.gateways.url().replace("http://", "ws://") + "/graphql"
        with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=5) as ws:  # type: ignore[list-item]
            self.connections += 1
            init = {"type": "connection_init", "payload": {"apiKey": self.gateways.cluster.key}}
            ws.send(json.dumps(init))
            if json.loads(ws.recv(timeout=10))["type"] != "connection_ack":
                return
            payload = {"query": self.query, "variables": {"id": self.job_id}}
            ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            while True:
                message = json.loads(ws.recv(timeout=60))
                if message["type"] == "ping":
                    ws.send(json.dumps({"type": "pong"}))
                elif message["type"] == "next" and message["payload"].get("data"):
                    self.statuses.append(message["payload"]["data"][self.root_field]["status"])
                elif message["type"] in ("next", "error"):
                    self.errors.append(json.dumps(message)[:300])  # e.g. UNAVAILABLE: again
                    return
                elif message["type"] == "complete":
                    return


def create_export(gateways: Gateways, shape: str, key: str) -> Job:
    """The same key on every attempt: a retried request finds the job the first one made."""
    request = {**SHAPES, **SCHEDULE_SHAPES}[shape] | {"idempotencyKey": key}
    payload = gateways.execute(CREATE, {"input": request})["createExport"]
    assert payload["userErrors"] == [], payload
    return follow(gateways, Job(payload["exportJob"]["id"], "export", shape))


def import_records(gateways: Gateways, index: int) -> Job:
    """A JSON lines file of its own time range, sent with importRecords (multipart)."""
    first = IMPORTS_FIRST_NS + index * 10**12
    lines = [
        json.dumps({"collection_timestamp_ns": first + i * 1000, "data": {"seq": i, "n": index}})
        for i in range(IMPORT_RECORDS)
    ]
    for line in IMPORT_REJECTED_LINES:  # left out and reported (onError: SKIP)
        lines[line - 1] = "not a record"
    content = ("\n".join(lines) + "\n").encode()
    operations = {
        "query": IMPORT,
        "variables": {
            "input": {
                "datastreamId": str(IMPORTS.id),
                "file": None,
                "onError": "SKIP",
                "idempotencyKey": f"chaos-import-{index}",
            }
        },
    }
    files = {
        "operations": (None, json.dumps(operations)),
        "map": (None, json.dumps({"0": ["variables.input.file"]})),
        "0": (f"chaos-{index}.jsonl", content, "application/x-ndjson"),
    }
    payload = gateways.execute(IMPORT, {}, files=files)["importRecords"]
    assert payload["userErrors"] == [], payload
    return follow(gateways, Job(payload["importJob"]["id"], "import", f"import-{index}"))


def create_schedule(gateways: Gateways) -> str:
    payload = gateways.execute(
        CREATE_SCHEDULE,
        {
            "input": {
                "name": "chaos yearly",
                "export": SCHEDULE_TEMPLATE,
                "every": "P1Y",
                "periodStart": SCHEDULE_PERIODS[0][0],
            }
        },
    )["createExportSchedule"]
    assert payload["userErrors"] == [], payload
    return str(payload["exportSchedule"]["id"])


def follow(gateways: Gateways, job: Job) -> Job:
    query, name = (
        (FOLLOW_IMPORT, "importJobUpdated")
        if job.kind == "import"
        else (FOLLOW_EXPORT, "exportJobUpdated")
    )
    job.subscriber = Subscriber(gateways, job.id, query, name, gateways.defects).start()
    return job
