"""End to end: ingest -> createExport -> worker -> subscription -> signed download -> read back."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from decimal import Decimal
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import BINANCE, BYBIT, Dataset, GatewayHandle
from tests.support import subscribe

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
    id status reason progress { rowsWritten bytesWritten estimatedRows }
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
    return updates[-1]


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


@pytest.mark.parametrize("datastream", [BINANCE.id, BYBIT.id])
@pytest.mark.parametrize("fmt", ["CSV", "JSONL", "PARQUET"])
def test_raw_export_round_trips_every_record(
    gateway: GatewayHandle, dataset: Dataset, datastream: int, fmt: str
) -> None:
    job = run_export(gateway, datastream, "raw", fmt)
    [artifact] = job["artifacts"]
    expected = expected_raw(dataset, datastream)
    assert artifact["rowCount"] == len(expected) == job["progress"]["rowsWritten"]
    content = download(artifact)
    if fmt == "PARQUET":
        table = pq.read_table(io.BytesIO(content))
        assert table.schema.field("collection_timestamp_ns").type == pa.timestamp("ns", tz="UTC")
        got = list(
            zip(
                table.column(0).cast(pa.int64()).to_pylist(),
                table.column(1).to_pylist(),
                strict=True,
            )
        )
        assert got == expected
    elif fmt == "CSV":
        rows = read_text_rows(fmt, content, gzipped=True)
        assert [(int(r["collection_timestamp_ns"]), r["data"]) for r in rows] == expected
    else:
        rows = read_text_rows(fmt, content, gzipped=True)
        assert [(r["collection_timestamp_ns"], r["data"]) for r in rows] == [
            (ts, json.loads(text)) for ts, text in expected
        ]


@pytest.mark.parametrize("datastream", [BINANCE.id, BYBIT.id])
@pytest.mark.parametrize("fmt", ["CSV", "JSONL", "PARQUET"])
def test_normalized_export_matches_an_independent_decoding(
    gateway: GatewayHandle, dataset: Dataset, datastream: int, fmt: str
) -> None:
    job = run_export(gateway, datastream, "normalized", fmt)
    [artifact] = job["artifacts"]
    expected = expected_normalized(dataset, datastream)
    assert artifact["rowCount"] == len(expected)
    content = download(artifact)
    if fmt == "PARQUET":
        table = pq.read_table(io.BytesIO(content))
        assert table.schema.field("price").type == pa.decimal128(38, 18)
        assert table.schema.field("exchange_timestamp_ns").type == pa.timestamp("ns", tz="UTC")
        columns = [table.column(i) for i in range(table.num_columns)]
        columns[0], columns[1] = columns[0].cast(pa.int64()), columns[1].cast(pa.int64())
        got = list(zip(*[c.to_pylist() for c in columns], strict=True))
        assert got == [(*row[:6], Decimal(row[6]), Decimal(row[7])) for row in expected]
    else:
        rows = read_text_rows(fmt, content, gzipped=True)
        assert list(rows[0]) == job_columns()
        got = [tuple(r.values()) for r in rows]
        if fmt == "CSV":  # decimals exactly as the exchange sent them
            expected = [tuple(str(v) for v in row) for row in expected]
        assert got == expected


def job_columns() -> list[str]:
    return [
        "collection_timestamp_ns",
        "exchange_timestamp_ns",
        "exchange",
        "symbol",
        "trade_id",
        "side",
        "price",
        "amount",
    ]


def test_uncompressed_jsonl_and_gzip_default(gateway: GatewayHandle, dataset: Dataset) -> None:
    job = run_export(gateway, BINANCE.id, "normalized", "JSONL", compression="NONE")
    [artifact] = job["artifacts"]
    assert (
        artifact["filename"].endswith(".jsonl")
        and artifact["contentType"] == "application/x-ndjson"
    )
    rows = read_text_rows("JSONL", download(artifact), gzipped=False)
    assert len(rows) == len(expected_normalized(dataset, BINANCE.id))
    csv_job = run_export(gateway, BINANCE.id, "raw", "CSV")
    assert csv_job["artifacts"][0]["filename"].endswith(".csv.gz")


def test_download_honours_range_requests(gateway: GatewayHandle) -> None:
    [artifact] = run_export(gateway, BYBIT.id, "raw", "PARQUET")["artifacts"]
    whole = download(artifact)
    part = httpx.get(artifact["url"], headers={"Range": "bytes=4-99"}, timeout=30)
    assert part.status_code == 206
    assert part.content == whole[4:100]
    assert part.headers["content-range"] == f"bytes 4-99/{len(whole)}"


def test_tampered_and_expired_links_are_forbidden(gateway: GatewayHandle) -> None:
    [artifact] = run_export(gateway, BYBIT.id, "raw", "CSV")["artifacts"]
    url = httpx.URL(artifact["url"])
    signature = url.params["signature"]
    tampered = url.copy_set_param(
        "signature", ("0" if signature[0] != "0" else "1") + signature[1:]
    )
    assert httpx.get(tampered).status_code == 403
    later = url.copy_set_param("expires", str(int(url.params["expires"]) + 3600))
    assert httpx.get(later).status_code == 403
    other_artifact = url.copy_with(path=url.path.replace("art_", "art_f", 1)[:-1])
    assert httpx.get(other_artifact).status_code == 403
    # A link signed with the server's own key but already expired.
    from app.config import Settings
    from app.storage import signed_path

    settings = Settings(data_dir=gateway.data_dir, download_ttl_seconds=1)
    artifact_id = url.path.split("/")[2]
    path, _expires = signed_path(settings, artifact_id, artifact["filename"], now=1_000_000)
    assert httpx.get(gateway.gateway.url + path).status_code == 403
    fresh, _ = signed_path(
        settings.model_copy(update={"download_ttl_seconds": 600}), artifact_id, artifact["filename"]
    )
    assert httpx.get(gateway.gateway.url + fresh).status_code == 200
