"""GraphQL documents and steps shared by end-to-end tests: create an export, follow it to
its end over a WebSocket, download and read back its files, and the rows they must hold
(computed from the records with the standard library, independently of the engine)."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from typing import Any

import httpx

from tests.helpers.clients import subscribe
from tests.helpers.data import BIG_ID, BINANCE, Dataset
from tests.helpers.environments import GatewayHandle

CREATE = """
mutation($input: CreateExportInput!) {
  createExport(input: $input) {
    exportJob { id status format compression schema { name columns } startTime endTime
                progress { estimatedRows } }
    userErrors { code field message }
  }
}"""


FOLLOW = """
subscription($id: ID!) {
  exportJobUpdated(id: $id) {
    id status reason revision
    progress { recordsRead recordsTotal fraction etaSeconds rowsWritten bytesWritten }
    artifacts { filename url expiresAt byteSize rowCount sha256 contentType }
  }
}"""


WINDOW = {"startTime": "2024-03-01T00:10:00Z", "endTime": "2024-03-01T00:40:00.000000001Z"}


START_NS, END_NS = 1709251800 * 10**9, 1709253600 * 10**9 + 1


def expected_raw(dataset: Dataset, datastream: int) -> list[tuple[int, str]]:
    return sorted((ts, text) for ts, text in dataset.records[datastream] if START_NS <= ts < END_NS)


def expected_normalized(dataset: Dataset, datastream: int) -> list[tuple[Any, ...]]:
    """Computed from the JSON text with the standard library: independent of the engine."""
    rows = []
    for ts, text in expected_raw(dataset, datastream):
        message = json.loads(text)
        if datastream == BINANCE.id:
            d = message["data"]
            rows.append(
                (
                    ts,
                    d["T"] * 10**6,
                    "binance",
                    d["s"],
                    str(d["t"]),
                    "sell" if d["m"] else "buy",
                    d["p"],
                    d["q"],
                )
            )
        else:
            rows.extend(
                (ts, t["T"] * 10**6, "bybit", t["s"], t["i"], t["S"].lower(), t["p"], t["v"])
                for t in message["data"]
            )
    return rows


def run_export(
    gateway: GatewayHandle, datastream: int, schema: str, fmt: str, **extra: Any
) -> dict[str, Any]:
    client = gateway.client()
    payload = client.execute(
        CREATE,
        {
            "input": {
                "datastreamId": str(datastream),
                "schema": schema,
                "format": fmt,
                **WINDOW,
                **extra,
            }
        },
    )["createExport"]
    assert payload["userErrors"] == []
    job = payload["exportJob"]
    assert job["id"].startswith("exp_") and len(job["id"]) == 36
    updates = [
        m["payload"]["data"]["exportJobUpdated"]
        for m in subscribe(gateway.gateway.url, gateway.key_a, FOLLOW, {"id": job["id"]})
    ]
    assert updates[0]["id"] == job["id"]
    assert updates[-1]["status"] == "SUCCEEDED", updates[-1]
    assert all(u["status"] in ("QUEUED", "RUNNING") for u in updates[:-1])
    assert_progress_rises_to_the_end(updates)
    return updates[-1]


def assert_progress_rises_to_the_end(updates: list[dict[str, Any]]) -> None:
    """What a subscriber saw of a job that SUCCEEDED: newer states only, a fraction that
    never went back and ended at 1 with no time left."""
    revisions = [int(u["revision"]) for u in updates]
    assert revisions == sorted(set(revisions)), revisions
    fractions = [u["progress"]["fraction"] for u in updates]
    assert fractions == sorted(fractions), fractions
    assert all(f < 1.0 for f in fractions[:-1]), fractions
    assert fractions[-1] == 1.0 and updates[-1]["progress"]["etaSeconds"] == 0.0


def download(artifact: dict[str, Any]) -> bytes:
    response = httpx.get(artifact["url"], timeout=60)
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == artifact["byteSize"] == len(response.content)
    assert response.headers["etag"] == f'"{artifact["sha256"]}"'
    assert artifact["filename"] in response.headers["content-disposition"]
    assert response.headers["content-type"].startswith(artifact["contentType"])
    assert hashlib.sha256(response.content).hexdigest() == artifact["sha256"]
    return response.content


def read_text_rows(fmt: str, content: bytes, gzipped: bool) -> list[dict[str, Any]]:
    text = (gzip.decompress(content) if gzipped else content).decode()
    if fmt == "CSV":
        return list(csv.DictReader(io.StringIO(text)))
    return [json.loads(line) for line in text.splitlines()]


JOB = """query($id: ID!) { exportJob(id: $id) { id status reason startTime endTime finishedAt
  progress { rowsWritten } artifacts { url } } }"""


CANCEL = """mutation($id: ID!) { cancelExport(input: {id: $id}) {
  exportJob { id status reason } userErrors { code field message } } }"""


def create(gateway: GatewayHandle, key: str = "a", **fields: object) -> dict:
    values = {
        "datastreamId": str(BINANCE.id),
        "startTime": "2024-03-01T00:00:00Z",
        "endTime": "2024-03-01T00:05:00Z",
        **fields,
    }
    return gateway.client(key).execute(CREATE, {"input": values})["createExport"]


def final_update(gateway: GatewayHandle, job_id: str) -> dict[str, Any]:
    return followed_to_success(gateway, job_id)[-1]


def followed_to_success(gateway: GatewayHandle, job_id: str) -> list[dict[str, Any]]:
    """Every state a subscription over WebSocket sent of the job, which must succeed."""
    messages = subscribe(gateway.gateway.url, gateway.key_a, FOLLOW, {"id": job_id})
    updates = [dict(m["payload"]["data"]["exportJobUpdated"]) for m in messages]
    assert updates[-1]["status"] == "SUCCEEDED", updates[-1]
    assert_progress_rises_to_the_end(updates)
    return updates


def _binance(path: str, kind: str, transform: str | None = None) -> list[dict[str, Any]]:
    mapping = {"source": "binance", "path": path, "type": kind}
    return [{**mapping, "transform": transform} if transform else mapping]


# Made to take long: every message parsed as JSON (no stored decoded columns match these
# mappings), transforms, the message re-serialized, JSON lines. About 11 s of one core for
# the 1.5M records of the big stream, where the normalized schema now needs about 1 s.
LONG_SCHEMA: dict[str, Any] = {
    "streamCategory": "trade",
    "columns": [
        {"outputColumn": "ts", "meta": "collection_timestamp_ns"},
        {"outputColumn": "price", "data": _binance("data.p", "decimal(8)")},
        {"outputColumn": "qty", "data": _binance("data.q", "decimal(8)")},
        {"outputColumn": "trade_id", "data": _binance("data.t", "int")},
        {
            "outputColumn": "side",
            "data": _binance("data.m", "bool", "CASE WHEN {v} = false THEN 'buy' ELSE 'sell' END"),
        },
        {"outputColumn": "symbol", "data": _binance("data.s", "string", "lower({v})")},
        {"outputColumn": "message", "data": _binance("data", "json")},
    ],
}
# The big stream, whole, with LONG_SCHEMA: an export that runs long enough (seconds, whatever
# the machine) to be canceled, killed or stopped by a time limit while it runs.
LONG_EXPORT: dict[str, Any] = {
    "datastreamId": str(BIG_ID),
    "startTime": 0,
    "endTime": "2100-01-01T00:00:00Z",
    "inlineSchema": LONG_SCHEMA,
    "format": "JSONL",
}
