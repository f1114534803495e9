"""Export options through the API: echoed resolved, applied to files read back independently."""

from __future__ import annotations

import gzip
import io
import itertools
import json
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from tests.api.helpers import (
    ESTIMATE,
    LIST,
    SECOND,
    create_job,
    csv_dicts,
    csv_rows,
    download,
    export_input,
    finished,
    iso,
    job_options,
    normalized_trades,
    records_in,
    run_export,
)
from tests.helpers.inprocess import BYBIT_TRADES, MINUTE, START, TRADES, ApiClient, Seed

# One app with its workers for the whole module (see `shared_api`).
pytestmark = pytest.mark.asyncio(loop_scope="module")

CSV_DEFAULTS = {
    "delimiter": ",",
    "header": True,
    "quoting": "needed",
    "nullString": "",
    "lineTerminator": "\n",
    "timestampFormat": "ns",
}
PARQUET_DEFAULTS = {
    "compression": "zstd",
    "compressionLevel": 3,
    "rowGroupSize": 131072,
    "dictionary": True,
    "statistics": True,
    "dataPageSize": 1048576,
}
JSONL_DEFAULTS = {"timestampFormat": "ns", "decimals": "string"}


@pytest.mark.parametrize(
    ("fmt", "given", "echoed"),
    [
        ("CSV", None, CSV_DEFAULTS),
        ("CSV", {"delimiter": ";"}, {**CSV_DEFAULTS, "delimiter": ";"}),
        ("PARQUET", None, PARQUET_DEFAULTS),
        (
            "PARQUET",
            {"compression": "gzip"},
            {**PARQUET_DEFAULTS, "compression": "gzip", "compressionLevel": 6},
        ),
        (
            "PARQUET",
            {"compression": "snappy", "rowGroupSize": 1000},
            {
                **PARQUET_DEFAULTS,
                "compression": "snappy",
                "compressionLevel": None,
                "rowGroupSize": 1000,
            },
        ),
        ("JSONL", None, JSONL_DEFAULTS),
        ("JSONL", {"decimals": "number"}, {**JSONL_DEFAULTS, "decimals": "number"}),
    ],
)
async def test_format_options_are_echoed_with_every_default(
    shared_api: ApiClient, fmt: str, given: dict[str, Any] | None, echoed: dict[str, Any]
) -> None:
    job = await create_job(shared_api, format=fmt, formatOptions=given)
    options = await job_options(shared_api, job["id"])
    assert options["formatOptions"] == echoed
    assert options["compression"] == ("NONE" if fmt == "PARQUET" else "GZIP")
    unused = {"columns": None, "limit": None, "filter": None, "decimation": None, "split": None}
    assert options["options"] == unused
    # Jobs of this shared app end before the next test (the cap counts active jobs).
    assert (await finished(shared_api, job["id"]))["status"] == "SUCCEEDED"


async def test_the_other_options_are_echoed_resolved(shared_api: ApiClient) -> None:
    job = await create_job(
        shared_api,
        schema="normalized",
        columns=["price", "side"],
        limit=10**9,
        filter={
            "and": [
                {"column": "collection_timestamp_ns", "op": "gte", "value": "2024-03-01T00:00:30Z"},
                {"column": "side", "op": "in", "value": ["buy"]},
            ]
        },
        split={"maxRowsPerFile": 100},
    )
    options = (await job_options(shared_api, job["id"]))["options"]
    assert options["columns"] == ["price", "side"]
    assert options["limit"] == 1_000_000  # clamped to GATEWAY_MAX_EXPORT_ROWS
    assert options["filter"] == {
        "and": [
            {"column": "collection_timestamp_ns", "op": "gte", "value": START + 30 * SECOND},
            {"column": "side", "op": "in", "value": ["buy"]},
        ]
    }
    assert options["split"] == {"by": None, "maxRowsPerFile": 100, "maxBytesPerFile": None}
    bars = await create_job(
        shared_api,
        schema="normalized",
        decimation={"interval": "15s", "aggregations": [{"column": "price", "fn": "OHLC"}]},
    )
    decimation = (await job_options(shared_api, bars["id"]))["options"]["decimation"]
    assert decimation == {
        "interval": "15s",
        "intervalNs": 15 * SECOND,
        "fill": "none",
        "aggregations": [{"column": "price", "fn": "ohlc", "transform": None}],
    }
    for created in (job, bars):
        assert (await finished(shared_api, created["id"]))["status"] == "SUCCEEDED"


