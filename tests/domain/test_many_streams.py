"""Many datastreams in one export, as the domain sees them: what a job records, and the
fingerprints of single-stream requests, which must not change (idempotency keys replay)."""

from __future__ import annotations

import hashlib
import json

from app.domain.exports import commands, queries
from app.domain.exports.requests import validate_export
from app.domain.runtime import Runtime
from tests.domain.helpers import export_request, problems_of
from tests.helpers.inprocess import BOOK, BYBIT_TRADES, TRADES, Seed


async def test_a_single_stream_request_keeps_the_fingerprint_it_always_had(
    runtime: Runtime, seed: Seed
) -> None:
    who = seed.principals["alpha"]
    async with runtime.sessions() as session:
        checked = await validate_export(session, runtime.settings, who, export_request())
    stored = checked.options.to_json()
    assert set(stored) == {"formatOptions"}  # the newer options are not stored by default
    parts = [
        TRADES.id,
        checked.start_ns,
        checked.end_ns,
        checked.snapshot,
        checked.format,
        checked.compression,
        stored,
    ]
    assert checked.fingerprint == hashlib.sha256(json.dumps(parts).encode()).hexdigest()


async def test_a_many_stream_job_records_its_streams_in_order(runtime: Runtime, seed: Seed) -> None:
    request = export_request(
        datastream_id=None,
        datastream_ids=[str(BYBIT_TRADES.id), f"ds_{TRADES.id}"],
        schema="normalized",
    )
    job, created = await commands.create_export(runtime, seed.principals["alpha"], request)
    assert created
    assert job.datastream_id == BYBIT_TRADES.id
    assert job.datastream_ids == [BYBIT_TRADES.id, TRADES.id]
    assert job.options is not None and job.options["streamColumns"] is True
    assert job.records_total > 0


async def test_streams_of_another_category_are_refused_by_index(
    runtime: Runtime, seed: Seed
) -> None:
    request = export_request(datastream_id=None, datastream_ids=[str(TRADES.id), str(BOOK.id), "0"])
    problems = await problems_of(commands.create_export(runtime, seed.principals["alpha"], request))
    assert sorted(field for _, field, _ in problems) == [
        ("input", "datastreamIds", "1"),
        ("input", "datastreamIds", "2"),
    ]


async def test_a_many_stream_job_is_listed_under_each_of_its_streams(
    runtime: Runtime, seed: Seed
) -> None:
    who = seed.principals["alpha"]
    request = export_request(
        datastream_id=None, datastream_ids=[str(TRADES.id), str(BYBIT_TRADES.id)]
    )
    job, _ = await commands.create_export(runtime, who, request)
    single, _ = await commands.create_export(runtime, who, export_request())
    async with runtime.sessions() as session:
        for stream, expected in ((TRADES.id, {job.id, single.id}), (BYBIT_TRADES.id, {job.id})):
            found, total = await queries.list_exports(
                session, who, queries.ListFilter(datastream_id=stream), after=None, limit=10
            )
            assert {j.id for j in found} == expected and total == len(expected)
        found, _ = await queries.list_exports(
            session, who, queries.ListFilter(datastream_id=BOOK.id), after=None, limit=10
        )
        assert found == []
