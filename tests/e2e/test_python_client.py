"""End to end: the typed Python client (clients/python) against a real gateway: create an
export, follow it over the WebSocket subscription to SUCCEEDED, download its file checked
against its SHA-256 and read it back independently, page through every job, and the typed
errors of a refusal."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_gateway_client import (
    AsyncGatewayClient,
    ExportJobOrder,
    ExportStatus,
    InvalidArgument,
    NotFound,
    Unauthenticated,
)

from tests.helpers.data import BINANCE, Dataset
from tests.helpers.environments import GatewayHandle
from tests.helpers.operations import END_NS, START_NS, expected_raw, read_text_rows

pytestmark = pytest.mark.e2e


async def test_the_python_client_exports_follows_downloads_and_pages(
    gateway: GatewayHandle, dataset: Dataset, tmp_path: Path
) -> None:
    url = gateway.gateway.url + "/graphql"
    request = {
        "datastreamId": str(BINANCE.id),
        "schema": "raw",
        "format": "CSV",
        "startTime": START_NS,
        "endTime": END_NS,
    }
    async with AsyncGatewayClient(url, gateway.key_a) as client:
        job = await client.create_export(request)
        assert (job.start_time, job.end_time) == (START_NS, END_NS)  # nanoseconds, exact
        updates = [update async for update in client.follow(job.id)]
        assert {u.id for u in updates} == {job.id}
        final = updates[-1]
        assert final.status is ExportStatus.SUCCEEDED, final.reason
        assert all(u.status in (ExportStatus.QUEUED, ExportStatus.RUNNING) for u in updates[:-1])

        [path] = await client.download(final, tmp_path / "files")
        rows = read_text_rows("CSV", path.read_bytes(), gzipped=True)
        expected = expected_raw(dataset, BINANCE.id)
        assert [(int(r["collection_timestamp_ns"]), r["data"]) for r in rows] == expected
        [artifact] = final.artifacts
        assert final.progress.rows_written == artifact.row_count == len(expected)
        assert (await client.wait(job.id, timeout=30)).status is ExportStatus.SUCCEEDED

        listed = [j.id async for j in client.iter_exports(page_size=3)]
        newest = await client.api.list_export_jobs(order_by=ExportJobOrder.CREATED_AT_DESC, first=1)
        total = newest.export_jobs.total_count
        assert job.id in listed and len(listed) == len(set(listed)) == total

        with pytest.raises(NotFound):
            await client.get_export("exp_" + "0" * 32)
        with pytest.raises(InvalidArgument) as refused:
            await client.create_export({**request, "endTime": START_NS})
        assert ("input", "endTime") in [p.field for p in refused.value.problems]
    async with AsyncGatewayClient(url, "egw_not_a_key") as stranger:
        with pytest.raises(Unauthenticated):
            await stranger.get_export(job.id)
