"""Import jobs in process: an uploaded file's records are stored whole or not at all; ABORT
fails on the first bad record naming its line, SKIP leaves bad records out and reports them;
the same bytes are not stored twice; cancel wins over a running import; uploads are checked
(size, name, one use, expiry) and cleaned up; every change is announced after it commits."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import gzip
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from app.db.models import ImportJobRow, ImportUploadRow, SegmentRow
from app.domain.errors import DomainError, ErrorCode
from app.domain.imports import commands, retention, uploads
from app.domain.imports import runs as import_runs
from app.domain.imports.commands import ImportRequest
from app.domain.imports.execution import run_import_job
from app.domain.ingest import ingest_tables
from app.domain.runtime import Runtime
from engine.segment_meta import read_footer
from engine.timestamps import now_ns
from tests.domain.helpers import OnFirstRunning, runtime_for, settings_with
from tests.helpers.inprocess import TRADES, RecordingEffects, Seed

BASE_TS = 1_900_000_000 * 10**9  # after the seed's records


def trade_line(i: int) -> str:
    message = {"e": "trade", "s": "BTCUSDT", "t": i, "p": "42000.5", "q": "0.1", "T": i, "m": True}
    return json.dumps({"collection_timestamp_ns": BASE_TS + i, "data": message})


def jsonl(lines: list[str], gzipped: bool = False) -> bytes:
    body = ("\n".join(lines) + "\n").encode()
    return gzip.compress(body) if gzipped else body


async def upload(runtime: Runtime, seed: Seed, name: str, content: bytes) -> ImportUploadRow:
    return await uploads.store_file(
        runtime, seed.principals["alpha"], name, io.BytesIO(content), "input.file"
    )


async def imported(
    runtime: Runtime, seed: Seed, name: str, content: bytes, **request: object
) -> ImportJobRow:
    """Upload, start and run the import as a worker would; the job row at the end."""
    up = await upload(runtime, seed, name, content)
    job, created = await commands.start_import(
        runtime,
        seed.principals["alpha"],
        ImportRequest(upload_id=up.id, datastream_id=str(TRADES.id), **request),  # type: ignore[arg-type]
    )
    assert created
    await asyncio.to_thread(run_import_job, runtime, job.id)
    return await job_row(runtime, job.id)


async def job_row(runtime: Runtime, job_id: str) -> ImportJobRow:
    async with runtime.sessions() as session:
        job = await session.get(ImportJobRow, job_id)
    assert job is not None
    return job


async def stored_after_seed(runtime: Runtime) -> list[tuple[int, str]]:
    """Records of the datastream from BASE_TS on: what imports added (each file describing
    itself as the segment its catalog row is)."""
    import pyarrow.parquet as pq

    async with runtime.sessions() as session:
        segments = (
            await session.execute(
                select(SegmentRow.id, SegmentRow.path).where(
                    SegmentRow.datastream_id == TRADES.id, SegmentRow.max_ts >= BASE_TS
                )
            )
        ).all()
    rows: list[tuple[int, str]] = []
    for segment_id, path in segments:
        description = read_footer(runtime.settings.storage_dir / path).description
        assert description is not None and description.label.segment_id == segment_id
        table = pq.read_table(runtime.settings.storage_dir / path)
        rows += zip(table.column(0).to_pylist(), table.column(1).to_pylist(), strict=True)
    return sorted(rows)


async def test_a_file_is_stored_whole_and_its_progress_announced(
    runtime: Runtime, seed: Seed, effects: RecordingEffects
) -> None:
    job = await imported(
        runtime, seed, "trades.jsonl.gz", jsonl([trade_line(i) for i in range(900)], True)
    )
    assert job.status == "SUCCEEDED", job.reason
    assert (job.records_read, job.records_rejected, job.records_stored) == (900, 0, 900)
    assert job.bytes_read == job.byte_size > 0
    assert job.report_path is None and job.note is None
    stored = await stored_after_seed(runtime)
    assert [ts - BASE_TS for ts, _ in stored] == list(range(900))
    assert effects.woken_imports == [job.id]
    statuses = effects.statuses(job.id)
    assert statuses[0] == "QUEUED" and statuses[-1] == "SUCCEEDED" and "RUNNING" in statuses
    # The worker removed the upload: the records are stored.
    assert not (runtime.settings.storage_dir / "uploads").exists() or not any(
        (runtime.settings.storage_dir / "uploads").iterdir()
    )


async def test_abort_fails_on_the_first_bad_record_and_stores_nothing(
    runtime: Runtime, seed: Seed
) -> None:
    lines = [trade_line(i) for i in range(50)]
    lines[30] = '{"collection_timestamp_ns": 5, "data": [1, 2]}'
    job = await imported(runtime, seed, "bad.jsonl", jsonl(lines))
    assert job.status == "FAILED"
    assert job.reason is not None and "bad.jsonl:31: data must be a JSON object" in job.reason
    assert job.records_stored == 0
    assert await stored_after_seed(runtime) == []


async def test_skip_stores_the_good_records_and_reports_the_bad_ones(
    runtime: Runtime, seed: Seed
) -> None:
    lines = [trade_line(i) for i in range(40)]
    lines[3] = "not json"
    lines[17] = '{"collection_timestamp_ns": "x", "data": {}}'
    job = await imported(runtime, seed, "mixed.jsonl", jsonl(lines), on_error="SKIP")
    assert job.status == "SUCCEEDED", job.reason
    assert (job.records_read, job.records_rejected, job.records_stored) == (40, 2, 38)
    assert len(await stored_after_seed(runtime)) == 38
    assert job.report_path is not None and job.expires_at is not None
    report = (runtime.settings.storage_dir / job.report_path).read_bytes()
    assert job.report_byte_size == len(report)
    rows = list(csv.DictReader(io.StringIO(report.decode(), newline="")))
    assert [(r["line"], r["record"]) for r in rows] == [
        ("4", "not json"),
        ("18", '{"collection_timestamp_ns": "x", "data": {}}'),
    ]
    assert rows[0]["reason"].startswith("not JSON")


async def test_the_same_bytes_are_not_stored_twice_unless_forced(
    runtime: Runtime, seed: Seed
) -> None:
    content = jsonl([trade_line(i) for i in range(20)])
    first = await imported(runtime, seed, "a.jsonl", content)
    again = await imported(runtime, seed, "b.jsonl", content)
    assert again.status == "SUCCEEDED" and again.records_stored == 0
    assert again.note is not None and "same bytes as a.jsonl" in again.note
    assert len(await stored_after_seed(runtime)) == 20
    forced = await imported(runtime, seed, "c.jsonl", content, force=True)
    assert (first.records_stored, forced.records_stored) == (20, 20)
    assert len(await stored_after_seed(runtime)) == 40


async def test_a_cancel_while_running_stores_nothing(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    settings = settings_with(seed, tmp_path / "data", progress_interval_seconds=0.001)
    async with runtime_for(settings, effects) as runtime:
        up = await upload(runtime, seed, "big.jsonl", jsonl([trade_line(i) for i in range(30_000)]))
        job, _ = await commands.start_import(
            runtime,
            seed.principals["alpha"],
            ImportRequest(upload_id=up.id, datastream_id=str(TRADES.id)),
        )

        def cancel(job_id: str) -> None:
            asyncio.run(_cancel(runtime, seed, job_id))

        canceling = OnFirstRunning(effects, cancel)
        await asyncio.to_thread(run_import_job, canceling.on(runtime), job.id)
        done = await job_row(runtime, job.id)
        assert done.status == "CANCELED"
        assert await stored_after_seed(runtime) == []
        async with runtime.sessions() as session:
            segments = await session.scalar(select(func.count()).select_from(SegmentRow))
            await retention.purge(session, runtime.settings)
        leftovers = [p for p in (runtime.settings.storage_dir / "segments").rglob("*.parquet")]
        assert len(leftovers) == segments  # no file without its catalog row
        assert not (runtime.settings.storage_dir / up.path).exists()  # the sweeper removed it


async def _cancel(runtime: Runtime, seed: Seed, job_id: str) -> None:
    # A runtime of its own: this runs on the worker's thread, in a loop of its own.
    async with runtime_for(runtime.settings, RecordingEffects()) as other:
        await commands.cancel_import(other, seed.principals["alpha"], job_id)


async def test_uploads_are_checked(runtime: Runtime, seed: Seed) -> None:
    alpha = seed.principals["alpha"]
    with pytest.raises(DomainError) as bad_name:
        await uploads.create_upload(runtime, alpha, "trades.txt", 10)
    assert bad_name.value.errors[0].field == ("input", "filename")
    with pytest.raises(DomainError) as too_big:
        await uploads.create_upload(runtime, alpha, "t.csv", runtime.settings.max_import_bytes + 1)
    assert too_big.value.errors[0].code is ErrorCode.PAYLOAD_TOO_LARGE
    empty = await uploads.create_upload(runtime, alpha, "t.csv", None)
    start = ImportRequest(upload_id=empty.id, datastream_id=str(TRADES.id))
    with pytest.raises(DomainError) as not_sent:
        await commands.start_import(runtime, alpha, start)
    assert not_sent.value.errors[0].code is ErrorCode.FAILED_PRECONDITION
    with pytest.raises(DomainError) as foreign:
        await commands.start_import(runtime, seed.principals["beta"], start)
    assert foreign.value.errors[0].code is ErrorCode.NOT_FOUND
    with pytest.raises(DomainError) as viewer:
        await commands.start_import(runtime, seed.principals["alpha-viewer"], start)
    assert viewer.value.errors[0].code is ErrorCode.FORBIDDEN
    sent = await upload(runtime, seed, "t.jsonl", jsonl([trade_line(1)]))
    unknown = ImportRequest(upload_id=sent.id, datastream_id="999")
    with pytest.raises(DomainError) as no_stream:
        await commands.start_import(runtime, alpha, unknown)
    assert no_stream.value.errors[0].field == ("input", "datastreamId")
    used = dataclasses.replace(unknown, datastream_id=str(TRADES.id))
    await commands.start_import(runtime, alpha, used)
    with pytest.raises(DomainError) as twice:
        await commands.start_import(runtime, alpha, used)
    assert twice.value.errors[0].code is ErrorCode.CONFLICT


async def test_a_file_past_the_limit_is_refused_and_nothing_kept(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    settings = settings_with(seed, tmp_path / "data", max_import_bytes=1024)
    async with runtime_for(settings, effects) as runtime:
        with pytest.raises(DomainError) as refused:
            await upload(runtime, seed, "t.jsonl", jsonl([trade_line(i) for i in range(100)]))
        assert refused.value.errors[0].code is ErrorCode.PAYLOAD_TOO_LARGE
        assert not any((settings.storage_dir / "uploads").rglob("*.jsonl"))


async def test_an_idempotency_key_replays_the_same_import(runtime: Runtime, seed: Seed) -> None:
    alpha = seed.principals["alpha"]
    content = jsonl([trade_line(i) for i in range(5)])
    first_upload = await upload(runtime, seed, "k.jsonl", content)
    request = ImportRequest(first_upload.id, str(TRADES.id), idempotency_key="nightly")
    job, created = await commands.start_import(runtime, alpha, request)
    # A multipart retry uploads the same file again: the same job comes back.
    second_upload = await upload(runtime, seed, "k.jsonl", content)
    replay, again = await commands.start_import(
        runtime, alpha, dataclasses.replace(request, upload_id=second_upload.id)
    )
    assert (created, again, replay.id) == (True, False, job.id)
    other = await upload(runtime, seed, "other.jsonl", content + content)
    with pytest.raises(DomainError) as conflict:
        await commands.start_import(
            runtime, alpha, dataclasses.replace(request, upload_id=other.id)
        )
    assert conflict.value.errors[0].field == ("input", "idempotencyKey")


async def test_expired_unused_uploads_and_reports_are_removed(runtime: Runtime, seed: Seed) -> None:
    lines = [trade_line(i) for i in range(5)] + ["bad"]
    job = await imported(runtime, seed, "r.jsonl", jsonl(lines), on_error="SKIP")
    assert job.report_path is not None
    unused = await upload(runtime, seed, "u.jsonl", jsonl([trade_line(1)]))
    async with runtime.sessions() as session:
        await session.execute(update(ImportUploadRow).values(expires_at=now_ns() - 1))
        await session.execute(update(ImportJobRow).values(expires_at=now_ns() - 1))
        await session.commit()
        await retention.purge(session, runtime.settings)
        assert await session.get(ImportUploadRow, unused.id) is None
        after = await session.get(ImportJobRow, job.id)
        assert after is not None and after.report_path is None
    assert not (runtime.settings.storage_dir / job.report_path).exists()
    assert not (runtime.settings.storage_dir / unused.path).exists()


# -- a worker that lost its import (stopped past the heartbeat timeout, then continued) -----


def _taken_over(runtime: Runtime, job_id: str) -> None:
    """The worker's claim looks dead (its heartbeat is old): the next claim takes the job."""
    with runtime.sync_sessions() as session:
        session.execute(
            update(ImportJobRow).where(ImportJobRow.id == job_id).values(heartbeat_at=1)
        )
        session.commit()


