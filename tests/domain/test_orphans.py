"""Segment files a killed writer left uncatalogued are removed once old; catalogued files,
however old, and recent files (a writer may be about to commit them) stay."""

from __future__ import annotations

import os
import time

from sqlalchemy import select

from app.db.models import SegmentRow
from app.domain.orphans import GRACE_SECONDS, remove_orphan_segments
from app.domain.runtime import Runtime
from tests.helpers.inprocess import TRADES


async def test_only_old_uncatalogued_files_go(runtime: Runtime) -> None:
    root = runtime.settings.storage_dir
    folder = root / "segments" / str(TRADES.id)
    long_ago = time.time() - GRACE_SECONDS - 60
    async with runtime.sessions() as session:
        catalogued = [root / p for p in await session.scalars(select(SegmentRow.path))]
    for path in catalogued:
        os.utime(path, (long_ago, long_ago))
    orphan, temporary, fresh = (
        folder / "seg_orphan.parquet",
        folder / ".seg_x.parquet.tmp",
        folder / "seg_fresh.parquet",
    )
    for path in (orphan, temporary, fresh):
        path.write_bytes(b"PAR1")
    for path in (orphan, temporary):
        os.utime(path, (long_ago, long_ago))
    assert await remove_orphan_segments(runtime) == 2
    assert not orphan.exists() and not temporary.exists() and fresh.exists()
    assert catalogued and all(path.exists() for path in catalogued)
