"""Exports run in parts: a split by period (or per datastream) cut into parts that any worker
runs, resumed part by part, published once by whoever finishes the last part; the files and
manifest the same bytes as a sequential run's."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from sqlalchemy import select, update

from app.db.models import ExportArtifactRow, ExportJobRow, ExportPartRow
from app.demo.trades import binance_trades
from app.domain import sweeper
from app.domain.exports import commands, execution, parts, runs
from app.domain.exports.requests import OptionsRequest
from app.domain.ingest import ingest_tables
from app.domain.runtime import Runtime
from engine.export import Progress, run_export
from engine.segments import records_table
from engine.writers import OutputError
from tests.domain.helpers import export_request, job_files, raw_rows, run_job, stored_job
from tests.helpers.inprocess import BYBIT_TRADES, MINUTE, START, TRADES, RecordingEffects, Seed

HOUR = 60 * MINUTE
THREE_HOURS = {"start_time": START, "end_time": START + 3 * HOUR}


async def _more_hours(runtime: Runtime, seed: Seed) -> list[tuple[int, str]]:
    """Ten minutes of Binance trades at the start of hours 1 and 2 too: three hourly files."""
    added: list[tuple[int, str]] = []
    for hour in (1, 2):
        start = START + hour * HOUR
        records = list(binance_trades(TRADES, start, start + 10 * MINUTE, TRADES.id + hour))
        await asyncio.to_thread(ingest_tables, runtime, TRADES.id, [records_table(records)], TRADES)
        added += records
    return sorted([*seed.records[TRADES.id], *added])


def _request(**options: Any) -> Any:
    split = options.pop("split", {"by": "HOUR"})
    return export_request(
        compression=options.pop("compression", "GZIP"),
        options=OptionsRequest(split=split),
        **{**THREE_HOURS, **options},
    )


async def _create(runtime: Runtime, seed: Seed, **options: Any) -> str:
    job, _ = await commands.create_export(runtime, seed.principals["alpha"], _request(**options))
    return job.id


async def _drain(runtime: Runtime, effects: RecordingEffects, job_id: str) -> int:
    """Deliver the job's wake-ups one at a time, as a worker pool would; how many."""
    delivered = 0
    await run_job(runtime, job_id)
    while job_id in effects.woken:
        effects.woken.remove(job_id)
        await run_job(runtime, job_id)
        delivered += 1
    return delivered


async def _parts(runtime: Runtime, job_id: str) -> list[ExportPartRow]:
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(ExportPartRow).where(ExportPartRow.job_id == job_id).order_by(ExportPartRow.seq)
        )
        return list(rows)


async def _artifacts(runtime: Runtime, job_id: str) -> list[ExportArtifactRow]:
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(ExportArtifactRow)
            .where(ExportArtifactRow.job_id == job_id)
            .order_by(ExportArtifactRow.filename)
        )
        return list(rows)


def _published(runtime: Runtime, job_id: str, artifacts: list[ExportArtifactRow]) -> list[Any]:
    """(name without the job id, sha256, bytes) of each artifact, in the order listed."""
    storage = runtime.settings.storage_dir
    return sorted(
        (a.filename.replace(job_id, "<job>"), a.sha256, (storage / a.path).read_bytes())
        for a in artifacts
    )


async def _sequential(
    runtime: Runtime, seed: Seed, monkeypatch: pytest.MonkeyPatch, **options: Any
) -> list[Any]:
    with monkeypatch.context() as patched:
        patched.setattr(parts, "plan", lambda _session, _job: None)
        job_id = await _create(runtime, seed, **options)
        await run_job(runtime, job_id)
        assert await _parts(runtime, job_id) == []
    assert (await stored_job(runtime, job_id)).status == "SUCCEEDED"
    return _published(runtime, job_id, await _artifacts(runtime, job_id))


