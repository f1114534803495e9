"""Export options end to end: each option through the server, the file read back with an
independent reader (csv, json, pyarrow.parquet, zstandard, DuckDB for aggregates) and
compared with values computed from the ingested records."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
import zstandard

from tests.helpers.clients import subscribe
from tests.helpers.data import BIG_ID, BINANCE, BYBIT, START, Dataset
from tests.helpers.environments import GatewayHandle
from tests.helpers.operations import (
    CREATE,
    FOLLOW,
    WINDOW,
    download,
    expected_normalized,
    followed_to_success,
    read_text_rows,
    run_export,
)
from tests.helpers.schema_documents import NORMALIZED_TRADE_COLUMNS

pytestmark = pytest.mark.e2e

JOB_OPTIONS = """query($id: ID!) { exportJob(id: $id) {
  compression formatOptions options { columns limit filter decimation split } } }"""
ESTIMATE = """query($input: CreateExportInput!) { estimateExport(input: $input) {
  estimatedRows estimatedBytes recordsInRange sampledRecords
  userErrors { code field message } } }"""


def rows_as_dicts(dataset: Dataset, datastream: int) -> list[dict[str, Any]]:
    return [
        dict(zip(NORMALIZED_TRADE_COLUMNS, row, strict=True))
        for row in expected_normalized(dataset, datastream)
    ]


def errors_of(gateway: GatewayHandle, **fields: Any) -> list[dict[str, Any]]:
    payload = gateway.client().execute(
        CREATE,
        {"input": {"datastreamId": str(BINANCE.id), "schema": "normalized", **WINDOW, **fields}},
    )["createExport"]
    assert payload["exportJob"] is None
    return list(payload["userErrors"])


def echoed(gateway: GatewayHandle, job_id: str) -> dict[str, Any]:
    return dict(gateway.client().execute(JOB_OPTIONS, {"id": job_id})["exportJob"])


def iso(ns: int) -> str:
    seconds, nanos = divmod(ns, 10**9)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


def test_csv_format_options_are_applied_and_echoed(
    gateway: GatewayHandle, dataset: Dataset
) -> None:
    options = {
        "delimiter": ";",
        "header": False,
        "quoting": "all",
        "nullString": "NA",
        "lineTerminator": "\r\n",
        "timestampFormat": "iso",
    }
    job = run_export(gateway, BINANCE.id, "normalized", "CSV", formatOptions=options)
    [artifact] = job["artifacts"]
    text = gzip.decompress(download(artifact)).decode()
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    got = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    expected = rows_as_dicts(dataset, BINANCE.id)
    assert len(got) == len(expected)  # no header
    assert text.startswith('"')  # quoting all quotes numbers too
    for row, want in zip(got, expected, strict=True):
        assert row[0] == iso(want["collection_timestamp_ns"])
        assert row[1] == iso(want["exchange_timestamp_ns"])
        assert row[4:] == [want["trade_id"], want["side"], want["price"], want["amount"]]
    assert echoed(gateway, job["id"])["formatOptions"] == options


def test_parquet_options_shape_the_file(gateway: GatewayHandle, dataset: Dataset) -> None:
    job = run_export(
        gateway,
        BINANCE.id,
        "normalized",
        "PARQUET",
        formatOptions={"compression": "snappy", "rowGroupSize": 1000, "statistics": False},
    )
    [artifact] = job["artifacts"]
    parquet = pq.ParquetFile(io.BytesIO(download(artifact)))
    metadata = parquet.metadata
    expected = len(expected_normalized(dataset, BINANCE.id))
    assert metadata.num_rows == expected
    sizes = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
    assert sizes[:-1] == [1000] * (len(sizes) - 1) and sum(sizes) == expected
    column = metadata.row_group(0).column(6)
    assert column.compression == "SNAPPY" and column.statistics is None
    assert echoed(gateway, job["id"])["formatOptions"] == {
        "compression": "snappy",
        "compressionLevel": None,
        "rowGroupSize": 1000,
        "dictionary": True,
        "statistics": False,
        "dataPageSize": 1048576,
    }
    default = run_export(gateway, BINANCE.id, "normalized", "PARQUET")
    assert echoed(gateway, default["id"])["formatOptions"]["compressionLevel"] == 3
    [plain] = default["artifacts"]
    column = pq.ParquetFile(io.BytesIO(download(plain))).metadata.row_group(0).column(6)
    assert column.compression == "ZSTD" and column.statistics is not None


def test_jsonl_decimals_as_numbers_and_millisecond_times(
    gateway: GatewayHandle, dataset: Dataset
) -> None:
    job = run_export(
        gateway,
        BYBIT.id,
        "normalized",
        "JSONL",
        formatOptions={"decimals": "number", "timestampFormat": "ms"},
        compression="ZSTD",
    )
    [artifact] = job["artifacts"]
    assert artifact["filename"].endswith(".jsonl.zst")
    assert artifact["contentType"] == "application/zstd"
    text = zstandard.ZstdDecompressor().decompressobj().decompress(download(artifact)).decode()
    got = [json.loads(line, parse_float=Decimal) for line in text.splitlines()]
    expected = rows_as_dicts(dataset, BYBIT.id)
    assert len(got) == len(expected)
    for row, want in zip(got, expected, strict=True):
        assert row["collection_timestamp_ns"] == want["collection_timestamp_ns"] // 10**6
        assert Decimal(row["price"]) == Decimal(want["price"]) and not isinstance(row["price"], str)
        assert Decimal(row["amount"]) == Decimal(want["amount"])


def test_csv_zstd_has_its_suffix_and_reads_back(gateway: GatewayHandle, dataset: Dataset) -> None:
    job = run_export(gateway, BINANCE.id, "raw", "CSV", compression="ZSTD")
    [artifact] = job["artifacts"]
    assert artifact["filename"].endswith(".csv.zst")
    text = zstandard.ZstdDecompressor().decompressobj().decompress(download(artifact)).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == artifact["rowCount"] > 0


@pytest.mark.parametrize(
    ("fields", "code", "field", "fragment"),
    [
        (
            {"formatOptions": {"compression": "zstd"}},
            "INVALID_ARGUMENT",
            ["input", "formatOptions", "compression"],
            "is a PARQUET option, not a CSV one",
        ),
        (
            {"formatOptions": {"colour": "red"}},
            "INVALID_ARGUMENT",
            ["input", "formatOptions", "colour"],
            "known: delimiter, header",
        ),
        (
            {"format": "PARQUET", "formatOptions": {"compression": "lz4", "compressionLevel": 3}},
            "INVALID_ARGUMENT",
            ["input", "formatOptions"],
            "lz4 has no compression level",
        ),
        (
            {"format": "PARQUET", "compression": "GZIP"},
            "INVALID_ARGUMENT",
            ["input", "compression"],
            "formatOptions.compression",
        ),
        (
            {"columns": ["price", "colour"]},
            "INVALID_ARGUMENT",
            ["input", "columns"],
            "valid: collection_timestamp_ns, exchange_timestamp_ns",
        ),
        ({"limit": 0}, "INVALID_ARGUMENT", ["input", "limit"], "at least 1"),
        (
            {"filter": {"column": "price", "op": "gt", "value": "cheap"}},
            "INVALID_ARGUMENT",
            ["input", "filter", "value"],
            "is not a decimal(18) value",
        ),
        (
            {"filter": {"column": "price", "op": "contains", "value": "1"}},
            "INVALID_ARGUMENT",
            ["input", "filter", "value"],
            "contains applies to string columns",
        ),
        (
            {"filter": {"and": [{"column": "nope", "op": "eq", "value": 1}]}},
            "INVALID_ARGUMENT",
            ["input", "filter", "and", "0", "column"],
            "unknown column 'nope'",
        ),
        (
            {
                "filter": {
                    "column": "side",
                    "op": "eq",
                    "value": "buy",
                    "not": {"column": "side", "op": "isNull"},
                }
            },
            "INVALID_ARGUMENT",
            ["input", "filter"],
            "exactly one of",
        ),
        (
            {
                "decimation": {
                    "interval": "15x",
                    "aggregations": [{"column": "price", "fn": "OHLC"}],
                }
            },
            "INVALID_ARGUMENT",
            ["input", "decimation", "interval"],
            "e.g. 15m",
        ),
        (
            {"decimation": {"interval": "1m", "aggregations": [{"column": "side", "fn": "SUM"}]}},
            "INVALID_ARGUMENT",
            ["input", "decimation", "aggregations", "0", "fn"],
            "sum needs a numeric column",
        ),
        ({"split": {}}, "INVALID_ARGUMENT", ["input", "split"], "give by, maxRowsPerFile"),
        (
            {"formatOptions": {"delimiter": "é"}},
            "INVALID_ARGUMENT",
            ["input", "formatOptions"],
            "printable ASCII",
        ),
        (
            {"formatOptions": {"nullString": '"'}},
            "INVALID_ARGUMENT",
            ["input", "formatOptions"],
            "nullString cannot contain a quote",
        ),
        (
            {
                "decimation": {
                    "interval": "1m",
                    "aggregations": [
                        {"column": "price", "fn": "MAX"},
                        {"column": "price", "fn": "MAX"},
                    ],
                }
            },
            "INVALID_ARGUMENT",
            ["input", "decimation", "aggregations"],
            "produce the same column",
        ),
        (
            {
                "decimation": {
                    "interval": "1m",
                    "aggregations": [{"column": "exchange_timestamp_ns", "fn": "SUM"}],
                }
            },
            "INVALID_ARGUMENT",
            ["input", "decimation", "aggregations", "0", "fn"],
            "sum needs a numeric column",
        ),
        (
            {
                "decimation": {
                    "interval": "400d",
                    "aggregations": [{"column": "price", "fn": "MAX"}],
                }
            },
            "INVALID_ARGUMENT",
            ["input", "decimation", "interval"],
            "at most 366d",
        ),
        (
            {
                "decimation": {
                    "interval": "1ms",
                    "fill": "PREVIOUS",
                    "aggregations": [{"column": "price", "fn": "LAST"}],
                }
            },
            "INVALID_ARGUMENT",
            ["input", "decimation", "interval"],
            "more than the 1,000,000 allowed",
        ),
        (
            {"filter": {"column": "price", "op": "lt", "value": "1e40"}},
            "INVALID_ARGUMENT",
            ["input", "filter", "value"],
            "at most 38 digits",
        ),
        (
            {"split": {"maxBytesPerFile": 10}},
            "INVALID_ARGUMENT",
            ["input", "split", "maxBytesPerFile"],
            "at least 1024",
        ),
    ],
)
def test_invalid_options_are_user_errors(
    gateway: GatewayHandle, fields: dict[str, Any], code: str, field: list[str], fragment: str
) -> None:
    errors = errors_of(gateway, **fields)
    assert any(
        e["code"] == code and e["field"] == field and fragment in e["message"] for e in errors
    ), errors


def test_column_selection_and_limit(gateway: GatewayHandle, dataset: Dataset) -> None:
    job = run_export(
        gateway, BINANCE.id, "normalized", "CSV", columns=["price", "side", "trade_id"], limit=25
    )
    rows = read_text_rows("CSV", download(job["artifacts"][0]), gzipped=True)
    expected = rows_as_dicts(dataset, BINANCE.id)[:25]
    assert list(rows[0]) == ["price", "side", "trade_id"]
    assert rows == [{k: str(e[k]) for k in ("price", "side", "trade_id")} for e in expected]
    options = echoed(gateway, job["id"])["options"]
    assert options["columns"] == ["price", "side", "trade_id"] and options["limit"] == 25
    clamped = run_export(gateway, BINANCE.id, "raw", "CSV", limit=10**9)
    assert echoed(gateway, clamped["id"])["options"]["limit"] == 1_000_000


def test_filters_match_an_independent_evaluation(gateway: GatewayHandle, dataset: Dataset) -> None:
    expected = rows_as_dicts(dataset, BINANCE.id)
    prices = sorted(Decimal(r["price"]) for r in expected)
    median = str(prices[len(prices) // 2])
    some_ids = [expected[3]["trade_id"], expected[10]["trade_id"]]
    tree = {
        "or": [
            {
                "and": [
                    {"column": "side", "op": "eq", "value": "buy"},
                    {"column": "price", "op": "gte", "value": median},
                    {"not": {"column": "trade_id", "op": "startsWith", "value": "9"}},
                ]
            },
            {"column": "trade_id", "op": "in", "value": some_ids},
            {"column": "collection_timestamp_ns", "op": "lt", "value": "2024-03-01T00:10:05Z"},
        ]
    }

    def holds(row: dict[str, Any]) -> bool:
        first = (
            row["side"] == "buy"
            and Decimal(row["price"]) >= Decimal(median)
            and not row["trade_id"].startswith("9")
        )
        early = row["collection_timestamp_ns"] < 1709251805 * 10**9
        return first or row["trade_id"] in some_ids or early

    job = run_export(gateway, BINANCE.id, "normalized", "PARQUET", filter=tree)
    table = pq.read_table(io.BytesIO(download(job["artifacts"][0])))
    want = [r["trade_id"] for r in expected if holds(r)]
    assert 0 < len(want) < len(expected)
    assert table.column("trade_id").to_pylist() == want
    resolved = echoed(gateway, job["id"])["options"]["filter"]
    assert resolved["or"][2]["value"] == 1709251805 * 10**9  # echoed as nanoseconds


def test_ohlcv_bars_agree_with_duckdb(gateway: GatewayHandle, dataset: Dataset) -> None:
    decimation = {
        "interval": "1m",
        "aggregations": [
            {"column": "price", "fn": "OHLC"},
            {"column": "amount", "fn": "SUM"},
            {"column": "trade_id", "fn": "COUNT"},
            {"column": "price", "fn": "LAST", "transform": "DELTA"},
        ],
    }
    job = run_export(gateway, BYBIT.id, "normalized", "PARQUET", decimation=decimation)
    got = pq.read_table(io.BytesIO(download(job["artifacts"][0])))
    assert got.column_names == [
        "bucket_start",
        "price_open",
        "price_high",
        "price_low",
        "price_close",
        "amount_sum",
        "trade_id_count",
        "price_last",
    ]
    con = duckdb.connect()
    rows = [
        (r["collection_timestamp_ns"], Decimal(r["price"]), Decimal(r["amount"]), r["trade_id"], i)
        for i, r in enumerate(rows_as_dicts(dataset, BYBIT.id))
    ]
    con.execute(
        "create table t (ts bigint, price decimal(38,18), amount decimal(38,18), id varchar, n int)"
    )
    con.executemany("insert into t values (?, ?, ?, ?, ?)", rows)
    bars = con.execute(
        """select ts // 60000000000 * 60000000000 as b, arg_min(price, n), max(price),
                  min(price), arg_max(price, n), sum(amount), count(id)
           from t group by b order by b"""
    ).fetchall()
    assert got.num_rows == len(bars)
    starts = got.column("bucket_start").cast("int64").to_pylist()
    assert starts == [b[0] for b in bars]
    for name, index in (
        ("price_open", 1),
        ("price_high", 2),
        ("price_low", 3),
        ("price_close", 4),
        ("amount_sum", 5),
    ):
        assert [Decimal(v) for v in got.column(name).to_pylist()] == [b[index] for b in bars], name
    assert got.column("trade_id_count").to_pylist() == [b[6] for b in bars]
    closes = [b[4] for b in bars]
    deltas = [None] + [after - before for before, after in itertools.pairwise(closes)]
    assert got.column("price_last").to_pylist() == deltas


@pytest.mark.parametrize("fill", ["NONE", "PREVIOUS", "NULL"])
def test_empty_buckets_are_omitted_or_filled(
    gateway: GatewayHandle, dataset: Dataset, fill: str
) -> None:
    # Only trades before 00:12 and after 00:37 in the window: a gap of empty 1-minute buckets.
    gap = {
        "or": [
            {"column": "collection_timestamp_ns", "op": "lt", "value": "2024-03-01T00:12:00Z"},
            {"column": "collection_timestamp_ns", "op": "gte", "value": "2024-03-01T00:37:00Z"},
        ]
    }
    decimation = {
        "interval": "1m",
        "fill": fill,
        "aggregations": [{"column": "price", "fn": "LAST"}, {"column": "amount", "fn": "COUNT"}],
    }
    job = run_export(gateway, BINANCE.id, "normalized", "JSONL", filter=gap, decimation=decimation)
    rows = read_text_rows("JSONL", download(job["artifacts"][0]), gzipped=True)
    minutes = [(r["bucket_start"] - START) // (60 * 10**9) for r in rows]
    if fill == "NONE":
        assert minutes == [10, 11, *range(37, 40)]
        return
    assert minutes == list(range(10, 40))
    empty = rows[2]  # 00:12
    if fill == "PREVIOUS":
        assert empty["price_last"] == rows[1]["price_last"] and empty["amount_count"] == 0
    else:
        assert empty["price_last"] is None and empty["amount_count"] is None


def test_split_by_hour_writes_predictable_files_and_a_manifest(
    gateway: GatewayHandle, dataset: Dataset
) -> None:
    window = {"startTime": START + 1800 * 10**9, "endTime": START + 3 * 3600 * 10**9}
    payload = gateway.client().execute(
        CREATE,
        {
            "input": {
                "datastreamId": str(BIG_ID),
                "schema": "raw",
                "format": "CSV",
                "split": {"by": "HOUR"},
                **window,
            }
        },
    )["createExport"]
    assert payload["userErrors"] == []
    # Followed over a WebSocket: the parts' progress, summed, rises to 1.
    updates = followed_to_success(gateway, payload["exportJob"]["id"])
    fractions = [u["progress"]["fraction"] for u in updates]
    assert fractions[0] < 1.0 and any(0 < f < 1 for f in fractions), fractions
    job = updates[-1]
    progress = job["progress"]
    assert int(progress["recordsRead"]) == pytest.approx(int(progress["recordsTotal"]), rel=0.02)
    *files, manifest = job["artifacts"]
    assert [f["filename"] for f in files] == [
        f"{BIG_ID}_20240301T003000Z_20240301T010000Z.csv.gz",
        f"{BIG_ID}_20240301T010000Z_20240301T020000Z.csv.gz",
        f"{BIG_ID}_20240301T020000Z_20240301T030000Z.csv.gz",
    ]
    assert manifest["filename"].endswith(".manifest.json")
    listed = json.loads(download(manifest))
    assert [f["filename"] for f in listed["files"]] == [f["filename"] for f in files]
    for entry, artifact in zip(listed["files"], files, strict=True):
        rows = read_text_rows("CSV", download(artifact), gzipped=True)
        assert len(rows) == entry["rowCount"] == artifact["rowCount"] > 0
        assert entry["sha256"] == artifact["sha256"]
        stamps = [int(r["collection_timestamp_ns"]) for r in rows]
        assert entry["fromTime"] <= stamps[0] and stamps[-1] < entry["toTime"]
    assert listed["rowCount"] == sum(f["rowCount"] for f in files)


def test_split_by_rows_and_bytes(gateway: GatewayHandle, dataset: Dataset) -> None:
    job = run_export(gateway, BINANCE.id, "raw", "CSV", split={"maxRowsPerFile": 5000})
    *files, _manifest = job["artifacts"]
    total = sum(f["rowCount"] for f in files)
    assert [f["rowCount"] for f in files] == [5000] * (total // 5000) + (
        [total % 5000] if total % 5000 else []
    )
    got = [r for f in files for r in read_text_rows("CSV", download(f), gzipped=True)]
    assert len(got) == total and len({f["filename"] for f in files}) == len(files)
    sized = run_export(
        gateway, BINANCE.id, "raw", "CSV", compression="NONE", split={"maxBytesPerFile": 200_000}
    )
    *parts, _ = sized["artifacts"]
    assert len(parts) > 2
    # A file is closed as soon as it reaches the size: it passes it by less than one row.
    assert all(200_000 <= p["byteSize"] < 200_000 + 1_000 for p in parts[:-1])
    assert parts[-1]["byteSize"] < 200_000 + 1_000
    assert sum(p["rowCount"] for p in parts) == total


def test_estimate_before_running(gateway: GatewayHandle, dataset: Dataset) -> None:
    request = {"datastreamId": str(BYBIT.id), "schema": "normalized", "format": "CSV", **WINDOW}
    count = "{ exportJobs(first: 1) { totalCount } }"
    before = gateway.client().execute(count)["exportJobs"]["totalCount"]
    estimate = gateway.client().execute(ESTIMATE, {"input": request})["estimateExport"]
    assert estimate["userErrors"] == [] and estimate["sampledRecords"] > 0
    assert gateway.client().execute(count)["exportJobs"]["totalCount"] == before
    job = run_export(gateway, BYBIT.id, "normalized", "CSV")
    [artifact] = job["artifacts"]
    assert abs(estimate["estimatedRows"] - artifact["rowCount"]) <= 0.1 * artifact["rowCount"]
    assert abs(estimate["estimatedBytes"] - artifact["byteSize"]) <= 0.35 * artifact["byteSize"]
    limited = gateway.client().execute(ESTIMATE, {"input": {**request, "limit": 7}})
    assert limited["estimateExport"]["estimatedRows"] == 7
    bad = gateway.client().execute(ESTIMATE, {"input": {**request, "columns": ["x"]}})
    assert bad["estimateExport"]["userErrors"][0]["field"] == ["input", "columns"]


def test_values_the_csv_options_cannot_hold_fail_the_job_clearly(gateway: GatewayHandle) -> None:
    client = gateway.client()
    payload = client.execute(
        CREATE,
        {
            "input": {
                "datastreamId": str(BINANCE.id),
                "schema": "raw",
                "formatOptions": {"quoting": "none"},  # raw JSON is full of commas
                **WINDOW,
            }
        },
    )["createExport"]
    final = _follow_any(gateway, payload["exportJob"]["id"])
    assert final["status"] == "FAILED"
    assert final["reason"].startswith("CSV cannot hold these values with these options")
    estimate = client.execute(
        ESTIMATE,
        {
            "input": {
                "datastreamId": str(BINANCE.id),
                "schema": "raw",
                "formatOptions": {"quoting": "none"},
                **WINDOW,
            }
        },
    )["estimateExport"]
    assert "the export would fail: CSV cannot hold" in estimate["userErrors"][0]["message"]


def _follow_any(gateway: GatewayHandle, job_id: str) -> dict[str, Any]:

    *_, last = subscribe(gateway.gateway.url, gateway.key_a, FOLLOW, {"id": job_id})
    return dict(last["payload"]["data"]["exportJobUpdated"])


def test_parquet_files_respect_max_bytes(gateway: GatewayHandle, dataset: Dataset) -> None:
    job = run_export(
        gateway, BINANCE.id, "normalized", "PARQUET", split={"maxBytesPerFile": 100_000}
    )
    *parts, _manifest = job["artifacts"]
    assert len(parts) > 2
    # Row groups are flushed to measure the size; the footer comes on top.
    assert all(100_000 <= p["byteSize"] < 110_000 for p in parts[:-1])
    tables = [pq.read_table(io.BytesIO(download(p))) for p in parts]
    assert sum(t.num_rows for t in tables) == len(expected_normalized(dataset, BINANCE.id))


def test_two_datastreams_merge_by_time_into_one_file(
    gateway: GatewayHandle, dataset: Dataset
) -> None:
    """Through the real server and worker: both streams' rows in collection-time order, each
    saying which stream it comes from, with a column relabelled."""
    job = run_export(
        gateway,
        BINANCE.id,
        "normalized",
        "CSV",
        datastreamId=None,
        datastreamIds=[str(BINANCE.id), str(BYBIT.id)],
        columnLabels=[{"name": "collection_timestamp_ns", "label": "received"}],
    )
    [artifact] = job["artifacts"]
    rows = read_text_rows("CSV", download(artifact), gzipped=True)
    expected = sorted(
        [(ds, row) for ds in (BINANCE.id, BYBIT.id) for row in rows_as_dicts(dataset, ds)],
        key=lambda pair: pair[1]["collection_timestamp_ns"],  # stable: ties keep stream order
    )
    assert list(rows[0]) == ["datastream_id", "received", *NORMALIZED_TRADE_COLUMNS[1:]]
    assert len(rows) == artifact["rowCount"] == len(expected)
    assert [(int(r["datastream_id"]), int(r["received"]), r["trade_id"]) for r in rows] == [
        (ds, row["collection_timestamp_ns"], row["trade_id"]) for ds, row in expected
    ]
    assert {(r["exchange"], r["symbol"]) for r in rows} == {
        ("binance", "BTCUSDT"),
        ("bybit", "BTCUSDT"),
    }
