"""createExport through the real app in this process: HTTP in, the embedded worker runs the
job, the signed link serves the file, pyarrow reads it back; and the lifecycle of a job that
no worker has taken yet (timestamps, cancelExport, deleteExport)."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.api.helpers import (
    CANCEL,
    DELETE,
    JOB,
    create_job,
    create_payload,
    download,
    finished,
    records_in,
)
from tests.helpers.inprocess import START, TRADES, ApiClient, Seed


async def test_an_export_runs_on_the_embedded_worker_and_downloads(
    api: ApiClient, seed: Seed
) -> None:
    end = START + 120 * 10**9
    payload = await create_payload(api, schema="raw", format="PARQUET", endTime=end)
    assert payload["userErrors"] == []
    created = payload["exportJob"]
    assert created["id"].startswith("exp_") and len(created["id"]) == 36
    assert (created["status"], created["format"], created["compression"]) == (
        "QUEUED",
        "PARQUET",
        "NONE",
    )
    job = await finished(api, created["id"])
    assert job["status"] == "SUCCEEDED", job
    assert job["reason"] is None and job["finishedAt"] is not None
    [artifact] = job["artifacts"]
    table = pq.read_table(io.BytesIO(await download(api, artifact)))
    expected = records_in(seed, TRADES.id, START, end)
    assert table.schema.field("collection_timestamp_ns").type == pa.timestamp("ns", tz="UTC")
    times = table.column("collection_timestamp_ns").cast(pa.int64()).to_pylist()
    assert list(zip(times, table.column("data").to_pylist(), strict=True)) == expected
    assert int(artifact["rowCount"]) == int(job["progress"]["rowsWritten"]) == len(expected)
    assert int(job["progress"]["bytesWritten"]) == int(artifact["byteSize"])


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        ("2024-03-01T00:00:00.123456789Z", "2024-03-01T00:00:00.123456789Z"),
        (1709251200123456789, "2024-03-01T00:00:00.123456789Z"),
        ("1709251200123456789", "2024-03-01T00:00:00.123456789Z"),
        ("2024-03-01T01:00:00.5+01:00", "2024-03-01T00:00:00.500000000Z"),
    ],
)
async def test_timestamps_round_trip_nanoseconds_in_every_input_form(
    idle_api: ApiClient, given: object, normalized: str
) -> None:
    job = await create_job(idle_api, startTime=given, endTime="2024-03-01T00:00:01Z")
    assert job["startTime"] == normalized
    assert job["endTime"] == "2024-03-01T00:00:01.000000000Z"


async def test_cancel_stops_a_queued_job_once(idle_api: ApiClient) -> None:
    job = await create_job(idle_api)
    payload = (await idle_api.execute(CANCEL, {"id": job["id"]}))["cancelExport"]
    assert payload["userErrors"] == []
    assert payload["exportJob"] == {
        "id": job["id"],
        "status": "CANCELED",
        "reason": "canceled by request",
    }
    now = (await idle_api.execute(JOB, {"id": job["id"]}))["exportJob"]
    assert (now["status"], now["artifacts"]) == ("CANCELED", [])
    assert now["finishedAt"] is not None
    again = (await idle_api.execute(CANCEL, {"id": job["id"]}))["cancelExport"]
    assert again["exportJob"] is None
    [error] = again["userErrors"]
    assert (error["code"], error["field"]) == ("FAILED_PRECONDITION", ["input", "id"])
    assert "already CANCELED" in error["message"]


async def test_delete_removes_a_job_in_any_state(idle_api: ApiClient) -> None:
    queued = await create_job(idle_api)
    canceled = await create_job(idle_api)
    await idle_api.execute(CANCEL, {"id": canceled["id"]})
    for job in (queued, canceled):
        deleted = (await idle_api.execute(DELETE, {"id": job["id"]}))["deleteExport"]
        assert deleted == {"deletedId": job["id"], "userErrors": []}
        assert (await idle_api.execute(JOB, {"id": job["id"]}))["exportJob"] is None
        again = (await idle_api.execute(DELETE, {"id": job["id"]}))["deleteExport"]
        assert [e["code"] for e in again["userErrors"]] == ["NOT_FOUND"]
    listed = await idle_api.execute("{ exportJobs { totalCount } }")
    assert int(listed["exportJobs"]["totalCount"]) == 0
