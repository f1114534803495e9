"""Compaction: live collection writes a segment every few seconds; scanning thousands of
small files is slow, so the segments of a datastream's settled hours are merged into one.

The swap is one transaction: the old segments are retired (only if none was retired by a
concurrent compaction) and the merged one registered, so an export sees the old set or the
new one, never both and never neither. Exports that started on the old set keep reading its
files, which are deleted only after the longest an export may run."""

from __future__ import annotations

import logging
from collections import defaultdict

import anyio
import pyarrow as pa
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.db.engine import rows_changed
from app.db.models import SegmentRow
from app.domain.catalog import datastream_spec, segment_files
from app.domain.runtime import Runtime
from app.domain.segment_files import new_segment, segment_row
from app.domain.wire_formats import shredder
from app.storage import storage_for
from engine.segment_meta import DescriptionError, read_footer
from engine.segments import SegmentFile, merge_segments
from engine.timestamps import now_ns

log = logging.getLogger(__name__)
HOUR_NS = 3_600 * 10**9
SETTLED_NS = 10 * 60 * 10**9  # an hour is compacted once nothing has been added for this long
SMALL_ROWS = 500_000  # segments this size or more are left alone
GROUPS_PER_PASS = 8  # bounded work per sweeper pass; the next pass does more


async def compact_pass(runtime: Runtime) -> int:
    """Merge up to GROUPS_PER_PASS groups, then delete files retired long enough ago.
    Returns how many groups were merged."""
    return await anyio.to_thread.run_sync(_compact_pass, runtime)


def _compact_pass(runtime: Runtime) -> int:
    merged = 0
    for group in _groups(runtime):
        merged += _merge(runtime, group)
    _purge_retired(runtime)
    return merged


def _groups(runtime: Runtime) -> list[list[SegmentRow]]:
    """Per datastream and UTC hour, at least two small live segments of a settled hour."""
    settled_before = now_ns() - SETTLED_NS
    with runtime.sync_sessions() as session:
        rows = session.scalars(
            select(SegmentRow)
            .where(
                SegmentRow.retired_at.is_(None),
                SegmentRow.row_count < SMALL_ROWS,
                SegmentRow.max_ts < settled_before,
            )
            .order_by(SegmentRow.datastream_id, SegmentRow.min_ts)
            .limit(20_000)
        ).all()
    groups: dict[tuple[int, int], list[SegmentRow]] = defaultdict(list)
    for row in rows:
        groups[(row.datastream_id, row.min_ts // HOUR_NS)].append(row)
    return [g for g in groups.values() if len(g) >= 2][:GROUPS_PER_PASS]


def _merge(runtime: Runtime, group: list[SegmentRow]) -> int:
    settings = runtime.settings
    datastream_id = group[0].datastream_id
    storage = storage_for(settings)
    files = segment_files(settings, group)
    with runtime.sync_sessions() as session:
        spec = datastream_spec(session, datastream_id)
        # The merged file names what it replaces: a catalog rebuilt from the files retires those.
        key, label = new_segment(
            session,
            datastream_id,
            level=1 + max(_level(f) for f in files),
            replaces=[s.path.rsplit("/", 1)[-1] for s in group],
        )
    merged = merge_segments(
        files, storage.path(key), shredder(spec), label, filesystem=storage.filesystem
    )
    if merged.row_count != sum(s.row_count for s in group):
        storage.delete(key)
        raise AssertionError(f"compaction of datastream {datastream_id} lost records")
    with runtime.sync_sessions() as session:
        if not _swap(session, group, segment_row(label, merged, key)):
            session.rollback()
            storage.delete(key)  # another gateway compacted these first
            return 0
        session.commit()
    log.info("datastream %s: %d segments compacted into one", datastream_id, len(group))
    return 1


def _level(segment: SegmentFile) -> int:
    """A segment's compaction level, 0 for one without a description (written from records)."""
    try:
        description = read_footer(segment.path, segment.filesystem).description
    except (OSError, pa.ArrowException, DescriptionError):
        return 0  # merge_segments reads the file and says what is wrong with it
    return description.label.level if description is not None else 0


def _swap(session: Session, group: list[SegmentRow], merged: SegmentRow) -> bool:
    retired = session.execute(
        update(SegmentRow)
        .where(SegmentRow.id.in_([s.id for s in group]), SegmentRow.retired_at.is_(None))
        .values(retired_at=now_ns())
        .execution_options(synchronize_session=False)
    )
    if rows_changed(retired) != len(group):
        return False
    session.add(merged)
    return True


def _purge_retired(runtime: Runtime) -> None:
    """Files retired longer ago than an export may run (its time limit and the time a dead
    worker is noticed) are read by nobody: delete them, then their rows."""
    settings = runtime.settings
    grace = int((settings.job_timeout_seconds + settings.heartbeat_stale_seconds) * 1e9)
    with runtime.sync_sessions() as session:
        rows = session.execute(
            select(SegmentRow.id, SegmentRow.path)
            .where(SegmentRow.retired_at < now_ns() - grace)
            .limit(1_000)
        ).all()
        storage = storage_for(settings)
        for _id, path in rows:
            storage.delete(path)
        if rows:
            session.execute(delete(SegmentRow).where(SegmentRow.id.in_([r[0] for r in rows])))
            session.commit()