@pytest.mark.parametrize(
    "options",
    [
        {"format": "CSV", "compression": "GZIP"},
        {
            "format": "PARQUET",
            "compression": "NONE",
            "split": {"by": "HOUR", "maxRowsPerFile": 700},
        },
        {
            "datastream_id": None,
            "datastream_ids": [str(TRADES.id), str(BYBIT_TRADES.id)],
            "schema": "normalized",
            "split": {"perDatastream": True},
        },
    ],
    ids=["hour-csv-gzip", "hour-rows-parquet", "per-datastream"],
)
async def test_parts_publish_the_files_and_manifest_of_a_sequential_export(
    runtime: Runtime,
    effects: RecordingEffects,
    seed: Seed,
    monkeypatch: pytest.MonkeyPatch,
    options: dict[str, Any],
) -> None:
    records = await _more_hours(runtime, seed)
    expected = await _sequential(runtime, seed, monkeypatch, **options)
    job_id = await _create(runtime, seed, **options)
    await _drain(runtime, effects, job_id)
    job = await stored_job(runtime, job_id)
    assert job.status == "SUCCEEDED", job.reason
    part_rows = await _parts(runtime, job_id)
    assert len(part_rows) == (2 if "datastream_ids" in options else 3)
    assert {(p.status, p.attempts) for p in part_rows} == {("SUCCEEDED", 1)}
    artifacts = await _artifacts(runtime, job_id)
    assert _published(runtime, job_id, artifacts) == expected
    assert job.rows_written == sum(a.row_count for a in artifacts)
    if "datastream_ids" not in options:
        storage = runtime.settings.storage_dir
        rows = [r for a in artifacts[:-1] for r in raw_rows(storage / a.path)]
        if options["format"] == "CSV":
            assert rows == records


