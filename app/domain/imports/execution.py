"""Run one import job on a worker: claim the row, read the uploaded file, store its records,
record the outcome, announce every change. A Dramatiq actor (or a test) calls
`run_import_job` with the job id.

The records become visible whole or not at all: segments are written as the file is read,
and registered in the same transaction that marks the job SUCCEEDED (a cancel or a lost claim
before that commit throws them away). With `onError: SKIP` bad records are left out and
written, with their line numbers and reasons, to a CSV report the job links to; with ABORT
the first bad record fails the job, naming its line. A file whose exact bytes were already
stored in the datastream is not stored again (unless forced): the job succeeds saying so.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import logging
import time
from pathlib import Path
from typing import IO

import pyarrow as pa
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.domain.catalog import datastream_spec
from app.domain.exports.status import JobStatus
from app.domain.imports import runs
from app.domain.ingest import ingest_tables, stored_before
from app.domain.runtime import JobEvent, Runtime
from app.domain.wire_formats import sample_warning
from app.storage import Storage, folder_of, import_report_key, storage_for
from engine.files import sha256_of
from engine.record_files import IngestError, Rejected, read_records

log = logging.getLogger(__name__)
PERMANENT_FAILURES = (IngestError, FileNotFoundError)


class TransientError(Exception):
    """Worth another try later (storage or database hiccup); the job was handed back."""


def run_import_job(
    runtime: Runtime, job_id: str, shutdown: type[BaseException] | tuple[()] = ()
) -> None:
    """`shutdown`: the exception a graceful stop raises in this thread (Dramatiq's
    `Shutdown`); the job is handed back and another worker woken at once."""
    stale_before = time.time_ns() - int(runtime.settings.heartbeat_stale_seconds * 1e9)
    with runtime.sync_sessions() as session:
        job = runs.claim(session, job_id, stale_before)
    if job is None:
        return  # finished, canceled, or being run by a live worker
    _announce(runtime, job, JobStatus.RUNNING)
    run = _ImportRun(runtime, job)
    try:
        run.execute()
    except runs.ClaimLost:  # canceled or taken over: whoever did it announced it
        run.report.discard()
        return
    except shutdown:
        run.report.discard()
        _hand_back(runtime, job)
        runtime.effects.wake_import(job.id)
        return
    except PERMANENT_FAILURES as exc:
        if not run.fail(str(exc)):
            return  # taken over meanwhile: the upload is the new owner's to read
    except (OSError, OperationalError) as exc:
        run.report.discard()
        _hand_back(runtime, job)
        raise TransientError(f"{job.id}: {exc}") from exc
    except Exception as exc:
        log.exception("import %s failed", job.id)
        if not run.fail(f"internal error ({type(exc).__name__}): {exc}"):
            return
    else:
        _announce(runtime, job, JobStatus.SUCCEEDED)
        _remove_other_attempts(run.storage, folder_of(run.report.key))
    _remove_upload(runtime, job)


class _RejectedReport:
    """The CSV of rejected records (line, reason, record), written as they come and
    published under the job's name when the job succeeds."""

    def __init__(self, storage: Storage, key: str) -> None:
        self.storage, self.key = storage, key
        self.temp = storage.staging_file(key)
        self.count = 0
        self.published = False
        self._file: IO[str] | None = None
        self._writer: csv.DictWriter[str] | None = None

    def add(self, rejected: Rejected) -> None:
        if self._writer is None:
            self.temp.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.temp, "w", newline="", encoding="utf-8")  # noqa: SIM115
            self._writer = csv.DictWriter(self._file, ["line", "reason", "record"])
            self._writer.writeheader()
        self._writer.writerow(
            {"line": rejected.line, "reason": rejected.reason, "record": rejected.text}
        )
        self.count += 1

    def publish(self) -> tuple[str, int] | None:
        """(key in the storage, size), or None if nothing was rejected."""
        if self._file is None:
            self.temp.unlink(missing_ok=True)
            return None
        self._file.close()
        size = self.storage.publish(self.temp, self.key)
        self.published = True
        return self.key, size

    def discard(self) -> None:
        """Nothing of this attempt is kept (also a report published just before the job's
        final commit failed)."""
        if self._file is not None:
            self._file.close()
        self.temp.unlink(missing_ok=True)
        if self.published:
            self.storage.delete(self.key)


