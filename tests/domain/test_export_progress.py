"""What a job's progress says while it runs: input records read against the records in range
(one unit, whatever the schema unfolds or the filter drops), a fraction that never goes back
and is 1 at success, parts summed into the job, and the rate of progress ticks."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import math
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from app.config import Settings
from app.db.models import ExportJobRow
from app.demo.trades import binance_trades
from app.domain.exports import commands, execution, parts, runs
from app.domain.exports.progress import RUNNING_FRACTION_CAP, eta_seconds
from app.domain.exports.requests import OptionsRequest
from app.domain.ingest import ingest_tables
from app.domain.runtime import JobEvent, Runtime
from engine.export import Progress, run_export
from engine.segments import records_table
from tests.domain.helpers import (
    export_request,
    records_between,
    run_job,
    runtime_for,
    settings_with,
    stored_job,
    window,
)
from tests.helpers.inprocess import (
    BOOK,
    BYBIT_TRADES,
    MINUTE,
    START,
    TRADES,
    RecordingEffects,
    Seed,
)

SECOND = 10**9


@dataclasses.dataclass
class ProgressWitness:
    """Effects that note the job's stored progress as each event about it fires."""

    runtime: Runtime
    seen: list[tuple[str, int, int, float, int]] = dataclasses.field(default_factory=list)

    def publish(self, event: JobEvent) -> None:
        with self.runtime.sync_sessions() as session:
            job = session.get(ExportJobRow, event.job_id)
            assert job is not None
            self.seen.append(
                (job.status, job.records_read, job.records_total, job.fraction, job.rows_written)
            )

    def on(self, runtime: Runtime, effects: RecordingEffects) -> Runtime:
        changed = dataclasses.replace(effects.effects, publish=self.publish)
        return dataclasses.replace(runtime, effects=changed)


@pytest.mark.parametrize(
    ("schema", "datastream", "options", "rows_vs_records"),
    [
        # A book update unfolds into one row per level: many more rows than records.
        ("normalized", BOOK.id, None, "more"),
        # A filter keeps a few of the rows: fewer rows than records.
        (
            "normalized",
            TRADES.id,
            OptionsRequest(filter={"column": "price", "op": "gt", "value": "1000000"}),
            "fewer",
        ),
    ],
    ids=["unfolded", "filtered"],
)
async def test_progress_counts_input_records_whatever_becomes_of_them(
    seed: Seed,
    tmp_path: Path,
    effects: RecordingEffects,
    schema: str,
    datastream: int,
    options: OptionsRequest | None,
    rows_vs_records: str,
) -> None:
    settings = settings_with(seed, tmp_path / "data", progress_interval_seconds=1e-9)
    async with runtime_for(settings, effects) as runtime:
        times = window(0, 10)
        request = export_request(schema=schema, datastream_id=str(datastream), **times)
        if options is not None:
            request = dataclasses.replace(request, options=options)
        job, _ = await commands.create_export(runtime, seed.principals["alpha"], request)
        witness = ProgressWitness(runtime)
        await run_job(witness.on(runtime, effects), job.id)
        done = await stored_job(runtime, job.id)

    in_range = len(records_between(seed, datastream, times["start_time"], times["end_time"]))
    assert done.status == "SUCCEEDED" and done.fraction == 1.0
    assert done.records_read == in_range  # every stored record in range, read once
    assert done.records_total == pytest.approx(in_range, rel=0.02)  # the catalog's count
    if rows_vs_records == "more":
        assert done.rows_written > 2 * done.records_read
    else:
        assert done.rows_written < done.records_read / 2
    running = [s for s in witness.seen if s[0] == "RUNNING"]
    assert len(running) >= 2  # the claim, then a tick per batch at this interval
    fractions = [fraction for *_, fraction, _rows in running]
    assert fractions == sorted(fractions)
    assert all(0 <= f <= RUNNING_FRACTION_CAP for f in fractions) and fractions[-1] > 0.5
    for _status, read, total, fraction, _rows in running:  # the fraction is of records
        assert fraction == pytest.approx(min(read / total, RUNNING_FRACTION_CAP))
    assert witness.seen[-1][0] == "SUCCEEDED" and witness.seen[-1][3] == 1.0


async def test_the_fraction_never_goes_back_when_an_attempt_starts_over(
    runtime: Runtime, seed: Seed
) -> None:
    job, _ = await commands.create_export(runtime, seed.principals["alpha"], export_request())
    with runtime.sync_sessions() as session:
        first = runs.claim(session, job.id, 0)
        assert first is not None
        half = (await stored_job(runtime, job.id)).records_total // 2
        runs.record_progress(session, first, Progress(10, 100, half))
    assert (await stored_job(runtime, job.id)).fraction == pytest.approx(0.5, abs=0.01)
    with runtime.sync_sessions() as session:  # the worker died; another takes the job over
        second = runs.claim(session, job.id, 2**62)
        assert second is not None
        runs.record_progress(session, second, Progress(1, 10, 5))
    again = await stored_job(runtime, job.id)
    assert (again.records_read, again.rows_written) == (5, 1)  # this attempt's own counts
    assert again.fraction == pytest.approx(0.5, abs=0.01)  # but the fraction stays


