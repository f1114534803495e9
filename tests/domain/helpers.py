"""Shared steps of the domain tests (no tests here): requests, runtimes with other settings,
running a job as a worker does, reading rows and files back, and arranging job rows."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import dataclasses
import gzip
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db.models import ExportArtifactRow, ExportJobRow
from app.domain.errors import DomainError, ErrorCode
from app.domain.exports.execution import run_export_job
from app.domain.exports.requests import ExportRequest
from app.domain.runtime import Effects, JobEvent, Runtime
from tests.helpers.inprocess import MINUTE, START, TRADES, RecordingEffects, Seed, copy_seed
from tests.helpers.inprocess import settings_for as _settings_for

BASE = ExportRequest(
    datastream_id=str(TRADES.id),
    start_time="2024-03-01T00:00:00Z",
    end_time="2024-03-01T00:05:00Z",
)


def export_request(**overrides: Any) -> ExportRequest:
    """Five minutes of Binance trades, raw, CSV; any field overridden."""
    return dataclasses.replace(BASE, **overrides)


def window(first_minute: int, last_minute: int) -> dict[str, int]:
    """start_time and end_time as nanoseconds, minutes after START."""
    return {"start_time": START + first_minute * MINUTE, "end_time": START + last_minute * MINUTE}


def records_between(seed: Seed, datastream_id: int, start_ns: int, end_ns: int) -> list[Any]:
    """The ingested records in [start_ns, end_ns), in order: what a raw export must hold."""
    return sorted((ts, text) for ts, text in seed.records[datastream_id] if start_ns <= ts < end_ns)


def settings_with(seed: Seed, folder: Path, **overrides: Any) -> Settings:
    """A fresh copy of the seed in `folder`, with some settings changed."""
    return _settings_for(copy_seed(seed, folder), **overrides)


@contextlib.asynccontextmanager
async def runtime_for(settings: Settings, effects: RecordingEffects) -> AsyncIterator[Runtime]:
    """A runtime over other settings than the `runtime` fixture's, disposed at the end."""
    runtime = Runtime.create(settings, effects.effects)
    try:
        yield runtime
    finally:
        await runtime.dispose()


@dataclass
class OnFirstRunning:
    """Effects that record everything and, when a worker first says a job is RUNNING, do
    something to it from the worker's thread: what happens while a job runs, made
    deterministic (the worker waits for the action before it starts exporting)."""

    recording: RecordingEffects
    action: Callable[[str], None]
    done: bool = False

    def publish(self, event: JobEvent) -> None:
        self.recording.publish(event)
        if event.status == "RUNNING" and not self.done:
            self.done = True
            self.action(event.job_id)

    def on(self, runtime: Runtime) -> Runtime:
        """The same runtime (settings, sessions) with these effects."""
        effects = dataclasses.replace(self.recording.effects, publish=self.publish)
        return dataclasses.replace(runtime, effects=effects)


@dataclass
class Witness:
    """Effects that note, as each fires, what another connection then sees of the job: its
    stored status (None once deleted) and artifact rows. An effect must follow the commit of
    the change it announces, so what it announces is already there to be seen."""

    sync_sessions: sessionmaker[Session]
    seen: list[tuple[str, str | None, int]] = field(default_factory=list)

    def _look(self, job_id: str) -> tuple[str | None, int]:
        with self.sync_sessions() as session:
            job = session.get(ExportJobRow, job_id)
            artifacts = session.scalar(
                select(func.count()).where(ExportArtifactRow.job_id == job_id)
            )
        return (job.status if job else None), int(artifacts or 0)

    def wake_export(self, job_id: str) -> None:
        self.seen.append(("wake", *self._look(job_id)))

    def publish(self, event: JobEvent) -> None:
        self.seen.append((event.status, *self._look(event.job_id)))

    def on(self, runtime: Runtime) -> Runtime:
        """The same runtime (settings, sessions) with these effects."""
        effects = Effects(wake_export=self.wake_export, wake_import=_ignored, publish=self.publish)
        return dataclasses.replace(runtime, effects=effects)


def _ignored(_job_id: str) -> None:
    return None


async def run_job(runtime: Runtime, job_id: str) -> None:
    """What a worker does with one delivery of a job (blocking, so in a thread)."""
    await asyncio.to_thread(run_export_job, runtime, job_id)


async def problems_of(action: Awaitable[Any]) -> list[tuple[ErrorCode, tuple[str, ...], str]]:
    """(code, field, message) of each problem of the DomainError the action must raise."""
    with pytest.raises(DomainError) as raised:
        await action
    return [(p.code, p.field, p.message) for p in raised.value.errors]


async def job_row(runtime: Runtime, job_id: str) -> ExportJobRow | None:
    """The row as stored, whichever workspace owns it."""
    async with runtime.sessions() as session:
        return await session.get(ExportJobRow, job_id)


async def stored_job(runtime: Runtime, job_id: str) -> ExportJobRow:
    job = await job_row(runtime, job_id)
    assert job is not None, f"{job_id} is not stored"
    return job


async def artifact_rows(runtime: Runtime, job_id: str) -> list[ExportArtifactRow]:
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(ExportArtifactRow)
            .where(ExportArtifactRow.job_id == job_id)
            .order_by(ExportArtifactRow.filename)
        )
        return list(rows)


async def set_job(runtime: Runtime, job_id: str, **values: Any) -> None:
    """Change a job's columns directly: time passing, or a worker that died, for instance."""
    async with runtime.sessions() as session:
        await session.execute(update(ExportJobRow).where(ExportJobRow.id == job_id).values(values))
        await session.commit()


def job_files(settings: Settings, job_id: str) -> list[Path]:
    """Every file under the job's artifact directory (all attempts)."""
    root = settings.storage_dir / "artifacts" / job_id
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def raw_rows(path: Path) -> list[tuple[int, Any]]:
    """(collection_timestamp_ns, data) of a raw export's file, read with an independent
    reader for its format: pyarrow for Parquet, csv or json for gzip'd or plain text. `data`
    is the message text, except in JSON Lines, which embed it as a parsed document."""
    name = path.name
    if name.endswith(".parquet"):
        table = pq.read_table(path)
        times = table.column("collection_timestamp_ns").cast(pa.int64()).to_pylist()
        return list(zip(times, table.column("data").to_pylist(), strict=True))
    content = path.read_bytes()
    text = (gzip.decompress(content) if name.endswith(".gz") else content).decode()
    if ".csv" in name:
        return [
            (int(row["collection_timestamp_ns"]), row["data"])
            for row in csv.DictReader(io.StringIO(text, newline=""))
        ]
    rows = [json.loads(line) for line in text.splitlines()]
    return [(row["collection_timestamp_ns"], row["data"]) for row in rows]