async def test_csv_format_options_shape_the_file(shared_api: ApiClient, seed: Seed) -> None:
    options = {
        "delimiter": ";",
        "header": False,
        "quoting": "all",
        "nullString": "NA",
        "lineTerminator": "\r\n",
        "timestampFormat": "iso",
    }
    job = await run_export(shared_api, schema="normalized", formatOptions=options)
    assert (await job_options(shared_api, job["id"]))["formatOptions"] == options
    [artifact] = job["artifacts"]
    content = await download(shared_api, artifact)
    text = gzip.decompress(content).decode()
    assert text.startswith('"')  # quoting all quotes the numbers too
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    got = csv_rows(content, delimiter=";")
    expected = normalized_trades(seed, TRADES.id, START, START + MINUTE)
    assert len(got) == len(expected) == int(artifact["rowCount"])  # no header line
    assert got == [
        [
            iso(e["collection_timestamp_ns"]),
            iso(e["exchange_timestamp_ns"]),
            e["exchange"],
            e["symbol"],
            e["trade_id"],
            e["side"],
            e["price"],
            e["amount"],
        ]
        for e in expected
    ]


async def test_columns_and_limit_choose_what_is_written(shared_api: ApiClient, seed: Seed) -> None:
    job = await run_export(
        shared_api, schema="normalized", columns=["price", "side", "trade_id"], limit=25
    )
    [artifact] = job["artifacts"]
    rows = csv_rows(await download(shared_api, artifact))
    expected = normalized_trades(seed, TRADES.id, START, START + MINUTE)[:25]
    assert rows[0] == ["price", "side", "trade_id"]
    assert rows[1:] == [[e["price"], e["side"], e["trade_id"]] for e in expected]
    assert int(artifact["rowCount"]) == int(job["progress"]["rowsWritten"]) == 25


