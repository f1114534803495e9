"""Shared by the in-process API tests: GraphQL documents, the app without its workers,
following a job to its end, downloading and reading files back, and the rows a file must
hold (computed from the seed's JSON with the standard library, independently of the engine)."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import gzip
import hashlib
import io
import json
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from app.config import Settings
from app.main import release
from tests.helpers.inprocess import MINUTE, START, TRADES, ApiClient, Seed
from tests.helpers.schema_documents import NORMALIZED_TRADE_COLUMNS

if TYPE_CHECKING:  # imported by the subscription tests only (it warns about httpx on import)
    from starlette.testclient import TestClient, WebSocketTestSession

SECOND = 10**9
ACTIVE = ("QUEUED", "RUNNING")

# -- GraphQL documents ----------------------------------------------------------------------

CREATE = """mutation($input: CreateExportInput!) { createExport(input: $input) {
  exportJob { id status format compression startTime endTime createdAt idempotencyKey keepPartial
              schema { name id version columns } }
  userErrors { code field message retryAfter } } }"""
JOB = """query($id: ID!) { exportJob(id: $id) { id status reason createdAt finishedAt
  progress { rowsWritten bytesWritten estimatedRows }
  artifacts { filename url expiresAt byteSize rowCount sha256 contentType partial } } }"""
JOB_OPTIONS = """query($id: ID!) { exportJob(id: $id) {
  format compression formatOptions options { columns limit filter decimation split } } }"""
CANCEL = """mutation($id: ID!) { cancelExport(input: {id: $id}) {
  exportJob { id status reason } userErrors { code field message } } }"""
DELETE = """mutation($id: ID!) { deleteExport(input: {id: $id}) {
  deletedId userErrors { code field message } } }"""
ESTIMATE = """query($input: CreateExportInput!) { estimateExport(input: $input) {
  estimatedRows estimatedBytes recordsInRange sampledRecords
  userErrors { code field message retryAfter } } }"""
LIST = """query($first: Int, $after: String, $order: ExportJobOrder!, $status: ExportStatus,
  $datastreamId: ID, $format: ExportFormat, $createdAfter: Timestamp,
  $createdBefore: Timestamp) {
  exportJobs(first: $first, after: $after, orderBy: $order, status: $status,
             datastreamId: $datastreamId, format: $format, createdAfter: $createdAfter,
             createdBefore: $createdBefore) {
    totalCount edges { cursor node { id status format datastreamId createdAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
FOLLOW = """subscription($id: ID!) { exportJobUpdated(id: $id) {
  id status reason progress { rowsWritten } artifacts { filename rowCount } } }"""


def export_input(**fields: Any) -> dict[str, Any]:
    """A createExport input: the first minute of Binance trades unless `fields` say otherwise."""
    return {
        "datastreamId": str(TRADES.id),
        "startTime": START,
        "endTime": START + MINUTE,
        **fields,
    }


# -- the app without its workers --------------------------------------------------------------


@contextlib.asynccontextmanager
async def idle_app(settings: Settings, keys: dict[str, str]) -> AsyncIterator[ApiClient]:
    """The real app behind httpx's ASGI transport, without its lifespan: no worker threads
    and no sweeper, so a created job stays QUEUED for as long as the test wants (which makes
    counts, states and the active-export cap deterministic)."""
    from app.main import create_app
    from workers.broker import broker

    app = create_app(settings)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield ApiClient(http, keys)
    finally:
        await release(app)
        broker.flush_all()  # the wake-ups nobody consumed must not reach a later test's worker


class WithoutLifespan:
    """An ASGI app that answers the lifespan protocol without running the app's own (no
    workers, no sweeper), for Starlette's TestClient; its runtime is disposed at shutdown.
    `background`: loops of the app's own to run all the same (the event bridge, say), in
    the server's event loop, canceled at shutdown."""

    def __init__(
        self, app: Starlette, background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = ()
    ) -> None:
        self.app = app
        self.background = background

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        tasks: list[asyncio.Task[None]] = []
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                tasks = [asyncio.create_task(loop()) for loop in self.background]
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await release(self.app)
                await send({"type": "lifespan.shutdown.complete"})
                return


# -- steps ------------------------------------------------------------------------------------


async def create_payload(api: ApiClient, key: str = "alpha", **fields: Any) -> dict[str, Any]:
    """createExport's payload (userErrors or a job) for export_input(**fields)."""
    data = await api.execute(CREATE, {"input": export_input(**fields)}, key=key)
    return dict(data["createExport"])


async def create_job(api: ApiClient, key: str = "alpha", **fields: Any) -> dict[str, Any]:
    """A job that must be created."""
    payload = await create_payload(api, key, **fields)
    assert payload["userErrors"] == [], payload["userErrors"]
    return dict(payload["exportJob"])


async def user_errors(api: ApiClient, **fields: Any) -> list[dict[str, Any]]:
    """The userErrors of a createExport that must be refused."""
    payload = await create_payload(api, **fields)
    assert payload["exportJob"] is None, payload
    assert payload["userErrors"], payload
    return list(payload["userErrors"])


async def finished(api: ApiClient, job_id: str, timeout: float = 30) -> dict[str, Any]:
    """Poll a job until it leaves QUEUED/RUNNING; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        job = (await api.execute(JOB, {"id": job_id}))["exportJob"]
        if job["status"] not in ACTIVE:
            return dict(job)
        assert time.monotonic() < deadline, f"{job_id} did not finish: {job}"
        await asyncio.sleep(0.02)


async def run_export(api: ApiClient, **fields: Any) -> dict[str, Any]:
    """Create a job, wait for its end, and insist that it SUCCEEDED."""
    job = await finished(api, (await create_job(api, **fields))["id"])
    assert job["status"] == "SUCCEEDED", job
    return job


async def download(api: ApiClient, artifact: dict[str, Any]) -> bytes:
    """The file behind a signed link, checked against what the API said about it."""
    response = await api.http.get(artifact["url"])
    assert response.status_code == 200, response.text
    content = response.content
    assert int(response.headers["content-length"]) == int(artifact["byteSize"]) == len(content)
    assert response.headers["etag"] == f'"{artifact["sha256"]}"'
    assert hashlib.sha256(content).hexdigest() == artifact["sha256"]
    assert response.headers["content-type"].startswith(artifact["contentType"])
    assert artifact["filename"] in response.headers["content-disposition"]
    return content


async def job_options(api: ApiClient, job_id: str) -> dict[str, Any]:
    return dict((await api.execute(JOB_OPTIONS, {"id": job_id}))["exportJob"])


def graphql_error(response: httpx.Response) -> dict[str, Any]:
    """The only error of a response that must have failed as a whole, with no data."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("data") is None or all(v is None for v in body["data"].values()), body
    [error] = body["errors"]
    return dict(error)


# -- subscriptions over graphql-transport-ws (Starlette's TestClient) -------------------------


@contextlib.contextmanager
def subscription(
    client: TestClient, key: str | None, query: str, variables: dict[str, Any]
) -> Iterator[tuple[WebSocketTestSession, dict[str, Any]]]:
    """A WebSocket on /graphql with one subscription started: (socket, connection_ack)."""
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"apiKey": key} if key else {}})
        ack = ws.receive_json()
        assert ack["type"] == "connection_ack", ack
        ws.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
        yield ws, ack


def receive(ws: WebSocketTestSession, deadline: float) -> dict[str, Any]:
    """The next next/error/complete message, answering pings. The test client cannot time out
    a receive; the server's keep-alive pings (every 15 s) bring control back to the deadline."""
    while True:
        message = dict(ws.receive_json())
        if message["type"] == "ping":
            ws.send_json({"type": "pong"})
        elif message["type"] != "pong":
            assert message.get("id") == "1", message
            return message
        assert time.monotonic() < deadline, "no message before the deadline"


def until_complete(ws: WebSocketTestSession, timeout: float = 30) -> list[dict[str, Any]]:
    """Every message up to `complete` (not included), or up to and including an `error`."""
    deadline = time.monotonic() + timeout
    messages: list[dict[str, Any]] = []
    while True:
        message = receive(ws, deadline)
        if message["type"] == "complete":
            return messages
        messages.append(message)
        if message["type"] == "error":
            return messages
        assert time.monotonic() < deadline, f"not complete before the deadline: {messages}"


# -- reading files back -------------------------------------------------------------------------


def csv_rows(content: bytes, gzipped: bool = True, **reader: Any) -> list[list[str]]:
    """Every line of a CSV file as a list of fields, header included."""
    text = (gzip.decompress(content) if gzipped else content).decode()
    return list(csv.reader(io.StringIO(text, newline=""), **reader))


def csv_dicts(content: bytes, gzipped: bool = True) -> list[dict[str, str]]:
    text = (gzip.decompress(content) if gzipped else content).decode()
    return list(csv.DictReader(io.StringIO(text, newline="")))


def jsonl_rows(content: bytes, gzipped: bool = True) -> list[dict[str, Any]]:
    text = (gzip.decompress(content) if gzipped else content).decode()
    return [json.loads(line) for line in text.splitlines()]


# -- what the files must hold -------------------------------------------------------------------


def records_in(seed: Seed, datastream: int, start: int, end: int) -> list[tuple[int, str]]:
    return sorted((ts, text) for ts, text in seed.records[datastream] if start <= ts < end)


def normalized_trades(seed: Seed, datastream: int, start: int, end: int) -> list[dict[str, Any]]:
    """The `normalized` trade rows, decoded from the JSON text: one per Binance message, one
    per element of a Bybit message's `data` array; values as the exchange sent them."""
    rows: list[dict[str, Any]] = []
    for ts, text in records_in(seed, datastream, start, end):
        message = json.loads(text)
        if isinstance(message["data"], dict):  # Binance: one trade per message
            d = message["data"]
            values = [ts, d["T"] * 10**6, "binance", d["s"], str(d["t"])]
            values += ["sell" if d["m"] else "buy", d["p"], d["q"]]
            rows.append(dict(zip(NORMALIZED_TRADE_COLUMNS, values, strict=True)))
        else:  # Bybit: several trades per message
            for t in message["data"]:
                values = [ts, t["T"] * 10**6, "bybit", t["s"], t["i"]]
                values += [t["S"].lower(), t["p"], t["v"]]
                rows.append(dict(zip(NORMALIZED_TRADE_COLUMNS, values, strict=True)))
    return rows


def iso(ns: int) -> str:
    """ISO-8601 UTC with nine fractional digits, as the API writes times."""
    seconds, nanos = divmod(ns, 10**9)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"
