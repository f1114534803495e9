"""What a worker does with a delivery of a job (`run_export_job`): the files it publishes and
their contents, the events it fires, and every delivery that must do nothing."""

from __future__ import annotations

import asyncio
import errno
import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.db.models import NotificationEventRow
from app.domain.exports import commands, queries, retention, runs
from app.domain.exports.requests import OptionsRequest
from app.domain.runtime import Runtime
from app.storage import artifact_key
from engine.export import Progress
from tests.domain.helpers import (
    OnFirstRunning,
    Witness,
    artifact_rows,
    export_request,
    job_files,
    raw_rows,
    records_between,
    run_job,
    runtime_for,
    set_job,
    settings_with,
    stored_job,
    window,
)
from tests.helpers.inprocess import BYBIT_TRADES, TRADES, RecordingEffects, Seed


def running_then(statuses: list[str], last: str) -> None:
    """QUEUED when created, RUNNING when claimed, RUNNING again for any progress, then `last`."""
    assert statuses[0] == "QUEUED", statuses
    statuses = statuses[1:]
    assert statuses[0] == "RUNNING" and statuses[-1] == last, statuses
    assert set(statuses[1:-1]) <= {"RUNNING"}, statuses


@pytest.mark.parametrize(
    ("fmt", "datastream", "suffix"),
    [
        ("CSV", TRADES.id, ".csv.gz"),
        ("PARQUET", TRADES.id, ".parquet"),
        ("JSONL", BYBIT_TRADES.id, ".jsonl.gz"),
    ],
)
async def test_a_job_succeeds_with_exactly_the_records_in_range(
    runtime: Runtime,
    effects: RecordingEffects,
    seed: Seed,
    fmt: str,
    datastream: int,
    suffix: str,
) -> None:
    times = window(1, 4)  # not on segment boundaries: a slice of what was ingested
    job, _ = await commands.create_export(
        runtime,
        seed.principals["alpha"],
        export_request(format=fmt, datastream_id=str(datastream), **times),
    )
    assert job.status == "QUEUED"
    await run_job(runtime, job.id)
    done = await stored_job(runtime, job.id)
    [artifact] = await artifact_rows(runtime, job.id)
    path = runtime.settings.storage_dir / artifact.path
    expected = records_between(seed, datastream, times["start_time"], times["end_time"])
    got = raw_rows(path)
    if fmt == "JSONL":  # the message as a JSON document, not as text
        expected = [(ts, json.loads(text)) for ts, text in expected]
    assert got == expected and len(expected) > 1000
    assert artifact.filename.endswith(suffix) and artifact.filename == path.name
    assert artifact.row_count == done.rows_written == len(expected)
    content = path.read_bytes()
    assert artifact.byte_size == done.bytes_written == len(content)
    assert artifact.sha256 == hashlib.sha256(content).hexdigest()
    assert (done.status, done.attempts, done.reason) == ("SUCCEEDED", 1, None)
    assert done.finished_at is not None and done.expires_at is not None
    assert done.expires_at - done.finished_at == int(runtime.settings.retention_seconds * 1e9)
    running_then(effects.statuses(job.id), "SUCCEEDED")
    assert job_files(runtime.settings, job.id) == [path]


async def test_each_event_of_a_run_follows_the_commit_it_announces(
    runtime: Runtime, seed: Seed
) -> None:
    job, _ = await commands.create_export(runtime, seed.principals["alpha"], export_request())
    witness = Witness(runtime.sync_sessions)
    await run_job(witness.on(runtime), job.id)
    first, *progress, last = witness.seen
    assert first == ("RUNNING", "RUNNING", 0)
    assert set(progress) <= {("RUNNING", "RUNNING", 0)}
    assert last == ("SUCCEEDED", "SUCCEEDED", 1)  # the files are listed when it is announced


