"""Progress over GraphQL: input records read against the records in range, the fraction and
ETA of a finished job, rows and compressed bytes as the files hold them, and the deprecated
alias; the job's revision and updatedAt."""

from __future__ import annotations

import pytest

from tests.api.helpers import iso, records_in, run_export
from tests.helpers.inprocess import BOOK, MINUTE, START, ApiClient, Seed

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROGRESS = """query($id: ID!) { exportJob(id: $id) { status revision updatedAt finishedAt
  progress { recordsRead recordsTotal fraction etaSeconds rowsWritten bytesWritten
             estimatedRows }
  artifacts { byteSize rowCount } } }"""
DEPRECATIONS = """{ __type(name: "ExportProgress") {
  fields(includeDeprecated: true) { name isDeprecated deprecationReason description } } }"""


async def test_a_finished_export_shows_records_rows_and_bytes_each_in_its_unit(
    shared_api: ApiClient, seed: Seed
) -> None:
    start, end = START, START + 2 * MINUTE
    job = await run_export(
        shared_api,
        datastreamId=str(BOOK.id),
        schema="normalized",
        startTime=iso(start),
        endTime=iso(end),
        compression="GZIP",
    )
    got = (await shared_api.execute(PROGRESS, {"id": job["id"]}))["exportJob"]
    progress = got["progress"]
    records = len(records_in(seed, BOOK.id, start, end))
    assert int(progress["recordsRead"]) == records  # every stored message in range
    assert int(progress["recordsTotal"]) == pytest.approx(records, rel=0.02)  # the catalog's
    assert int(progress["estimatedRows"]) == int(progress["recordsTotal"])
    assert progress["fraction"] == 1.0 and progress["etaSeconds"] == 0.0
    [artifact] = got["artifacts"]
    assert int(progress["rowsWritten"]) == int(artifact["rowCount"]) > 2 * records  # unfolded
    assert int(progress["bytesWritten"]) == int(artifact["byteSize"])  # compressed, as stored
    assert int(got["revision"]) >= 3  # created, claimed, at least one tick, finished
    assert got["updatedAt"] >= got["finishedAt"]  # ISO with nine digits: sorts as time


async def test_estimated_rows_is_a_deprecated_alias_and_every_field_is_described(
    shared_api: ApiClient,
) -> None:
    fields = (await shared_api.execute(DEPRECATIONS))["__type"]["fields"]
    by_name = {f["name"]: f for f in fields}
    assert {
        "recordsRead",
        "recordsTotal",
        "fraction",
        "etaSeconds",
        "rowsWritten",
        "bytesWritten",
    } <= set(by_name)
    assert all(f["description"] for f in fields)
    deprecated = {f["name"] for f in fields if f["isDeprecated"]}
    assert deprecated == {"estimatedRows"}
    assert "recordsTotal" in by_name["estimatedRows"]["deprecationReason"]
