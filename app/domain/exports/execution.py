"""Run one export job on a worker: claim the row, run the engine, record the outcome, announce
every change. Whatever delivers the wake-up (a Dramatiq actor, a test) calls `run_export_job`.

Outcomes: the job SUCCEEDED with its files published in the same transaction; FAILED with a
reason (a schema or data problem, the time limit: permanent, its files removed); handed back
to QUEUED (graceful shutdown, or `TransientError` for the caller to retry later); or nothing
at all (finished, canceled, or owned by a live worker: a duplicate delivery).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError

from app.config import Settings
from app.domain.catalog import segment_files, segments_in_range
from app.domain.exports import runs
from app.domain.runtime import JobEvent, Runtime
from app.storage import artifact_dir
from engine.export import ArtifactFile, ExportTask, PartialExport, run_export
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
        job = runs.claim(session, job_id, stale_before)
    if job is None:
        return  # finished, canceled, or being run by a live worker: nothing to do
    _announce(runtime, job, "RUNNING")
    out_dir = artifact_dir(settings, job.id, job.claim_token)
    partial: list[ArtifactFile] = []  # what a failed run kept, when the job asked for it
    try:
        try:
            files = _run(runtime, job, out_dir)
        except PartialExport as kept:
            partial = kept.files
            raise kept.cause from None
    except runs.ClaimLost:
        # Canceled, deleted or taken over: whoever did it has announced the new state.
        shutil.rmtree(out_dir, ignore_errors=True)
        return
    except shutdown:
        shutil.rmtree(out_dir, ignore_errors=True)
        with runtime.sync_sessions() as session:
            runs.release(session, job)
        runtime.effects.wake_export(job.id)
        _announce(runtime, job, "QUEUED")
        return
    except PERMANENT_FAILURES as exc:
        _finish_failed(runtime, job, out_dir, str(exc), partial)
        return
    except (OSError, OperationalError) as exc:
        if isinstance(exc, OSError) and exc.errno in STORAGE_FULL:
            # Another attempt would fill the disk again: fail now, and free what was written.
            reason = f"the storage is full ({exc.strerror}): free space, then export again"
            _finish_failed(runtime, job, out_dir, reason, [])
            return
        shutil.rmtree(out_dir, ignore_errors=True)
        with runtime.sync_sessions() as session:
            runs.release(session, job)
        raise TransientError(f"{job.id}: {exc}") from exc
    except Exception as exc:
        log.exception("export %s failed", job.id)
        reason = f"internal error ({type(exc).__name__}): {exc}"
        _finish_failed(runtime, job, out_dir, reason, partial)
        return
    _publish(runtime, job, out_dir, files)


def _publish(
    runtime: Runtime, job: runs.ClaimedJob, out_dir: Path, files: list[ArtifactFile]
) -> None:
    settings = runtime.settings
    with runtime.sync_sessions() as session:
        won = runs.succeed(session, job, _catalogued(settings, files), settings.retention_seconds)
    if not won:  # canceled at the last moment (and announced): the files are never listed
        shutil.rmtree(out_dir, ignore_errors=True)
        return
    _remove_other_attempts(out_dir)
    _announce(runtime, job, "SUCCEEDED")


def _catalogued(settings: Settings, files: list[ArtifactFile]) -> list[runs.PublishedArtifact]:
    return [
        runs.PublishedArtifact(
            filename=f.filename,
            path=str(f.path.relative_to(settings.storage_dir)),
            content_type=f.content_type,
            byte_size=f.byte_size,
            row_count=f.row_count,
            sha256=f.sha256,
            partial=f.partial,
        )
        for f in files
    ]


def _run(runtime: Runtime, job: runs.ClaimedJob, out_dir: Path) -> list[ArtifactFile]:
    settings = runtime.settings
    with runtime.sync_sessions() as session:
        segments = segments_in_range(session, job.datastream_id, job.start_ns, job.end_ns)
        sources = [
            ExportSource(
                context,
                segment_files(
                    settings, segments_in_range(session, stream_id, job.start_ns, job.end_ns)
                ),
            )
            for stream_id, context in job.sources
        ]
    owner = "streams" if sources else str(job.datastream_id)
    task = ExportTask(
        schema_spec=job.schema_spec,
        context=job.context,
        segments=segment_files(settings, segments),
        start_ns=job.start_ns,
        end_ns=job.end_ns,
        format=job.format,
        compression=job.compression,
        output_dir=out_dir,
        filename_stem=f"{owner}_{job.id}",
        options=ExportOptions.from_json(job.format, job.options),
        keep_partial=job.keep_partial,
        sources=sources,
    )
    last = 0.0

    def on_progress(rows: int, byte_count: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= settings.progress_interval_seconds:
            last = now
            with runtime.sync_sessions() as session:
                runs.record_progress(session, job, rows, byte_count)
            _announce(runtime, job, "RUNNING")

    return run_export(task, _with_time_limit(on_progress, settings.job_timeout_seconds))


def _with_time_limit(on_progress: Callable[..., None], limit: float) -> Callable[..., None]:
    """Stop the export (TimeLimitExceeded: the job fails, its files are removed) once it has
    run for `limit` seconds; checked at every batch, like cancellation."""
    check = runs.time_limit_check(limit)

    def checked(*args: Any) -> None:
        check()
        on_progress(*args)

    return checked


def _remove_other_attempts(winner: Path) -> None:
    """Leftovers of attempts that died (a killed worker's partial file) are never listed;
    the attempt that published removes them."""
    with contextlib.suppress(FileNotFoundError):  # deleteExport may have removed them all
        for attempt in winner.parent.iterdir():
            if attempt != winner:
                shutil.rmtree(attempt, ignore_errors=True)


def _finish_failed(
    runtime: Runtime,
    job: runs.ClaimedJob,
    out_dir: Path,
    reason: str,
    partial: list[ArtifactFile],
) -> None:
    """FAILED; the files are removed unless the job asked to keep what it wrote (then they
    are listed as partial artifacts, kept for the retention period like a success's)."""
    settings = runtime.settings
    if not partial:
        shutil.rmtree(out_dir, ignore_errors=True)
    kept = _catalogued(settings, partial)
    with runtime.sync_sessions() as session:
        recorded = runs.fail(session, job, reason, kept, settings.retention_seconds)
    if not recorded:
        shutil.rmtree(out_dir, ignore_errors=True)
        return
    if partial:
        _remove_other_attempts(out_dir)
    _announce(runtime, job, "FAILED")


def _announce(runtime: Runtime, job: runs.ClaimedJob, status: str) -> None:
    runtime.effects.publish(JobEvent(job.id, job.workspace_id, status))
