"""Run one export job on a worker: claim the row, run the engine, record the outcome, announce
every change. Whatever delivers the wake-up (a Dramatiq actor, a test) calls `run_export_job`.

Outcomes: the job SUCCEEDED with its files published in the same transaction; FAILED with a
reason (a schema or data problem, the time limit: permanent, its files removed); handed back
to QUEUED (graceful shutdown, or `TransientError` for the caller to retry later); or nothing
at all (finished, canceled, or owned by a live worker: a duplicate delivery).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app import tracing
from app.config import Settings
from app.db.models import ExportJobRow
from app.domain.catalog import segment_files, segments_in_range_many
from app.domain.exports import parts, runs
from app.domain.runtime import JobEvent, Runtime
from app.storage import Storage, artifact_key, job_artifacts_key, remove_job_files, storage_for
from engine.export import (
    ArtifactFile,
    ExportTask,
    PartialExport,
    Progress,
    partial_filename,
    run_export,
    write_manifest,
)
from engine.export_schema import DecodeError, SchemaError
from engine.options import ExportOptions
from engine.streams import ExportSource
from engine.timestamps import now_ns
from engine.writers import OutputError

log = logging.getLogger(__name__)
# Problems of the request or the data: another attempt would fail the same way.
PERMANENT_FAILURES = (
    SchemaError,
    DecodeError,
    OutputError,
    FileNotFoundError,
    runs.TimeLimitExceeded,
)


# No space left, or over a quota: not worth retrying by itself.
STORAGE_FULL = (errno.ENOSPC, errno.EDQUOT)


def _storage_full(exc: BaseException) -> str | None:
    """The reason to fail a job whose storage is full: another attempt would fill the disk
    again (what it wrote is freed). None for any other error."""
    if isinstance(exc, OSError) and exc.errno in STORAGE_FULL:
        return f"the storage is full ({exc.strerror}): free space, then export again"
    return None


class TransientError(Exception):
    """Worth another try later (storage or database hiccup); the job was handed back."""


def run_export_job(
    runtime: Runtime, job_id: str, shutdown: type[BaseException] | tuple[()] = ()
) -> None:
    """`shutdown` is the exception a graceful stop raises in this thread (Dramatiq's
    `Shutdown`): the job is handed back and another worker woken at once."""
    settings = runtime.settings
    stale_before = now_ns() - int(settings.heartbeat_stale_seconds * 1e9)
    with runtime.sync_sessions() as session:
        row = session.get(ExportJobRow, job_id)
        in_parts = row is not None and (
            parts.has_parts(session, job_id) or parts.plan(session, row) is not None
        )
    if in_parts:
        _run_part(runtime, job_id, stale_before, shutdown)
        return
    with runtime.sync_sessions() as session:
        job = runs.claim(session, job_id, stale_before)
    if job is None:
        return  # finished, canceled, or being run by a live worker: nothing to do
    _announce(runtime, job, "RUNNING")
    out_key = artifact_key(job.id, job.claim_token)
    partial: list[ArtifactFile] = []  # what a failed run kept, when the job asked for it
    try:
        try:
            files, records_read = _run(runtime, job, out_key)
        except PartialExport as kept:
            partial = kept.files
            raise kept.cause from None
    except runs.ClaimLost:
        # Canceled, deleted or taken over: whoever did it has announced the new state.
        storage_for(settings).delete_tree(out_key)
        return
    except shutdown:
        storage_for(settings).delete_tree(out_key)
        with runtime.sync_sessions() as session:
            runs.release(session, job)
        runtime.effects.wake_export(job.id)
        _announce(runtime, job, "QUEUED")
        return
    except PERMANENT_FAILURES as exc:
        _finish_failed(runtime, job, out_key, str(exc), partial)
        return
    except (OSError, OperationalError) as exc:
        if (reason := _storage_full(exc)) is not None:
            _finish_failed(runtime, job, out_key, reason, [])
            return
        storage_for(settings).delete_tree(out_key)
        with runtime.sync_sessions() as session:
            runs.release(session, job)
        raise TransientError(f"{job.id}: {exc}") from exc
    except Exception as exc:
        log.exception("export %s failed", job.id)
        reason = f"internal error ({type(exc).__name__}): {exc}"
        _finish_failed(runtime, job, out_key, reason, partial)
        return
    _publish(runtime, job, out_key, files, records_read)


def _publish(
    runtime: Runtime,
    job: runs.ClaimedJob,
    out_key: str,
    files: list[ArtifactFile],
    records_read: int,
) -> None:
    settings = runtime.settings
    artifacts = _catalogued(settings, files)
    with runtime.sync_sessions() as session:
        won = runs.succeed(session, job, artifacts, settings.retention_seconds, records_read)
    if not won:  # canceled at the last moment (and announced): the files are never listed
        storage_for(settings).delete_tree(out_key)
        return
    _remove_other_attempts(settings, out_key)
    _announce(runtime, job, "SUCCEEDED")


def _catalogued(settings: Settings, files: list[ArtifactFile]) -> list[runs.PublishedArtifact]:
    storage = storage_for(settings)
    return [
        runs.PublishedArtifact(
            filename=f.filename,
            path=storage.key(f.path),
            content_type=f.content_type,
            byte_size=f.byte_size,
            row_count=f.row_count,
            sha256=f.sha256,
            partial=f.partial,
        )
        for f in files
    ]


def _task(
    runtime: Runtime,
    job: runs.ClaimedJob,
    out_key: str,
    part: parts.ClaimedPart | None = None,
    scan: bool = True,
) -> ExportTask:
    """The engine's task for `job`, or for one `part` of it (its range, its stream, no
    manifest); without `scan`, no segments are looked up (for writing a manifest)."""
    settings = runtime.settings
    start, end = (part.start_ns, part.end_ns) if part else (job.start_ns, job.end_ns)

    # Only the streams this task reads, in one query: a part of a per-datastream split reads
    # one stream; a job of several streams reads them as its sources (never the first twice).
    wanted: list[int] = []
    if scan and not job.sources:
        wanted = [job.datastream_id]
    elif scan:
        one = part.stream_index if part else None
        wanted = [i for n, (i, _) in enumerate(job.sources) if one is None or n == one]
    with runtime.sync_sessions() as session:
        found = segments_in_range_many(session, wanted, start, end)

    def files(stream_id: int) -> list[Any]:
        return segment_files(settings, found.get(stream_id, []))

    segments = [] if job.sources else files(job.datastream_id)
    sources = [ExportSource(context, files(stream_id)) for stream_id, context in job.sources]
    owner = "streams" if sources else str(job.datastream_id)
    storage = storage_for(settings)
    return ExportTask(
        schema_spec=job.schema_spec,
        context=job.context,
        segments=segments,
        start_ns=start,
        end_ns=end,
        format=job.format,
        compression=job.compression,
        output_dir=storage.path(out_key),
        filesystem=storage.filesystem,
        filename_stem=f"{owner}_{job.id}",
        options=ExportOptions.from_json(job.format, job.options),
        keep_partial=job.keep_partial,
        sources=sources,
        stream=part.stream_index if part else None,
        manifest=part is None,
    )


def _run(runtime: Runtime, job: runs.ClaimedJob, out_key: str) -> tuple[list[ArtifactFile], int]:
    """The job's files and the input records it read."""
    task = _task(runtime, job, out_key)
    report = _ProgressReport(
        runtime, job, lambda session, progress: runs.record_progress(session, job, progress)
    )
    attributes = {"job.id": job.id, "export.format": job.format, "workspace.id": job.workspace_id}
    with tracing.span("export run", attributes):
        limit = runtime.settings.job_timeout_seconds
        files = run_export(task, _with_time_limit(report, limit))
    return files, report.records_read


