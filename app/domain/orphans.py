"""Segment files the catalog does not know: what a process killed between writing a segment
and committing it leaves behind (an ingest, an import, a collector's flush, a compaction).
Nobody reads them (only catalogued segments are scanned); this pass deletes them once they
are old enough that no living writer can still be about to commit them. In an object store,
it also aborts multipart uploads that old: a process killed while uploading a file.

Only in the folders of datastreams the catalog has: a folder of a datastream it does not know
is what a lost (or not yet rebuilt) catalog looks like, and its files are the data that
`fsck --rebuild-catalog` registers again."""

from __future__ import annotations

import logging
import random
import time

import anyio
from sqlalchemy import select

from app.db.models import DatastreamRow, SegmentRow
from app.domain.runtime import Runtime
from app.storage import Storage, storage_for

log = logging.getLogger(__name__)
GRACE_SECONDS = 6 * 3600  # far beyond the longest write-then-commit of any writer
DIRECTORIES_PER_PASS = 4  # bounded work per sweeper pass; later passes visit the others


async def remove_orphan_segments(runtime: Runtime, grace_seconds: float = GRACE_SECONDS) -> int:
    """Delete uncatalogued files older than the grace in a few datastream folders (and abort
    uploads as old); how many files."""
    return await anyio.to_thread.run_sync(_remove, runtime, grace_seconds)


def _remove(runtime: Runtime, grace_seconds: float) -> int:
    storage = storage_for(runtime.settings)
    older_than = time.time() - grace_seconds
    for key in storage.abort_stale_uploads(older_than):
        log.info("aborted the upload of %s: its writer never completed it", key)
    folders = storage.folders("segments")
    removed = 0
    for folder in random.sample(folders, min(DIRECTORIES_PER_PASS, len(folders))):
        removed += _remove_in(runtime, storage, folder, older_than)
    return removed


def _remove_in(runtime: Runtime, storage: Storage, folder: str, older_than: float) -> int:
    old = [f.key for f in storage.files(folder) if f.mtime < older_than]
    if not old:
        return 0
    with runtime.sync_sessions() as session:
        name = folder.rsplit("/", 1)[-1]
        if not name.isdigit() or session.get(DatastreamRow, int(name)) is None:
            return 0
        known = set(session.scalars(select(SegmentRow.path).where(SegmentRow.path.in_(old))))
    orphans = [key for key in old if key not in known]
    for orphan in orphans:
        log.info("removing %s: a segment file the catalog does not know", orphan)
        storage.delete(orphan)
    return len(orphans)