async def test_the_first_worker_creates_the_parts_and_wakes_one_worker_per_other_part(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    await _more_hours(runtime, seed)
    job_id = await _create(runtime, seed)
    effects.woken.clear()
    await run_job(runtime, job_id)
    assert effects.woken == [job_id, job_id]  # two more parts, two more wake-ups
    part_rows = await _parts(runtime, job_id)
    assert [(p.start_ns, p.end_ns) for p in part_rows] == [
        (START + h * HOUR, START + (h + 1) * HOUR) for h in range(3)
    ]
    assert [p.status for p in part_rows] == ["SUCCEEDED", "QUEUED", "QUEUED"]
    # A part held by a live worker is not claimed again; a duplicate wake-up takes the next.
    stale_before = 0
    with runtime.sync_sessions() as session:
        first = parts.claim(session, job_id, stale_before)
        second = parts.claim(session, job_id, stale_before)
        third = parts.claim(session, job_id, stale_before)
    assert first is not None and second is not None and third is None
    assert (first.seq, second.seq) == (1, 2)


async def test_a_crashed_part_is_claimed_again_and_the_finished_ones_are_not_redone(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    await _more_hours(runtime, seed)
    job_id = await _create(runtime, seed)
    await run_job(runtime, job_id)  # part 0 done
    with runtime.sync_sessions() as session:
        crashed = parts.claim(session, job_id, 0)  # a worker takes part 1, then dies
    assert crashed is not None and crashed.seq == 1
    finished = {p.seq: p.files for p in await _parts(runtime, job_id) if p.files}
    async with runtime.sessions() as session:  # time passes: the heartbeats are stale
        await session.execute(update(ExportPartRow).values(heartbeat_at=1))
        await session.execute(update(ExportJobRow).values(heartbeat_at=1))
        await session.commit()
    effects.woken.clear()
    assert job_id in await sweeper.wake_stale(runtime)
    await _drain(runtime, effects, job_id)
    job = await stored_job(runtime, job_id)
    assert job.status == "SUCCEEDED", job.reason
    part_rows = await _parts(runtime, job_id)
    assert [p.attempts for p in part_rows] == [1, 2, 1]
    assert part_rows[0].files == finished[0]  # kept, not written again
    listed = {a.path for a in await _artifacts(runtime, job_id)}
    on_disk = {
        str(p.relative_to(runtime.settings.storage_dir))
        for p in job_files(runtime.settings, job_id)
    }
    assert on_disk == listed  # the dead attempt's directory is gone


async def test_a_worker_whose_part_was_taken_over_cannot_fail_the_job(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    await _more_hours(runtime, seed)
    job_id = await _create(runtime, seed)
    await run_job(runtime, job_id)  # part 0 done
    with runtime.sync_sessions() as session:
        stale = parts.claim(session, job_id, 0)  # a worker takes part 1, then stalls
    assert stale is not None
    with runtime.sync_sessions() as session:  # another worker takes the silent part over
        assert parts.claim(session, job_id, 2**62) is not None
    with runtime.sync_sessions() as session:  # the stalled worker wakes up failing
        assert parts.take_failure(session, stale, "disk error") is False
    assert (await stored_job(runtime, job_id)).status == "RUNNING"


async def test_the_last_part_publishes_the_job_once_however_many_try_at_once(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    await _more_hours(runtime, seed)
    job_id = await _create(runtime, seed)
    await run_job(runtime, job_id)
    with runtime.sync_sessions() as session:
        claimed = [parts.claim(session, job_id, 0) for _ in range(2)]
    for part in claimed:  # both last parts finish: their workers race to publish
        assert part is not None
        files, read = execution._run_one_part(runtime, part, part.id)
        with runtime.sync_sessions() as session:
            records = [execution._file_record(runtime.settings, f) for f in files]
            assert parts.succeed(session, part, records, read)
    barrier = threading.Barrier(4)

    def publish() -> None:
        barrier.wait()
        execution._publish_parts(runtime, job_id)

    await asyncio.gather(*(asyncio.to_thread(publish) for _ in range(4)))
    assert effects.statuses(job_id).count("SUCCEEDED") == 1
    artifacts = await _artifacts(runtime, job_id)
    assert [a.filename.endswith("manifest.json") for a in artifacts] == [False] * 3 + [True]
    manifest = json.loads((runtime.settings.storage_dir / artifacts[-1].path).read_text())
    assert [f["filename"] for f in manifest["files"]] == [a.filename for a in artifacts[:-1]]


async def test_progress_is_the_sum_of_the_parts(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    await _more_hours(runtime, seed)
    job_id = await _create(runtime, seed)
    await run_job(runtime, job_id)
    done = (await _parts(runtime, job_id))[0]
    with runtime.sync_sessions() as session:
        part = parts.claim(session, job_id, 0)
        assert part is not None
        parts.record_progress(session, part, Progress(123, 4567, 0))
    job = await stored_job(runtime, job_id)
    assert (job.rows_written, job.bytes_written) == (
        done.rows_written + 123,
        done.bytes_written + 4567,
    )
    assert job.status == "RUNNING"


async def test_cancel_stops_every_part_and_removes_the_files(
    runtime: Runtime, effects: RecordingEffects, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _more_hours(runtime, seed)
    job_id = await _create(runtime, seed)
    await run_job(runtime, job_id)  # part 0 finished: its files are on disk
    assert job_files(runtime.settings, job_id)
    real = execution._run_one_part

    def canceled_meanwhile(runtime: Runtime, part: Any, out_dir: Any) -> Any:
        with runtime.sync_sessions() as session:  # what cancelExport does, while part 1 runs
            session.execute(
                update(ExportJobRow).where(ExportJobRow.id == job_id).values(status="CANCELED")
            )
            session.commit()
        return real(runtime, part, out_dir)

    with monkeypatch.context() as patched:
        patched.setattr(execution, "_run_one_part", canceled_meanwhile)
        await run_job(runtime, job_id)
    await run_job(runtime, job_id)  # the last part's wake-up finds nothing to do
    assert [p.status for p in await _parts(runtime, job_id)] == ["SUCCEEDED", "RUNNING", "QUEUED"]
    with runtime.sync_sessions() as session:
        assert parts.claim(session, job_id, 2**62) is None
    assert (await stored_job(runtime, job_id)).status == "CANCELED"
    assert await _artifacts(runtime, job_id) == []
    assert job_files(runtime.settings, job_id) == []


async def test_a_canceled_job_stops_a_running_part_at_its_next_heartbeat(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    await _more_hours(runtime, seed)
    job_id = await _create(runtime, seed)
    await run_job(runtime, job_id)
    with runtime.sync_sessions() as session:
        running = parts.claim(session, job_id, 0)
    assert running is not None
    await commands.cancel_export(runtime, seed.principals["alpha"], job_id)
    with runtime.sync_sessions() as session, pytest.raises(runs.ClaimLost):
        parts.record_progress(session, running, Progress(1, 1, 0))


def _failing_hour(monkeypatch: pytest.MonkeyPatch, hour: int) -> None:
    """The part of `hour` fails with a problem of the data (permanent)."""
    real = run_export

    def run(task: Any, on_progress: Any) -> Any:
        if task.start_ns == START + hour * HOUR:
            raise OutputError("this hour cannot be written")
        return real(task, on_progress)

    monkeypatch.setattr(execution, "run_export", run)


async def test_a_failed_part_fails_the_job_and_its_files_go(
    runtime: Runtime, effects: RecordingEffects, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _more_hours(runtime, seed)
    _failing_hour(monkeypatch, 1)
    job_id = await _create(runtime, seed)
    await _drain(runtime, effects, job_id)
    job = await stored_job(runtime, job_id)
    assert (job.status, job.reason) == ("FAILED", "this hour cannot be written")
    assert effects.statuses(job_id).count("FAILED") == 1
    assert await _artifacts(runtime, job_id) == []
    assert job_files(runtime.settings, job_id) == []
    assert [p.status for p in await _parts(runtime, job_id)] == ["SUCCEEDED", "FAILED", "QUEUED"]


async def test_keep_partial_keeps_the_finished_parts_as_partial_files(
    runtime: Runtime, effects: RecordingEffects, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _more_hours(runtime, seed)
    _failing_hour(monkeypatch, 1)
    job_id = await _create(runtime, seed, keep_partial=True)
    await _drain(runtime, effects, job_id)
    job = await stored_job(runtime, job_id)
    assert job.status == "FAILED"
    artifacts = await _artifacts(runtime, job_id)
    names = [a.filename for a in artifacts]
    assert names == [
        f"{TRADES.id}_20240301T000000Z_20240301T010000Z.partial.csv.gz",
        f"{TRADES.id}_{job_id}.partial.manifest.json",
    ]
    assert all(a.partial for a in artifacts)
    storage = runtime.settings.storage_dir
    manifest = json.loads((storage / artifacts[-1].path).read_text())
    assert manifest["partial"] is True and manifest["files"][0]["filename"] == names[0]
    assert raw_rows(storage / artifacts[0].path) == sorted(seed.records[TRADES.id])
    assert job.rows_written == artifacts[0].row_count


async def test_the_sweeper_wakes_a_job_whose_part_went_silent(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    await _more_hours(runtime, seed)
    job_id = await _create(runtime, seed)
    await run_job(runtime, job_id)
    with runtime.sync_sessions() as session:
        part = parts.claim(session, job_id, 0)
    assert part is not None
    effects.woken.clear()
    assert await sweeper.wake_stale(runtime) == []  # alive: nothing to wake
    async with runtime.sessions() as session:
        await session.execute(
            update(ExportPartRow).where(ExportPartRow.id == part.id).values(heartbeat_at=1)
        )
        await session.commit()
    assert await sweeper.wake_stale(runtime) == [job_id]
    assert effects.woken == [job_id]


async def test_only_splits_with_boundaries_known_in_advance_run_in_parts(
    runtime: Runtime, seed: Seed
) -> None:
    await _more_hours(runtime, seed)

    def job(end_hours: int = 3, **options: Any) -> ExportJobRow:
        stored = {"formatOptions": {}, **options}
        return ExportJobRow(
            format="CSV",
            options=stored,
            datastream_id=TRADES.id,
            start_ns=START - 1000 * HOUR,
            end_ns=START + end_hours * HOUR,
        )

    with runtime.sync_sessions() as session:
        assert parts.plan(session, job()) is None
        assert parts.plan(session, job(split={"by": None, "maxRowsPerFile": 10})) is None
        assert parts.plan(session, job(split={"by": "HOUR", "maxBytesPerFile": 10_000})) is None
        assert parts.plan(session, job(split={"by": "HOUR"}, limit=10)) is None
        assert parts.plan(session, job(split={"by": "DAY"})) is None  # the data's one day
        assert parts.plan(session, job(1, split={"by": "HOUR"})) is None  # one hour of data
        # Empty hours before the data are not parts of their own; the ends are the job's.
        planned = parts.plan(session, job(10_000, split={"by": "HOUR", "maxRowsPerFile": 10}))
    assert planned is not None
    assert [(p.start_ns, p.end_ns) for p in planned] == [
        (START - 1000 * HOUR, START + HOUR),
        (START + HOUR, START + 2 * HOUR),
        (START + 2 * HOUR, START + 10_000 * HOUR),
    ]


async def test_an_embedded_restart_resumes_the_parts_left_running_at_once(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    await _more_hours(runtime, seed)
    job_id = await _create(runtime, seed)
    await run_job(runtime, job_id)
    with runtime.sync_sessions() as session:
        orphan = parts.claim(session, job_id, 0)  # the process running it is gone
    assert orphan is not None
    effects.woken.clear()
    assert await sweeper.resume_unfinished(runtime) == [job_id]
    effects.woken.remove(job_id)
    await _drain(runtime, effects, job_id)
    job = await stored_job(runtime, job_id)
    assert job.status == "SUCCEEDED", job.reason
    assert [p.attempts for p in await _parts(runtime, job_id)] == [1, 2, 1]