class _ProgressReport:
    """What the engine calls after every batch: keeps the input records read so far (the
    finished run records the last count) and, at most once per progress interval, records
    the progress with `record` (one UPDATE, also the heartbeat) and announces it."""

    def __init__(
        self,
        runtime: Runtime,
        job: runs.ClaimedJob,
        record: Callable[[Session, Progress], None],
    ) -> None:
        self.records_read = 0
        self._runtime, self._job, self._record = runtime, job, record
        self._due = _ticks(runtime.settings.progress_interval_seconds, progress_clock)

    def __call__(self, progress: Progress) -> None:
        self.records_read = progress.records_read
        if self._due():
            with self._runtime.sync_sessions() as session:
                self._record(session, progress)
            _announce(self._runtime, self._job, "RUNNING")


# What progress ticks are timed by: a seam for tests, which step it by hand.
progress_clock: Callable[[], float] = time.monotonic


def _ticks(interval: float, clock: Callable[[], float]) -> Callable[[], bool]:
    """True at most once per `interval` seconds (the first call included): the engine reports
    after every batch, the job row and the subscribers hear of it at this rate, one UPDATE
    and one event per tick."""
    last: float | None = None

    def due() -> bool:
        nonlocal last
        now = clock()
        if last is not None and now - last < interval:
            return False
        last = now
        return True

    return due


