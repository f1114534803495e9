"""Exports of many datastreams through the API: the merged file read back, files per
datastream, the WIDE layout, labels and zones, and every refusal naming its field."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.api.helpers import (
    ESTIMATE,
    SECOND,
    create_job,
    csv_dicts,
    download,
    finished,
    normalized_trades,
    run_export,
    user_errors,
)
from tests.helpers.inprocess import BOOK, BYBIT_TRADES, MINUTE, START, TRADES, ApiClient, Seed

pytestmark = pytest.mark.asyncio(loop_scope="module")

BOTH = [str(TRADES.id), f"ds_{BYBIT_TRADES.id}"]
JOB_STREAMS = """query($id: ID!) { exportJob(id: $id) { datastreamId datastreamIds
  datastreams { datastreamId exchange { code } instrument { symbol } }
  options { layout streamLabels columnLabels timezone split } } }"""


def many(**fields: Any) -> dict[str, Any]:
    return {"datastreamId": None, "datastreamIds": BOTH, "schema": "normalized", **fields}


async def test_two_streams_are_merged_by_collection_time(shared_api: ApiClient, seed: Seed) -> None:
    job = await run_export(shared_api, **many())
    [artifact] = job["artifacts"]
    rows = csv_dicts(await download(shared_api, artifact))
    expected = sorted(
        [
            {"datastream_id": str(ds), **row}
            for ds in (TRADES.id, BYBIT_TRADES.id)
            for row in normalized_trades(seed, ds, START, START + MINUTE)
        ],
        key=lambda r: r["collection_timestamp_ns"],  # stable: equal times keep the order
    )
    assert list(rows[0]) == list(expected[0])
    assert [r["collection_timestamp_ns"] for r in rows] == [
        str(r["collection_timestamp_ns"]) for r in expected
    ]
    assert [(r["datastream_id"], r["exchange"], r["trade_id"]) for r in rows] == [
        (r["datastream_id"], r["exchange"], r["trade_id"]) for r in expected
    ]
    shown = (await shared_api.execute(JOB_STREAMS, {"id": job["id"]}))["exportJob"]
    assert shown["datastreamIds"] == [str(TRADES.id), str(BYBIT_TRADES.id)]
    assert int(shown["datastreamId"]) == TRADES.id
    assert [(int(d["datastreamId"]), d["exchange"]["code"]) for d in shown["datastreams"]] == [
        (TRADES.id, "binance"),
        (BYBIT_TRADES.id, "bybit"),
    ]


async def test_files_per_datastream_are_in_the_manifest(shared_api: ApiClient, seed: Seed) -> None:
    job = await run_export(shared_api, **many(split={"perDatastream": True}, format="PARQUET"))
    by_name = {a["filename"]: a for a in job["artifacts"]}
    manifest_name = next(n for n in by_name if n.endswith(".manifest.json"))
    manifest = json.loads(await download(shared_api, by_name.pop(manifest_name)))
    assert [f["datastreamId"] for f in manifest["files"]] == [TRADES.id, BYBIT_TRADES.id]
    for entry in manifest["files"]:
        table = pq.read_table(io.BytesIO(await download(shared_api, by_name[entry["filename"]])))
        assert set(table.column("datastream_id").to_pylist()) == {entry["datastreamId"]}
        expected = normalized_trades(seed, entry["datastreamId"], START, START + MINUTE)
        assert table.num_rows == entry["rowCount"] == len(expected)


async def test_wide_layout_relabelled_in_a_time_zone(shared_api: ApiClient, seed: Seed) -> None:
    job = await run_export(
        shared_api,
        **many(
            layout="WIDE",
            decimation={"interval": "10s", "aggregations": [{"column": "price", "fn": "LAST"}]},
            streamLabels=[{"datastreamId": str(BYBIT_TRADES.id), "label": "bybit"}],
            columnLabels=[{"name": "bucket_start", "label": "time"}],
            timezone="America/New_York",
            formatOptions={"timestampFormat": "iso"},
        ),
    )
    rows = csv_dicts(await download(shared_api, job["artifacts"][0]))
    assert list(rows[0]) == ["time", f"{TRADES.id}_price_last", "bybit_price_last"]
    assert rows[0]["time"] == "2024-02-29T19:00:00.000000000-05:00"  # START in New York
    buckets: dict[int, dict[str, str]] = {}
    for ds, name in ((TRADES.id, f"{TRADES.id}_price_last"), (BYBIT_TRADES.id, "bybit_price_last")):
        for row in normalized_trades(seed, ds, START, START + MINUTE):
            bucket = row["collection_timestamp_ns"] // (10 * SECOND) * (10 * SECOND)
            buckets.setdefault(bucket, {})[name] = row["price"]
    assert len(rows) == len(buckets)
    columns = (f"{TRADES.id}_price_last", "bybit_price_last")
    assert [tuple(_number(r[c]) for c in columns) for r in rows] == [
        tuple(_number(b.get(c, "")) for c in columns) for _, b in sorted(buckets.items())
    ]
    shown = (await shared_api.execute(JOB_STREAMS, {"id": job["id"]}))["exportJob"]
    assert shown["options"]["layout"] == "WIDE" and shown["options"]["timezone"] == (
        "America/New_York"
    )


def _number(text: str) -> Decimal | None:
    return Decimal(text) if text else None


async def test_the_estimate_counts_every_stream(shared_api: ApiClient, seed: Seed) -> None:
    data = await shared_api.execute(
        ESTIMATE, {"input": {"startTime": START, "endTime": START + MINUTE, **many()}}
    )
    estimate = data["estimateExport"]
    assert estimate["userErrors"] == []
    records = sum(
        len([t for t, _ in seed.records[ds] if START <= t < START + MINUTE])
        for ds in (TRADES.id, BYBIT_TRADES.id)
    )
    assert abs(int(estimate["recordsInRange"]) - records) <= 2


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"datastreamId": str(TRADES.id), "datastreamIds": BOTH}, [("input", "datastreamIds")]),
        ({"datastreamId": None}, [("input", "datastreamId")]),
        (
            {"datastreamId": None, "datastreamIds": [str(TRADES.id), "x", "999999"]},
            [("input", "datastreamIds", "1"), ("input", "datastreamIds", "2")],
        ),
        (
            {"datastreamId": None, "datastreamIds": [str(TRADES.id), str(TRADES.id)]},
            [("input", "datastreamIds", "1")],
        ),
        (
            {"datastreamId": None, "datastreamIds": [str(TRADES.id), str(BOOK.id)]},
            [("input", "datastreamIds", "1")],
        ),
        (many(layout="WIDE"), [("input", "layout")]),
        (many(timezone="Nowhere/Atlantis"), [("input", "timezone")]),
        (
            many(columnLabels=[{"name": "nope", "label": "x"}]),
            [("input", "columnLabels", "0", "name")],
        ),
        (
            many(
                layout="WIDE",
                decimation={"interval": "1m", "aggregations": [{"column": "price", "fn": "MAX"}]},
                split={"perDatastream": True},
            ),
            [("input", "split", "perDatastream")],
        ),
    ],
)
async def test_refusals_name_their_field(
    shared_api: ApiClient, fields: dict[str, Any], expected: list[tuple[str, ...]]
) -> None:
    errors = await user_errors(shared_api, **fields)
    assert sorted(tuple(e["field"]) for e in errors) == expected, errors


async def test_too_many_datastreams_is_refused(shared_api: ApiClient) -> None:
    errors = await user_errors(
        shared_api, datastreamId=None, datastreamIds=[str(i) for i in range(1, 2_002)]
    )
    assert [e["field"] for e in errors] == [["input", "datastreamIds"]]


async def test_single_stream_requests_keep_their_fingerprint(shared_api: ApiClient) -> None:
    """The same idempotency key with datastreamIds of one stream replays the job."""
    job = await create_job(shared_api, idempotencyKey="one-stream")
    again = await create_job(
        shared_api, idempotencyKey="one-stream", datastreamId=None, datastreamIds=[str(TRADES.id)]
    )
    assert again["id"] == job["id"]
    await finished(shared_api, job["id"])
