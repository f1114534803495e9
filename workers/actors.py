"""Thin actors: claim the job row, run the engine, record the outcome, announce it."""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dramatiq
from dramatiq.middleware import Shutdown
from sqlalchemy.exc import OperationalError

from app.config import get_settings
from app.db.engine import sync_sessions
from app.domain import job_runs
from app.domain.catalog import segment_files, segments_in_range
from app.events import JobEvent, get_event_bus
from app.storage import artifact_dir
from engine.export import ArtifactFile, ExportRequest, run_export
from engine.export_schema import DecodeError, SchemaError
from engine.timestamps import now_ns
from engine.writers import OutputError
from workers.broker import EXPORT_ACTOR, EXPORT_QUEUE, wake_export

log = logging.getLogger(__name__)


class TransientError(Exception):
    """Worth another try later (storage or database hiccup); the job was handed back."""


def _announce(job: job_runs.ClaimedJob, status: str) -> None:
    get_event_bus().publish(JobEvent(job.id, job.workspace_id, status))


@dramatiq.actor(
    actor_name=EXPORT_ACTOR,
    queue_name=EXPORT_QUEUE,
    max_retries=5,
    retry_when=lambda retries, exc: isinstance(exc, TransientError) and retries < 5,
)
def run_export_job(job_id: str) -> None:
    settings = get_settings()
    sessions = sync_sessions()
    stale_before = now_ns() - int(settings.heartbeat_stale_seconds * 1e9)
    with sessions() as session:
        job = job_runs.claim(session, job_id, stale_before)
    if job is None:
        return  # finished, canceled, or being run by a live worker: nothing to do
    _announce(job, "RUNNING")
    out_dir = artifact_dir(settings, job.id, job.claim_token)
    try:
        files = _run(job, out_dir)
    except job_runs.ClaimLost:
        shutil.rmtree(out_dir, ignore_errors=True)
        _announce(job, "CANCELED")
        return
    except Shutdown:
        # Graceful stop (SIGTERM): hand the job back and wake another worker right away.
        shutil.rmtree(out_dir, ignore_errors=True)
        with sessions() as session:
            job_runs.release(session, job)
        wake_export(job.id)
        _announce(job, "QUEUED")
        return
    except (
        SchemaError,
        DecodeError,
        OutputError,
        FileNotFoundError,
        job_runs.TimeLimitExceeded,
    ) as exc:
        _finish_failed(job, out_dir, str(exc))
        return
    except (OSError, OperationalError) as exc:
        shutil.rmtree(out_dir, ignore_errors=True)
        with sessions() as session:
            job_runs.release(session, job)
        raise TransientError(f"{job.id}: {exc}") from exc
    except Exception as exc:
        log.exception("export %s failed", job.id)
        _finish_failed(job, out_dir, f"internal error ({type(exc).__name__}): {exc}")
        return
    published = [
        job_runs.PublishedArtifact(
            filename=f.filename,
            path=str(f.path.relative_to(settings.storage_dir)),
            content_type=f.content_type,
            byte_size=f.byte_size,
            row_count=f.row_count,
            sha256=f.sha256,
        )
        for f in files
    ]
    with sessions() as session:
        won = job_runs.succeed(session, job, published)
    if not won:  # canceled at the last moment: the files must never be listed
        shutil.rmtree(out_dir, ignore_errors=True)
    else:
        _remove_other_attempts(out_dir)
    _announce(job, "SUCCEEDED" if won else "CANCELED")


def _run(job: job_runs.ClaimedJob, out_dir: Path) -> list[ArtifactFile]:
    settings = get_settings()
    sessions = sync_sessions()
    with sessions() as session:
        segments = segments_in_range(session, job.datastream_id, job.start_ns, job.end_ns)
    request = ExportRequest(
        schema_spec=job.schema_spec,
        context=job.context,
        segments=segment_files(settings, segments),
        start_ns=job.start_ns,
        end_ns=job.end_ns,
        format=job.format,
        compression=job.compression,
        output_dir=out_dir,
        filename_stem=f"{job.datastream_id}_{job.id}",
        options=job.options,
    )
    last = 0.0

    def on_progress(rows: int, byte_count: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= settings.progress_interval_seconds:
            last = now
            with sessions() as session:
                job_runs.record_progress(session, job, rows, byte_count)
            _announce(job, "RUNNING")

    return run_export(request, _with_time_limit(on_progress))


def _with_time_limit(on_progress: Callable[..., None]) -> Callable[..., None]:
    """Stop the export (TimeLimitExceeded: the job fails, its files are removed) once it has
    run for `job_timeout_seconds`; checked at every batch, like cancellation."""
    check = job_runs.time_limit_check()

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


def _finish_failed(job: job_runs.ClaimedJob, out_dir: Path, reason: str) -> None:
    shutil.rmtree(out_dir, ignore_errors=True)
    with sync_sessions()() as session:
        job_runs.fail(session, job, reason)
    _announce(job, "FAILED")