def _with_time_limit(
    on_progress: Callable[[Progress], None], limit: float
) -> Callable[[Progress], None]:
    """Stop the export (TimeLimitExceeded: the job fails, its files are removed) once it has
    run for `limit` seconds; checked at every batch, like cancellation."""
    check = runs.time_limit_check(limit)

    def checked(progress: Progress) -> None:
        check()
        on_progress(progress)

    return checked


def _remove_other_attempts(settings: Settings, winner: str) -> None:
    """Leftovers of attempts that died (a killed worker's partial file) are never listed;
    the attempt that published removes them."""
    storage = storage_for(settings)
    with contextlib.suppress(FileNotFoundError):  # deleteExport may have removed them all
        for attempt in storage.folders(winner.rsplit("/", 1)[0]):
            if attempt != winner:
                storage.delete_tree(attempt)


def _finish_failed(
    runtime: Runtime,
    job: runs.ClaimedJob,
    out_key: str,
    reason: str,
    partial: list[ArtifactFile],
) -> None:
    """FAILED; the files are removed unless the job asked to keep what it wrote (then they
    are listed as partial artifacts, kept for the retention period like a success's)."""
    settings = runtime.settings
    if not partial:
        storage_for(settings).delete_tree(out_key)
    kept = _catalogued(settings, partial)
    with runtime.sync_sessions() as session:
        recorded = runs.fail(session, job, reason, kept, settings.retention_seconds)
    if not recorded:
        storage_for(settings).delete_tree(out_key)
        return
    if partial:
        _remove_other_attempts(settings, out_key)
    _announce(runtime, job, "FAILED")


def _announce(runtime: Runtime, job: runs.ClaimedJob, status: str) -> None:
    runtime.effects.publish(JobEvent(job.id, job.workspace_id, status))


# ---- exports in parts (`parts`): each wake-up runs one part -------------------------------