class _ImportRun:
    def __init__(self, runtime: Runtime, job: runs.ClaimedImport) -> None:
        self.runtime, self.job = runtime, job
        self.settings = runtime.settings
        self.storage = storage_for(self.settings)
        self.counts = runs.Counts()
        self.report = _RejectedReport(self.storage, import_report_key(job.id, job.claim_token))
        self._last_progress = 0.0

    def execute(self) -> None:
        with self.storage.local_copy(self.job.upload_path) as path:
            self._import(path)

    def _import(self, path: Path) -> None:
        digest = sha256_of(path)
        if not self.job.force:
            already = stored_before(self.runtime, self.job.datastream_id, digest, self.job.filename)
            if already is not None:
                self._succeed_empty(already + " (force: true stores it again)")
                return
        skip = self.job.on_error == "SKIP"
        tables = read_records(
            path, on_reject=self._reject if skip else None, on_progress=self._progress
        )
        first = next(tables, None)
        note = self._wire_format_warning(first)
        result = ingest_tables(
            self.runtime,
            self.job.datastream_id,
            itertools.chain([first] if first is not None else [], tables),
            source=(self.job.filename, digest),
            before_commit=lambda session: self._mark_succeeded(session, note),
        )
        if result.rows == 0:  # nothing to store, so nothing committed yet
            self._succeed_empty(note or "the file holds no records to store")

    def _reject(self, rejected: Rejected) -> None:
        self.report.add(rejected)
        self.counts.records_rejected = self.report.count

    def _progress(self, bytes_read: int, records_read: int) -> None:
        counts = self.counts
        counts.bytes_read, counts.records_read = bytes_read, records_read
        counts.records_stored = records_read - counts.records_rejected
        now = time.monotonic()
        if now - self._last_progress >= self.settings.progress_interval_seconds:
            self._last_progress = now
            with self.runtime.sync_sessions() as session:
                runs.record_progress(session, self.job, counts)
            _announce(self.runtime, self.job, JobStatus.RUNNING)

    def _wire_format_warning(self, first: pa.Table | None) -> str | None:
        if first is None:
            return None
        with self.runtime.sync_sessions() as session:
            spec = datastream_spec(session, self.job.datastream_id)
        return sample_warning(spec, first) if spec is not None else None

    def _mark_succeeded(self, session: Session, note: str | None) -> None:
        runs.mark_succeeded(
            session,
            self.job,
            self.counts,
            note=note,
            report=self.report.publish(),
            keep_seconds=self.settings.retention_seconds,
        )

    def _succeed_empty(self, note: str) -> None:
        self.counts.records_stored = 0
        with self.runtime.sync_sessions() as session:
            self._mark_succeeded(session, note)
            session.commit()

    def fail(self, reason: str) -> bool:
        """FAILED with `reason`; False if the job was no longer this worker's."""
        self.report.discard()
        self.counts.records_stored = 0
        with self.runtime.sync_sessions() as session:
            failed = runs.fail(session, self.job, reason, self.counts)
        if failed:
            _announce(self.runtime, self.job, JobStatus.FAILED)
        return failed


def _hand_back(runtime: Runtime, job: runs.ClaimedImport) -> None:
    with runtime.sync_sessions() as session:
        runs.release(session, job)
    _announce(runtime, job, JobStatus.QUEUED)


def _remove_other_attempts(storage: Storage, winner: str) -> None:
    """What attempts that died or lost the job left (a report) is never kept."""
    with contextlib.suppress(FileNotFoundError):
        for attempt in storage.folders(folder_of(winner)):
            if attempt != winner:
                storage.delete_tree(attempt)


def _remove_upload(runtime: Runtime, job: runs.ClaimedImport) -> None:
    """The records are stored (or the import failed for good): the upload is not needed."""
    storage_for(runtime.settings).delete_tree(folder_of(job.upload_path))


def _announce(runtime: Runtime, job: runs.ClaimedImport, status: JobStatus) -> None:
    runtime.effects.publish(JobEvent(job.id, job.workspace_id, status.value, "import"))