async def test_options_shape_the_published_files(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    """Split by rows: several files and a manifest listing them, the records all there once."""
    times = window(0, 3)
    job, _ = await commands.create_export(
        runtime,
        seed.principals["alpha"],
        export_request(
            compression="NONE", options=OptionsRequest(split={"maxRowsPerFile": 1000}), **times
        ),
    )
    await run_job(runtime, job.id)
    artifacts = await artifact_rows(runtime, job.id)
    [manifest] = [a for a in artifacts if a.filename.endswith(".manifest.json")]
    files = [a for a in artifacts if a is not manifest]
    storage = runtime.settings.storage_dir
    listed = json.loads((storage / manifest.path).read_text())
    assert [f["filename"] for f in listed["files"]] == [f.filename for f in files]
    rows = [row for f in files for row in raw_rows(storage / f.path)]
    assert rows == records_between(seed, TRADES.id, times["start_time"], times["end_time"])
    assert [f.row_count for f in files[:-1]] == [1000] * (len(files) - 1)
    assert listed["rowCount"] == len(rows) and len(files) > 1


async def test_a_second_delivery_of_a_finished_job_does_nothing(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    job, _ = await commands.create_export(runtime, seed.principals["alpha"], export_request())
    await run_job(runtime, job.id)
    events = list(effects.events)
    [artifact] = await artifact_rows(runtime, job.id)
    files = job_files(runtime.settings, job.id)
    await run_job(runtime, job.id)
    assert effects.events == events
    assert [a.id for a in await artifact_rows(runtime, job.id)] == [artifact.id]
    assert job_files(runtime.settings, job.id) == files
    assert (await stored_job(runtime, job.id)).attempts == 1


async def test_a_delivery_while_a_live_worker_holds_the_job_does_nothing(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    job, _ = await commands.create_export(runtime, seed.principals["alpha"], export_request())
    with runtime.sync_sessions() as session:
        claimed = runs.claim(session, job.id, stale_before_ns=0)
    assert claimed is not None
    await run_job(runtime, job.id)
    assert effects.statuses(job.id) == ["QUEUED"]  # its creation only
    stored = await stored_job(runtime, job.id)
    assert (stored.status, stored.claim_token, stored.attempts) == (
        "RUNNING",
        claimed.claim_token,
        1,
    )
    assert job_files(runtime.settings, job.id) == []


async def test_a_job_whose_worker_died_is_taken_over_and_its_leftovers_removed(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    job, _ = await commands.create_export(runtime, seed.principals["alpha"], export_request())
    with runtime.sync_sessions() as session:
        dead = runs.claim(session, job.id, stale_before_ns=0)
    assert dead is not None
    partial = (
        runtime.settings.storage_dir / artifact_key(job.id, dead.claim_token) / "partial.csv.gz.tmp"
    )
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"half a file")
    await set_job(runtime, job.id, heartbeat_at=1)  # its heartbeats stopped long ago
    await run_job(runtime, job.id)
    done = await stored_job(runtime, job.id)
    assert (done.status, done.attempts) == ("SUCCEEDED", 2)
    [artifact] = await artifact_rows(runtime, job.id)
    assert job_files(runtime.settings, job.id) == [runtime.settings.storage_dir / artifact.path]
    running_then(effects.statuses(job.id), "SUCCEEDED")
    # The dead worker, were it to wake up, no longer owns the job.
    with runtime.sync_sessions() as session, pytest.raises(runs.ClaimLost):
        runs.record_progress(session, dead, Progress(1, 1, 0))


async def test_a_job_canceled_before_it_runs_does_nothing(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    who = seed.principals["alpha"]
    job, _ = await commands.create_export(runtime, who, export_request())
    await commands.cancel_export(runtime, who, job.id)
    await run_job(runtime, job.id)
    assert effects.statuses(job.id) == ["QUEUED", "CANCELED"]
    stored = await stored_job(runtime, job.id)
    assert (stored.status, stored.attempts, stored.started_at) == ("CANCELED", 0, None)
    assert await artifact_rows(runtime, job.id) == []
    assert job_files(runtime.settings, job.id) == []


async def test_a_job_canceled_while_it_runs_stops_and_publishes_nothing(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    who = seed.principals["alpha"]
    job, _ = await commands.create_export(runtime, who, export_request())
    loop = asyncio.get_running_loop()

    def cancel(job_id: str) -> None:
        """The client cancels (on the event loop) while the worker thread waits."""
        asyncio.run_coroutine_threadsafe(
            commands.cancel_export(runtime, who, job_id), loop
        ).result()

    await run_job(OnFirstRunning(effects, cancel).on(runtime), job.id)
    stored = await stored_job(runtime, job.id)
    assert (stored.status, stored.reason) == ("CANCELED", "canceled by request")
    assert effects.statuses(job.id)[:2] == ["QUEUED", "RUNNING"]
    assert set(effects.statuses(job.id)[2:]) == {"CANCELED"}
    assert await artifact_rows(runtime, job.id) == []
    assert job_files(runtime.settings, job.id) == []


async def test_a_worker_that_lost_its_claim_to_another_announces_nothing_false(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    job, _ = await commands.create_export(runtime, seed.principals["alpha"], export_request())
    others: list[runs.ClaimedJob] = []

    def taken_over(job_id: str) -> None:
        """Another worker claims the job, as if this one's heartbeat had gone stale."""
        with runtime.sync_sessions() as session:
            other = runs.claim(session, job_id, stale_before_ns=2**62)
        assert other is not None
        others.append(other)

    await run_job(OnFirstRunning(effects, taken_over).on(runtime), job.id)
    [other] = others
    stored = await stored_job(runtime, job.id)
    assert (stored.status, stored.claim_token) == ("RUNNING", other.claim_token)
    assert await artifact_rows(runtime, job.id) == []
    assert job_files(runtime.settings, job.id) == []  # this attempt's files are gone
    assert "CANCELED" not in effects.statuses(job.id)


async def test_a_full_disk_fails_the_job_with_a_clear_reason_and_leaves_no_files(
    runtime: Runtime, effects: RecordingEffects, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine import writers

    real_write = writers.CsvWriter.write

    def fill_up(self: writers.CsvWriter, table: Any) -> None:
        real_write(self, table)  # the first batch is written: a partial file exists
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writers.CsvWriter, "write", fill_up)
    request = export_request(keep_partial=True)  # even so: the space is what is missing
    job, _ = await commands.create_export(runtime, seed.principals["alpha"], request)
    await run_job(runtime, job.id)
    failed = await stored_job(runtime, job.id)
    assert failed.status == "FAILED"
    assert failed.reason == (
        "the storage is full (No space left on device): free space, then export again"
    )
    assert await artifact_rows(runtime, job.id) == []
    assert job_files(runtime.settings, job.id) == []
    running_then(effects.statuses(job.id), "FAILED")


async def test_a_job_over_the_time_limit_fails_and_leaves_no_files(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    settings = settings_with(seed, tmp_path / "data", job_timeout_seconds=1e-6)
    async with runtime_for(settings, effects) as runtime:
        job, _ = await commands.create_export(runtime, seed.principals["alpha"], export_request())
        await run_job(runtime, job.id)
        failed = await stored_job(runtime, job.id)
        assert failed.status == "FAILED"
        assert failed.reason == runs.time_limit_reason(1e-6)
        assert failed.reason.startswith("export exceeded the time limit of ")
        assert failed.expires_at is None and failed.finished_at is not None
        assert await artifact_rows(runtime, job.id) == []
        assert job_files(settings, job.id) == []
        running_then(effects.statuses(job.id), "FAILED")


async def test_a_failed_job_that_asked_keeps_its_partial_file_for_the_retention_period(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    settings = settings_with(seed, tmp_path / "data", job_timeout_seconds=1e-6)
    async with runtime_for(settings, effects) as runtime:
        request = export_request(keep_partial=True)
        job, _ = await commands.create_export(runtime, seed.principals["alpha"], request)
        await run_job(runtime, job.id)
        failed = await stored_job(runtime, job.id)
        assert failed.status == "FAILED" and failed.keep_partial
        assert failed.reason == runs.time_limit_reason(1e-6)
        [kept] = await artifact_rows(runtime, job.id)
        assert kept.partial and kept.filename.endswith(".partial.csv.gz")
        path = settings.storage_dir / kept.path
        rows = raw_rows(path)
        assert 0 < len(rows) == kept.row_count == failed.rows_written
        assert rows == records_between(seed, TRADES.id, rows[0][0], rows[-1][0] + 1)
        assert failed.expires_at is not None and failed.finished_at is not None
        assert failed.expires_at - failed.finished_at == int(settings.retention_seconds * 1e9)
        async with runtime.sessions() as session:
            assert await queries.get_artifact(session, kept.id) is not None
            [event] = await session.scalars(
                select(NotificationEventRow).where(NotificationEventRow.type == "export.failed")
            )
        assert [(a["artifactId"], a["partial"]) for a in event.data["artifacts"]] == [
            (kept.id, True)
        ]
        running_then(effects.statuses(job.id), "FAILED")

        await set_job(runtime, job.id, expires_at=1)  # the retention period has passed
        async with runtime.sessions() as session:
            assert await queries.get_artifact(session, kept.id) is None
            assert await retention.purge_expired_files(session, settings) == 1
        assert await artifact_rows(runtime, job.id) == [] and not path.exists()
        assert (await stored_job(runtime, job.id)).status == "FAILED"


def inline_schema(on_error: str) -> dict[str, Any]:
    """Binance trades with the symbol (text such as BTCUSDT) read as an int."""
    return {
        "streamCategory": "trade",
        "columns": [
            {"outputColumn": "ts", "meta": "collection_timestamp_ns"},
            {
                "outputColumn": "symbol_number",
                "data": {"binance": {"path": "data.s", "type": "int", "onError": on_error}},
            },
        ],
    }


async def test_a_schema_that_cannot_read_the_data_fails_naming_the_column(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    job, _ = await commands.create_export(
        runtime, seed.principals["alpha"], export_request(inline_schema=inline_schema("fail"))
    )
    await run_job(runtime, job.id)
    failed = await stored_job(runtime, job.id)
    assert failed.status == "FAILED"
    assert failed.reason is not None
    assert "column 'symbol_number'" in failed.reason and "'BTCUSDT'" in failed.reason
    assert await artifact_rows(runtime, job.id) == []
    assert job_files(runtime.settings, job.id) == []
    running_then(effects.statuses(job.id), "FAILED")


async def test_on_error_null_writes_nulls_instead_of_failing(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    times = window(0, 1)
    job, _ = await commands.create_export(
        runtime,
        seed.principals["alpha"],
        export_request(format="JSONL", inline_schema=inline_schema("null"), **times),
    )
    await run_job(runtime, job.id)
    assert (await stored_job(runtime, job.id)).status == "SUCCEEDED"
    [artifact] = await artifact_rows(runtime, job.id)
    lines = gzip.decompress((runtime.settings.storage_dir / artifact.path).read_bytes())
    rows = [json.loads(line) for line in lines.splitlines()]
    expected = records_between(seed, TRADES.id, times["start_time"], times["end_time"])
    assert rows == [{"ts": ts, "symbol_number": None} for ts, _ in expected]