def _run_part(
    runtime: Runtime, job_id: str, stale_before: int, shutdown: type[BaseException] | tuple[()]
) -> None:
    """A wake-up of a job run in parts: claim the job and create its parts the first time
    (waking a worker for each other part), then claim one part and run it. The worker that
    finishes the last part publishes the job; a wake-up with no part left to run publishes a
    job whose last part finished but whose worker died before publishing it."""
    with runtime.sync_sessions() as session:
        left = parts.begin(session, job_id, stale_before)
    for _ in range((left or 1) - 1):
        runtime.effects.wake_export(job_id)
    with runtime.sync_sessions() as session:
        part = parts.claim(session, job_id, stale_before)
    if part is None:
        with runtime.sync_sessions() as session:
            canceled = parts.job_status(session, job_id) == "CANCELED"
        if canceled:  # canceled while no part ran: the finished parts' files go
            remove_job_files(runtime.settings, job_id)
            return
        _publish_parts(runtime, job_id)
        return
    job = part.job
    _announce(runtime, job, "RUNNING")
    settings = runtime.settings
    out_key = artifact_key(job.id, job.claim_token)
    partial: list[ArtifactFile] = []
    try:
        try:
            files, records_read = _run_one_part(runtime, part, out_key)
        except PartialExport as kept:
            partial = kept.files
            raise kept.cause from None
    except runs.ClaimLost:
        storage_for(settings).delete_tree(out_key)
        with runtime.sync_sessions() as session:
            canceled = parts.job_status(session, job.id) == "CANCELED"
        if canceled:  # the files of the parts that finished go too
            remove_job_files(runtime.settings, job.id)
        return
    except shutdown:
        storage_for(settings).delete_tree(out_key)
        with runtime.sync_sessions() as session:
            parts.release(session, part)
        runtime.effects.wake_export(job.id)
        return
    except PERMANENT_FAILURES as exc:
        _fail_parts(runtime, part, out_key, str(exc), partial)
        return
    except (OSError, OperationalError) as exc:
        if (reason := _storage_full(exc)) is not None:
            _fail_parts(runtime, part, out_key, reason, [])
            return
        storage_for(settings).delete_tree(out_key)
        with runtime.sync_sessions() as session:
            parts.release(session, part)
        raise TransientError(f"{part.id}: {exc}") from exc
    except Exception as exc:
        log.exception("export %s failed", part.id)
        reason = f"internal error ({type(exc).__name__}): {exc}"
        _fail_parts(runtime, part, out_key, reason, partial)
        return
    with runtime.sync_sessions() as session:
        records = [_file_record(runtime.settings, f) for f in files]
        done = parts.succeed(session, part, records, records_read)
    if not done:
        storage_for(settings).delete_tree(out_key)
        return
    _announce(runtime, job, "RUNNING")
    _publish_parts(runtime, job_id)


def _run_one_part(
    runtime: Runtime, part: parts.ClaimedPart, out_key: str
) -> tuple[list[ArtifactFile], int]:
    """The part's files and the input records it read."""
    settings = runtime.settings
    task = _task(runtime, part.job, out_key, part)
    deadline = part.job_started_at + int(settings.job_timeout_seconds * 1e9)
    report = _ProgressReport(
        runtime, part.job, lambda session, progress: parts.record_progress(session, part, progress)
    )

    def on_progress(progress: Progress) -> None:
        if now_ns() > deadline:  # the time limit is the job's, whichever part runs
            raise runs.TimeLimitExceeded(runs.time_limit_reason(settings.job_timeout_seconds))
        report(progress)

    attributes = {
        "job.id": part.job.id,
        "export.format": part.job.format,
        "workspace.id": part.job.workspace_id,
        "export.part.id": part.id,
        "export.part.seq": part.seq,
    }
    with tracing.span("export part", attributes):
        files = run_export(task, on_progress)
    return files, report.records_read


def _file_record(settings: Settings, f: ArtifactFile) -> dict[str, Any]:
    """A part's published file as its row keeps it (what the manifest and artifacts need)."""
    return {
        "filename": f.filename,
        "path": storage_for(settings).key(f.path),
        "content_type": f.content_type,
        "byte_size": f.byte_size,
        "row_count": f.row_count,
        "sha256": f.sha256,
        "from_ns": f.from_ns,
        "to_ns": f.to_ns,
        "datastream_id": f.datastream_id,
    }