def _on_first_ingest(
    monkeypatch: pytest.MonkeyPatch, action: Callable[[], None], fail: bool = False
) -> None:
    """When the first worker starts storing (its file open, its rejects being reported), do
    `action` on its thread first; with `fail`, that worker then meets an unexpected error."""
    calls = 0

    def ingest(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            action()
            if fail:
                raise RuntimeError("the first worker's disk hiccup")
        return ingest_tables(*args, **kwargs)

    monkeypatch.setattr("app.domain.imports.execution.ingest_tables", ingest)


async def _started(runtime: Runtime, seed: Seed, content: bytes) -> tuple[str, Path]:
    up = await upload(runtime, seed, "desk.jsonl", content)
    job, _ = await commands.start_import(
        runtime,
        seed.principals["alpha"],
        ImportRequest(upload_id=up.id, datastream_id=str(TRADES.id), on_error="SKIP"),
    )
    return job.id, runtime.settings.storage_dir / up.path


async def test_a_worker_that_lost_its_import_keeps_off_the_new_owners_report(
    runtime: Runtime, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [trade_line(i) for i in range(50)]
    lines[7] = "not json"
    job_id, _ = await _started(runtime, seed, jsonl(lines))

    def another_worker_takes_over_and_finishes() -> None:
        _taken_over(runtime, job_id)
        run_import_job(runtime, job_id)

    _on_first_ingest(monkeypatch, another_worker_takes_over_and_finishes)
    await asyncio.to_thread(run_import_job, runtime, job_id)  # the first worker, back
    job = await job_row(runtime, job_id)
    assert (job.status, job.attempts, job.records_stored) == ("SUCCEEDED", 2, 49)
    assert job.report_path is not None
    report = runtime.settings.storage_dir / job.report_path
    assert report.stat().st_size == job.report_byte_size  # the new owner's, still there
    assert [r["line"] for r in csv.DictReader(io.StringIO(report.read_text()))] == ["8"]
    assert [p for p in report.parent.parent.rglob("*") if p.is_file()] == [report]
    assert len(await stored_after_seed(runtime)) == 49  # stored once


async def test_a_worker_that_lost_its_import_and_fails_leaves_the_upload_to_the_new_owner(
    runtime: Runtime, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id, upload_file = await _started(runtime, seed, jsonl([trade_line(i) for i in range(30)]))

    def another_worker_takes_over() -> None:
        _taken_over(runtime, job_id)
        with runtime.sync_sessions() as session:
            assert import_runs.claim(session, job_id, now_ns()) is not None

    _on_first_ingest(monkeypatch, another_worker_takes_over, fail=True)
    await asyncio.to_thread(run_import_job, runtime, job_id)
    job = await job_row(runtime, job_id)
    assert job.status == "RUNNING" and job.reason is None  # not failed by the first worker
    assert upload_file.exists()  # the new owner still has its file
    _taken_over(runtime, job_id)  # the new owner dies too; a third worker finishes
    await asyncio.to_thread(run_import_job, runtime, job_id)
    job = await job_row(runtime, job_id)
    assert (job.status, job.records_stored) == ("SUCCEEDED", 30)
    assert not upload_file.exists()