async def test_parts_sum_their_records_read_into_the_job(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    request = export_request(
        compression="GZIP",
        options=OptionsRequest(split={"perDatastream": True}),
        datastream_ids=[str(TRADES.id), str(BYBIT_TRADES.id)],
        datastream_id=None,
    )
    job, _ = await commands.create_export(runtime, seed.principals["alpha"], request)
    await run_job(runtime, job.id)  # creates the parts and runs the first
    with runtime.sync_sessions() as session:
        part = parts.claim(session, job.id, 0)
        assert part is not None
        parts.record_progress(session, part, Progress(7, 70, 11))
        parts.release(session, part)  # handed back: the next wake-up runs it from the start
    first_part_read = len(
        records_between(seed, TRADES.id, *window(0, 5).values())
    )  # the first part: the first stream's records
    running = await stored_job(runtime, job.id)
    assert running.records_read == first_part_read + 11
    assert running.fraction == pytest.approx(running.records_read / running.records_total)
    for _ in range(3):
        await run_job(runtime, job.id)
    done = await stored_job(runtime, job.id)
    in_range = sum(
        len(records_between(seed, stream, *window(0, 5).values()))
        for stream in (TRADES.id, BYBIT_TRADES.id)
    )
    assert done.status == "SUCCEEDED" and done.fraction == 1.0
    assert done.records_read == in_range


async def test_progress_ticks_at_the_configured_interval_one_update_each(
    seed: Seed, tmp_path: Path, effects: RecordingEffects, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine reports after every batch; with a clock stepped a tenth of a second per
    report and the default interval (0.25 s), one report in three becomes a tick: one UPDATE
    of the job's row and one event."""
    assert Settings.model_fields["progress_interval_seconds"].default == 0.25
    settings = settings_with(seed, tmp_path / "data", progress_interval_seconds=0.25)
    steps = itertools.count(1)
    monkeypatch.setattr(execution, "progress_clock", lambda: next(steps) / 10)
    reports = 0

    def counted(task: Any, on_progress: Any) -> Any:
        def report(progress: Progress) -> None:
            nonlocal reports
            reports += 1
            on_progress(progress)

        return run_export(task, report)

    monkeypatch.setattr(execution, "run_export", counted)
    async with runtime_for(settings, effects) as runtime:
        start = START + 60 * MINUTE  # an hour of its own, stored a minute per segment
        for minute in range(12):
            begin = start + minute * MINUTE
            records = list(binance_trades(TRADES, begin, begin + MINUTE, minute))
            await asyncio.to_thread(ingest_tables, runtime, TRADES.id, [records_table(records)])
        request = export_request(start_time=start, end_time=start + 12 * MINUTE)
        job, _ = await commands.create_export(runtime, seed.principals["alpha"], request)
        updates: list[str] = []

        def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if statement.lstrip().upper().startswith("UPDATE EXPORT_JOBS"):
                updates.append(statement)

        engine = runtime.sync_sessions.kw["bind"]
        event.listen(engine, "before_cursor_execute", note)
        try:
            await run_job(runtime, job.id)
        finally:
            event.remove(engine, "before_cursor_execute", note)
    ticks = math.ceil(reports / 3)
    assert reports > 12  # a report per segment, and one at the end
    statuses = [e.status for e in effects.events if e.job_id == job.id]
    assert statuses == ["QUEUED", "RUNNING", *["RUNNING"] * ticks, "SUCCEEDED"]
    assert len(updates) == 1 + ticks + 1  # the claim, one per tick, the success


@pytest.mark.parametrize(
    ("status", "read", "total", "elapsed", "expected"),
    [
        ("QUEUED", 0, 1000, None, None),
        ("RUNNING", 5, 1000, 10.0, None),  # under 1 %: too early to tell
        ("RUNNING", 500, 1000, 0.5, None),  # under a second
        ("RUNNING", 250, 1000, 10.0, 30.0),  # a quarter in 10 s: 30 s to go
        ("RUNNING", 1200, 1000, 10.0, 0.0),  # past the catalog's count
        ("RUNNING", 10, 0, 10.0, None),  # nothing in the catalog to measure against
        ("SUCCEEDED", 1000, 1000, 20.0, 0.0),
        ("FAILED", 10, 1000, 20.0, 0.0),
    ],
)
def test_the_eta_follows_the_rate_since_the_job_started(
    status: str, read: int, total: int, elapsed: float | None, expected: float | None
) -> None:
    started = 1_000 * SECOND
    heartbeat = None if elapsed is None else started + int(elapsed * SECOND)
    got = eta_seconds(status, read, total, started if elapsed is not None else None, heartbeat)
    assert got == (None if expected is None else pytest.approx(expected))
