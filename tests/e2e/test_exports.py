"""End to end: ingest -> createExport -> worker -> subscription -> signed download -> read back."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.helpers.data import BINANCE, BYBIT, Dataset
from tests.helpers.environments import GatewayHandle
from tests.helpers.operations import (
    download,
    expected_normalized,
    expected_raw,
    read_text_rows,
    run_export,
)
from tests.helpers.schema_documents import NORMALIZED_TRADE_COLUMNS

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("datastream", [BINANCE.id, BYBIT.id])
@pytest.mark.parametrize("fmt", ["CSV", "JSONL", "PARQUET"])
def test_raw_export_round_trips_every_record(
    gateway: GatewayHandle, dataset: Dataset, datastream: int, fmt: str
) -> None:
    job = run_export(gateway, datastream, "raw", fmt)
    [artifact] = job["artifacts"]
    expected = expected_raw(dataset, datastream)
    assert int(artifact["rowCount"]) == len(expected) == int(job["progress"]["rowsWritten"])
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
    assert int(artifact["rowCount"]) == len(expected)
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
        assert list(rows[0]) == NORMALIZED_TRADE_COLUMNS
        got = [tuple(r.values()) for r in rows]
        if fmt == "CSV":  # decimals exactly as the exchange sent them
            expected = [tuple(str(v) for v in row) for row in expected]
        assert got == expected


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
