"""Segment files the catalog does not know: what a process killed between writing a segment
and committing it leaves behind (an ingest, an import, a collector's flush, a compaction).
Nobody reads them (only catalogued segments are scanned); this pass deletes them once they
are old enough that no living writer can still be about to commit them.

Only in the folders of datastreams the catalog has: a folder of a datastream it does not know
is what a lost (or not yet rebuilt) catalog looks like, and its files are the data that
`fsck --rebuild-catalog` registers again."""

from __future__ import annotations

import logging
import random
import time
from pathlib import Path

import anyio
from sqlalchemy import select

from app.db.models import DatastreamRow, SegmentRow
from app.domain.runtime import Runtime

log = logging.getLogger(__name__)
GRACE_SECONDS = 6 * 3600  # far beyond the longest write-then-commit of any writer
DIRECTORIES_PER_PASS = 4  # bounded work per sweeper pass; later passes visit the others


async def remove_orphan_segments(runtime: Runtime, grace_seconds: float = GRACE_SECONDS) -> int:
    """Delete uncatalogued files older than the grace in a few datastream folders; how many."""
    return await anyio.to_thread.run_sync(_remove, runtime, grace_seconds)


def _remove(runtime: Runtime, grace_seconds: float) -> int:
    root = runtime.settings.storage_dir
    folders = [p for p in (root / "segments").glob("*") if p.is_dir()]
    removed = 0
    for folder in random.sample(folders, min(DIRECTORIES_PER_PASS, len(folders))):
        removed += _remove_in(runtime, root, folder, time.time() - grace_seconds)
    return removed


def _remove_in(runtime: Runtime, root: Path, folder: Path, older_than: float) -> int:
    old = [f for f in folder.iterdir() if f.is_file() and f.stat().st_mtime < older_than]
    if not old:
        return 0
    with runtime.sync_sessions() as session:
        if not folder.name.isdigit() or session.get(DatastreamRow, int(folder.name)) is None:
            return 0
        known = set(
            session.scalars(
                select(SegmentRow.path).where(
                    SegmentRow.path.in_([str(f.relative_to(root)) for f in old])
                )
            )
        )
    orphans = [f for f in old if str(f.relative_to(root)) not in known]
    for orphan in orphans:
        log.info("removing %s: a segment file the catalog does not know", orphan)
        orphan.unlink(missing_ok=True)
    return len(orphans)
