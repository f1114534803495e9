"""Does the catalog agree with the storage? `python -m app fsck` asks, and with `--repair`
mends what is safe to mend.

Found:
- catalogued segments whose file is missing or has another size than catalogued (retired
  segments, whose files compaction deletes after a grace, are not expected to exist);
- artifacts whose file is missing, of another size or (with checksums) another SHA-256;
- segment files no catalog entry owns, artifact folders of jobs that no longer exist, and
  temporary files (`.*.tmp`, `.*.partial`) that crashed writers left behind;
- in an object store, multipart uploads a killed writer never completed (invisible, but
  billed until aborted).

Also told: catalogued segments whose file does not describe itself (written before segment
files carried their description, `engine.segment_meta`): they work, but a catalog rebuilt from
the files (`app.domain.rebuild`) registers them only from the folder they are in.

Repaired: orphans and temporary files older than the grace period are deleted (younger ones
may belong to a writer about to commit); broken catalog entries are marked (`broken_reason`),
never deleted: a segment's records may exist nowhere else, and an operator decides.

The sweeper runs the cheap part every `fsck_interval_seconds` (`periodic_check`): missing
files and sizes of the entries not yet marked, and temporary files past the grace; no
checksums, no footers, and orphans are left to `app.domain.orphans`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import pyarrow as pa
from sqlalchemy import select, update

from app.db.models import ExportArtifactRow, ExportJobRow, SegmentRow
from app.domain.orphans import GRACE_SECONDS  # the sweeper's: beyond any write-then-commit
from app.domain.runtime import Runtime
from app.storage import Storage, storage_for
from engine.files import sha256_of_stream
from engine.segment_meta import DescriptionError, read_footer
from engine.timestamps import now_ns

log = logging.getLogger(__name__)
TEMPORARY_SUFFIXES = (".tmp", ".partial")


@dataclass(frozen=True)
class Finding:
    kind: str  # segment, artifact, orphan-segment, orphan-artifacts, temporary, upload
    path: str  # relative to the storage root
    problem: str
    entry_id: str | None = None  # the catalog entry, for broken ones
    repairable: bool = False  # old enough to delete, or a catalog entry to mark
    repaired: bool = False


@dataclass
class Report:
    segments_checked: int = 0
    artifacts_checked: int = 0
    files_seen: int = 0
    findings: list[Finding] = field(default_factory=list)
    # Live catalogued segments whose file has no description (not a problem: a note).
    not_self_describing: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings


def check(
    runtime: Runtime,
    repair: bool = False,
    checksums: bool = False,
    grace_seconds: float = GRACE_SECONDS,
    quick: bool = False,
) -> Report:
    """Blocking: reads the whole catalog and walks the storage (directory or bucket).
    `quick`: the sweeper's part (entries not marked yet, temporary files; no footers, no
    orphans, no uploads)."""
    storage = storage_for(runtime.settings)
    report = Report()
    with runtime.sync_sessions() as session:
        segment_query = select(
            SegmentRow.id, SegmentRow.path, SegmentRow.byte_size, SegmentRow.retired_at
        )
        artifact_query = select(
            ExportArtifactRow.id,
            ExportArtifactRow.path,
            ExportArtifactRow.byte_size,
            ExportArtifactRow.sha256,
        )
        if quick:  # what is marked stays marked; an hourly pass need not find it again
            segment_query = segment_query.where(SegmentRow.broken_reason.is_(None))
            artifact_query = artifact_query.where(ExportArtifactRow.broken_reason.is_(None))
        segments = session.execute(segment_query).all()
        artifacts = session.execute(artifact_query).all()
        jobs = set(session.scalars(select(ExportJobRow.id)))
    report.segments_checked, report.artifacts_checked = len(segments), len(artifacts)
    for seg_id, path, size, retired in segments:
        if retired is not None:
            continue
        problem = _file_problem(storage, path, size)
        if problem is None and not quick:
            problem = _footer_problem(storage, path, report)
        if problem:
            report.findings.append(Finding("segment", path, problem, seg_id, repairable=True))
    for art_id, path, size, digest in artifacts:
        problem = _file_problem(storage, path, size)
        if problem is None and checksums and _sha256(storage, path) != digest:
            problem = "its SHA-256 differs from the catalogued one"
        if problem:
            report.findings.append(Finding("artifact", path, problem, art_id, repairable=True))
    known_segments = {path for _, path, _, _ in segments}
    strays = _strays(storage, known_segments, jobs, report, grace_seconds)
    report.findings.extend(f for f in strays if f.kind == "temporary" or not quick)
    older_than = time.time() - grace_seconds
    uploads = [] if quick else storage.abort_stale_uploads(older_than, dry_run=True)
    report.findings.extend(
        Finding("upload", key, "an incomplete multipart upload", None, repairable=True)
        for key in uploads
    )
    if repair:
        report.findings = [_repaired(runtime, storage, f) for f in report.findings]
        if uploads:
            storage.abort_stale_uploads(older_than)
    return report


def _sha256(storage: Storage, key: str) -> str:
    with storage.open_read(key) as handle:
        return sha256_of_stream(handle)


def _file_problem(storage: Storage, key: str, size: int) -> str | None:
    stored = storage.stat(key)
    if stored is None:
        return "its file is missing"
    actual = stored.size
    if actual != size:
        return f"its file has {actual:,} bytes, the catalog says {size:,}"
    return None


def _footer_problem(storage: Storage, key: str, report: Report) -> str | None:
    """Whether the file reads as a segment, and describes itself (noted, not a problem)."""
    try:
        footer = read_footer(storage.path(key), storage.filesystem)
    except (OSError, pa.ArrowException, DescriptionError) as error:
        return f"its file is not a readable segment: {error}"
    if footer.description is None:
        report.not_self_describing.append(key)
    return None


def _strays(
    storage: Storage, known_segments: set[str], jobs: set[str], report: Report, grace_seconds: float
) -> list[Finding]:
    found: list[Finding] = []
    older_than = time.time() - grace_seconds
    for file in storage.files("segments"):
        report.files_seen += 1
        old = file.mtime < older_than
        if is_temporary(file.key):
            found.append(Finding("temporary", file.key, "a crashed write's leftover", None, old))
        elif file.key not in known_segments:
            found.append(Finding("orphan-segment", file.key, "no catalog entry owns it", None, old))
    for folder in storage.folders("artifacts"):
        if folder.rsplit("/", 1)[-1] not in jobs:
            old = (storage.modified(folder) or 0) < older_than
            found.append(
                Finding("orphan-artifacts", folder, "its export job no longer exists", None, old)
            )
    return found


def is_temporary(path: Path | str) -> bool:
    """A file a writer had not published yet (`.<name>.tmp`, `.<name>.partial`)."""
    name = Path(path).name
    return name.startswith(".") and name.endswith(TEMPORARY_SUFFIXES)


def _repaired(runtime: Runtime, storage: Storage, finding: Finding) -> Finding:
    if not finding.repairable:
        return finding
    if finding.kind in ("segment", "artifact"):
        table = SegmentRow if finding.kind == "segment" else ExportArtifactRow
        with runtime.sync_sessions() as session:
            session.execute(  # the first reason found stays
                update(table)
                .where(table.id == finding.entry_id, table.broken_reason.is_(None))
                .values(broken_reason=f"fsck {now_ns()}: {finding.problem}")
            )
            session.commit()
    elif finding.kind == "orphan-artifacts":
        storage.delete_tree(finding.path)
    elif finding.kind != "upload":  # uploads are aborted together, by the caller
        storage.delete(finding.path)
    return Finding(
        finding.kind, finding.path, finding.problem, finding.entry_id, True, repaired=True
    )


async def periodic_check(runtime: Runtime, grace_seconds: float = GRACE_SECONDS) -> Report:
    """The sweeper's part of fsck, repaired: catalogued files missing or of another size
    are marked broken (never deleted), temporary files past the grace are deleted. Each
    is logged; `gateway_broken_entries` counts the marked entries."""
    report = await anyio.to_thread.run_sync(
        lambda: check(runtime, repair=True, grace_seconds=grace_seconds, quick=True)
    )
    for finding in report.findings:
        if finding.repaired:
            action = "marked broken" if finding.entry_id else "deleted"
            log.warning("fsck: %s %s %s: %s", finding.kind, finding.path, action, finding.problem)
    log.info(
        "fsck: checked %d segments and %d artifacts: %d marked broken, %d leftovers deleted",
        report.segments_checked,
        report.artifacts_checked,
        sum(1 for f in report.findings if f.repaired and f.entry_id),
        sum(1 for f in report.findings if f.repaired and not f.entry_id),
    )
    return report