def _artifact_file(
    settings: Settings, record: dict[str, Any], partial: bool = False
) -> ArtifactFile:
    return ArtifactFile(
        path=storage_for(settings).path(record["path"]),
        filename=record["filename"],
        content_type=record["content_type"],
        byte_size=record["byte_size"],
        row_count=record["row_count"],
        sha256=record["sha256"],
        from_ns=record["from_ns"],
        to_ns=record["to_ns"],
        partial=partial,
        datastream_id=record["datastream_id"],
    )


def _job_for_manifest(runtime: Runtime, job_id: str) -> runs.ClaimedJob | None:
    with runtime.sync_sessions() as session:
        row = session.get(ExportJobRow, job_id)
        return None if row is None else runs.claimed_job(session, row, "")


def _publish_parts(runtime: Runtime, job_id: str) -> None:
    """If every part is done and the job still runs: the manifest, the artifacts and
    SUCCEEDED in one transaction, whose conditional update only one worker wins."""
    settings = runtime.settings
    with runtime.sync_sessions() as session:
        records = parts.finished_files(session, job_id)  # finished parts never change
    if records is None:
        return
    job = _job_for_manifest(runtime, job_id)
    if job is None:
        return
    out_key = artifact_key(job_id, f"manifest-{secrets.token_hex(8)}")
    task = _task(runtime, job, out_key, scan=False)
    with runtime.sync_sessions() as session:
        if not parts.take_success(session, job_id, settings.retention_seconds):
            return
        try:
            files = [_artifact_file(settings, r) for r in records]
            manifest = write_manifest(task, files)
        except BaseException:
            session.rollback()
            storage_for(settings).delete_tree(out_key)
            raise
        parts.add_artifacts(session, job_id, _catalogued(settings, [*files, manifest]))
        used = parts.used_directories(session, job_id)
    _remove_unused_attempts(settings, job_id, {*used, out_key})
    _announce(runtime, job, "SUCCEEDED")


def _remove_unused_attempts(settings: Settings, job_id: str, used: set[str]) -> None:
    """Directories of part attempts that died (or lost their part) are never listed."""
    storage = storage_for(settings)
    with contextlib.suppress(FileNotFoundError):
        for attempt in storage.folders(job_artifacts_key(job_id)):
            if attempt not in used:
                storage.delete_tree(attempt)


def _fail_parts(
    runtime: Runtime,
    part: parts.ClaimedPart,
    out_key: str,
    reason: str,
    partial: list[ArtifactFile],
) -> None:
    """The part failed and the job with it (once). Without keepPartial every part's files
    go; with it, the finished parts' files are kept as partial (renamed like a sequential
    export's), with the failed part's own partial files, under a partial manifest."""
    settings, job = runtime.settings, part.job
    with runtime.sync_sessions() as session:
        if not parts.take_failure(session, part, reason):
            session.close()
            storage_for(settings).delete_tree(out_key)
            return
        kept: list[ArtifactFile] = []
        if job.keep_partial:
            task = _task(runtime, job, out_key, scan=False)
            by_part = parts.kept_files(session, job.id)
            for seq, records in sorted([*by_part, (part.seq, [])], key=lambda item: item[0]):
                if seq == part.seq:
                    kept += partial
                    continue
                for record in records:
                    kept.append(_renamed_partial(settings, task, record))
            if kept:
                kept.append(write_manifest(task, kept, partial=True))
        parts.add_artifacts(
            session, job.id, _catalogued(settings, kept), settings.retention_seconds
        )
    if not kept:
        remove_job_files(settings, job.id)
    _announce(runtime, job, "FAILED")


def _renamed_partial(settings: Settings, task: ExportTask, record: dict[str, Any]) -> ArtifactFile:
    """A finished part's file, kept from a failed job: named as partial, like the files a
    sequential export keeps."""
    storage: Storage = storage_for(settings)
    file = _artifact_file(settings, record, partial=True)
    name = partial_filename(task, file.filename)
    target = file.path.with_name(name)
    storage.move(storage.key(file.path), storage.key(target))
    return dataclasses.replace(file, path=target, filename=name)