async def test_a_filter_keeps_exactly_the_rows_it_holds_for(
    shared_api: ApiClient, seed: Seed
) -> None:
    end = START + 3 * MINUTE
    expected = normalized_trades(seed, TRADES.id, START, end)
    prices = sorted(Decimal(r["price"]) for r in expected)
    median = str(prices[len(prices) // 2])
    some_ids = [expected[3]["trade_id"], expected[10]["trade_id"]]
    early = START + 5 * SECOND
    tree = {
        "or": [
            {
                "and": [
                    {"column": "side", "op": "eq", "value": "buy"},
                    {"column": "price", "op": "gte", "value": median},
                    {"not": {"column": "trade_id", "op": "startsWith", "value": "33000001"}},
                ]
            },
            {"column": "trade_id", "op": "in", "value": some_ids},
            {"column": "collection_timestamp_ns", "op": "lt", "value": iso(early)},
        ]
    }

    def holds(row: dict[str, Any]) -> bool:
        first = (
            row["side"] == "buy"
            and Decimal(row["price"]) >= Decimal(median)
            and not row["trade_id"].startswith("33000001")
        )
        return first or row["trade_id"] in some_ids or row["collection_timestamp_ns"] < early

    job = await run_export(
        shared_api, schema="normalized", format="PARQUET", filter=tree, endTime=end
    )
    [artifact] = job["artifacts"]
    table = pq.read_table(io.BytesIO(await download(shared_api, artifact)))
    want = [r["trade_id"] for r in expected if holds(r)]
    assert 0 < len(want) < len(expected)
    assert table.column("trade_id").to_pylist() == want
    assert table.schema.field("price").type == pa.decimal128(38, 18)
    assert [Decimal(p) for p in table.column("price").to_pylist()] == [
        Decimal(r["price"]) for r in expected if holds(r)
    ]


async def test_ohlc_decimation_matches_bars_computed_from_the_records(
    shared_api: ApiClient, seed: Seed
) -> None:
    end = START + 5 * MINUTE
    decimation = {
        "interval": "1m",
        "aggregations": [
            {"column": "price", "fn": "OHLC"},
            {"column": "amount", "fn": "SUM"},
            {"column": "trade_id", "fn": "COUNT"},
            {"column": "price", "fn": "LAST", "transform": "DELTA"},
        ],
    }
    job = await run_export(
        shared_api,
        datastreamId=str(BYBIT_TRADES.id),  # several trades per message: unfolded first
        schema="normalized",
        format="PARQUET",
        decimation=decimation,
        endTime=end,
    )
    [artifact] = job["artifacts"]
    got = pq.read_table(io.BytesIO(await download(shared_api, artifact)))
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
    buckets: dict[int, list[dict[str, Any]]] = {}
    for row in normalized_trades(seed, BYBIT_TRADES.id, START, end):
        buckets.setdefault(row["collection_timestamp_ns"] // MINUTE * MINUTE, []).append(row)
    assert len(buckets) == 5
    bars = [
        (
            start,
            Decimal(rows[0]["price"]),
            max(Decimal(r["price"]) for r in rows),
            min(Decimal(r["price"]) for r in rows),
            Decimal(rows[-1]["price"]),
            sum((Decimal(r["amount"]) for r in rows), Decimal(0)),
            len(rows),
        )
        for start, rows in buckets.items()
    ]
    assert got.column("bucket_start").cast(pa.int64()).to_pylist() == [b[0] for b in bars]
    for index, name in enumerate(
        ["price_open", "price_high", "price_low", "price_close", "amount_sum"], start=1
    ):
        assert [Decimal(v) for v in got.column(name).to_pylist()] == [b[index] for b in bars], name
    assert got.column("trade_id_count").to_pylist() == [b[6] for b in bars]
    closes = [b[4] for b in bars]
    deltas = [None] + [after - before for before, after in itertools.pairwise(closes)]
    assert got.column("price_last").to_pylist() == deltas
    assert int(artifact["rowCount"]) == 5


async def test_split_by_rows_writes_files_and_a_manifest(shared_api: ApiClient, seed: Seed) -> None:
    end = START + 2 * MINUTE
    job = await run_export(shared_api, schema="raw", split={"maxRowsPerFile": 500}, endTime=end)
    *files, manifest = job["artifacts"]
    expected = records_in(seed, TRADES.id, START, end)
    sizes = [500] * (len(expected) // 500) + ([len(expected) % 500] if len(expected) % 500 else [])
    assert [int(f["rowCount"]) for f in files] == sizes
    got: list[tuple[int, str]] = []
    for artifact in files:
        rows = csv_dicts(await download(shared_api, artifact))
        assert len(rows) == int(artifact["rowCount"])
        got += [(int(r["collection_timestamp_ns"]), r["data"]) for r in rows]
    assert got == expected
    assert len({f["filename"] for f in files}) == len(files)
    assert all(f["filename"].startswith(f"{TRADES.id}_2024030") for f in files)
    assert manifest["filename"].endswith(".manifest.json") and int(manifest["rowCount"]) == 0
    listed = json.loads(await download(shared_api, manifest))
    assert [f["filename"] for f in listed["files"]] == [f["filename"] for f in files]
    assert [f["sha256"] for f in listed["files"]] == [f["sha256"] for f in files]
    assert listed["rowCount"] == len(expected)  # the manifest file: a JSON number
    assert (listed["startTime"], listed["endTime"]) == (START, end)


async def test_split_by_hour_names_files_after_the_period(
    shared_api: ApiClient, seed: Seed
) -> None:
    end = START + 60 * MINUTE
    job = await run_export(shared_api, schema="raw", split={"by": "HOUR"}, endTime=end)
    [data, manifest] = job["artifacts"]
    assert data["filename"] == f"{TRADES.id}_20240301T000000Z_20240301T010000Z.csv.gz"
    assert int(data["rowCount"]) == len(seed.records[TRADES.id])
    assert manifest["filename"].endswith(".manifest.json")
    rows = csv_dicts(await download(shared_api, data))
    assert [int(r["collection_timestamp_ns"]) for r in rows] == [
        ts for ts, _ in records_in(seed, TRADES.id, START, end)
    ]


async def test_jsonl_decimals_as_numbers_millisecond_times_and_zstd(
    shared_api: ApiClient, seed: Seed
) -> None:
    job = await run_export(
        shared_api,
        datastreamId=str(BYBIT_TRADES.id),
        schema="normalized",
        format="JSONL",
        compression="ZSTD",
        formatOptions={"decimals": "number", "timestampFormat": "ms"},
    )
    [artifact] = job["artifacts"]
    assert artifact["filename"].endswith(".jsonl.zst")
    content = await download(shared_api, artifact)
    text = zstandard.ZstdDecompressor().decompressobj().decompress(content).decode()
    got = [json.loads(line, parse_float=Decimal) for line in text.splitlines()]
    expected = normalized_trades(seed, BYBIT_TRADES.id, START, START + MINUTE)
    assert len(got) == len(expected) == int(artifact["rowCount"])
    for row, want in zip(got, expected, strict=True):
        assert row["collection_timestamp_ns"] == want["collection_timestamp_ns"] // 10**6
        assert not isinstance(row["price"], str) and Decimal(row["price"]) == Decimal(want["price"])
        assert Decimal(row["amount"]) == Decimal(want["amount"])
        assert (row["trade_id"], row["side"]) == (want["trade_id"], want["side"])


async def test_parquet_format_options_shape_the_file(shared_api: ApiClient, seed: Seed) -> None:
    job = await run_export(
        shared_api,
        schema="normalized",
        format="PARQUET",
        formatOptions={"compression": "snappy", "rowGroupSize": 1000, "statistics": False},
        endTime=START + 5 * MINUTE,
    )
    [artifact] = job["artifacts"]
    metadata = pq.ParquetFile(io.BytesIO(await download(shared_api, artifact))).metadata
    expected = len(normalized_trades(seed, TRADES.id, START, START + 5 * MINUTE))
    sizes = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
    assert len(sizes) > 2 and sizes == [1000] * (expected // 1000) + [expected % 1000]
    column = metadata.row_group(0).column(6)
    assert column.compression == "SNAPPY" and column.statistics is None


async def test_the_estimate_is_plausible_and_creates_no_job(
    shared_api: ApiClient, seed: Seed
) -> None:
    request = export_input(
        datastreamId=str(BYBIT_TRADES.id), schema="normalized", endTime=START + 2 * MINUTE
    )
    count = {"order": "CREATED_AT_DESC", "first": 1}

    async def jobs() -> int:
        return int((await shared_api.execute(LIST, count))["exportJobs"]["totalCount"])

    before = await jobs()
    estimate = (await shared_api.execute(ESTIMATE, {"input": request}))["estimateExport"]
    assert await jobs() == before
    assert estimate["userErrors"] == [] and estimate["sampledRecords"] > 0
    records = len(records_in(seed, BYBIT_TRADES.id, START, START + 2 * MINUTE))
    assert abs(int(estimate["recordsInRange"]) - records) <= 0.1 * records
    job = await run_export(shared_api, **request)
    [artifact] = job["artifacts"]
    assert abs(int(estimate["estimatedRows"]) - int(artifact["rowCount"])) <= 0.1 * int(
        artifact["rowCount"]
    )
    assert abs(int(estimate["estimatedBytes"]) - int(artifact["byteSize"])) <= 0.35 * int(
        artifact["byteSize"]
    )
    limited = await shared_api.execute(ESTIMATE, {"input": {**request, "limit": 7}})
    assert int(limited["estimateExport"]["estimatedRows"]) == 7
    bars = {"interval": "1m", "aggregations": [{"column": "price", "fn": "LAST"}]}
    decimated = await shared_api.execute(ESTIMATE, {"input": {**request, "decimation": bars}})
    assert int(decimated["estimateExport"]["estimatedRows"]) == 2


async def test_the_estimate_refuses_what_create_refuses(shared_api: ApiClient) -> None:
    cases: list[dict[str, Any]] = [
        export_input(datastreamId="424242", startTime=START + MINUTE, endTime=START, schema="x"),
        export_input(schema="normalized", columns=["x"], limit=0),
        export_input(format="PARQUET", compression="GZIP", formatOptions={"colour": "red"}),
    ]
    create = """mutation($input: CreateExportInput!) { createExport(input: $input) {
      exportJob { id } userErrors { code field message retryAfter } } }"""
    for request in cases:
        estimated = (await shared_api.execute(ESTIMATE, {"input": request}))["estimateExport"]
        created = (await shared_api.execute(create, {"input": request}))["createExport"]
        assert created["exportJob"] is None
        assert estimated["userErrors"] == created["userErrors"] != []
        assert (int(estimated["estimatedRows"]), estimated["sampledRecords"]) == (0, 0)


async def test_values_csv_cannot_hold_fail_the_job_and_the_estimate_says_so(
    shared_api: ApiClient,
) -> None:
    request = export_input(schema="raw", formatOptions={"quoting": "none"})  # JSON has commas
    estimate = (await shared_api.execute(ESTIMATE, {"input": request}))["estimateExport"]
    [error] = estimate["userErrors"]
    assert (error["code"], error["field"]) == ("INVALID_ARGUMENT", ["input"])
    assert error["message"].startswith("the export would fail: CSV cannot hold")
    job = await finished(shared_api, (await create_job(shared_api, **request))["id"])
    assert job["status"] == "FAILED" and job["artifacts"] == []
    assert job["reason"].startswith("CSV cannot hold these values with these options")
