"""Compaction merges a datastream's small segments of a settled hour into one, in one
transaction: no record lost or doubled, exports give the same rows, the old files stay
readable until nobody can be reading them, and two compactions racing swap once."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import select, update

from app.db.models import SegmentRow
from app.domain import compaction
from app.domain.catalog import DatastreamSpec, segment_files, segments_in_range
from app.domain.ingest import ingest_tables
from app.domain.runtime import Runtime
from engine.segments import records_table, scan
from engine.timestamps import parse_timestamp
from tests.domain.helpers import runtime_for, settings_with
from tests.helpers.inprocess import RecordingEffects, Seed

SPEC = DatastreamSpec(
    911, "binance", "Binance", "BTCUSDT", "BTC", "USDT", "spot", "trades", "binance.trade"
)
HOUR = parse_timestamp("2024-05-01T10:00:00Z")


def flushes(runtime: Runtime, count: int, per: int = 30) -> list[tuple[int, str]]:
    """`count` small segments in one hour, overlapping in time, as a collector writes them."""
    records = []
    for flush in range(count):
        chunk = [
            (HOUR + (flush * per + i) * 10**9 // 3, f'{{"f":{flush},"i":{i}}}') for i in range(per)
        ]
        ingest_tables(runtime, SPEC.id, [records_table(chunk)], SPEC if flush == 0 else None)
        records += chunk
    return sorted(records)


def exported(runtime: Runtime) -> list[tuple[int, str]]:
    with runtime.sync_sessions() as session:
        files = segment_files(runtime.settings, segments_in_range(session, SPEC.id, 0, 2**62))
    return [
        (t, d)
        for table in scan(files, 0, 2**62)
        for t, d in zip(table.column(0).to_pylist(), table.column(1).to_pylist(), strict=True)
    ]


def live_segments(runtime: Runtime) -> list[SegmentRow]:
    with runtime.sync_sessions() as session:
        return list(
            session.scalars(
                select(SegmentRow).where(
                    SegmentRow.datastream_id == SPEC.id, SegmentRow.retired_at.is_(None)
                )
            )
        )


async def test_small_segments_of_an_hour_become_one_with_the_same_rows(runtime: Runtime) -> None:
    records = flushes(runtime, 12)
    before = exported(runtime)
    assert sorted(before) == records and len(live_segments(runtime)) == 12
    assert await compaction.compact_pass(runtime) == 1
    [merged] = live_segments(runtime)
    assert merged.row_count == len(records)
    assert exported(runtime) == before  # the same rows, in the same order
    table = pq.read_table(runtime.settings.storage_dir / merged.path)
    assert table.column(0).to_pylist() == sorted(table.column(0).to_pylist())
    assert await compaction.compact_pass(runtime) == 0  # nothing left to do


async def test_retired_files_stay_until_no_export_can_read_them(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    settings = settings_with(
        seed, tmp_path / "data", job_timeout_seconds=0.001, heartbeat_stale_seconds=0.001
    )
    async with runtime_for(settings, effects) as runtime:
        flushes(runtime, 3)
        with runtime.sync_sessions() as session:
            old = list(
                session.scalars(select(SegmentRow.path).where(SegmentRow.datastream_id == SPEC.id))
            )
        compaction._merge(runtime, compaction._groups(runtime)[0])
        assert all((settings.storage_dir / p).exists() for p in old)  # an export may read them
        with runtime.sync_sessions() as session:  # retired longer ago than the 2 ms grace
            session.execute(
                update(SegmentRow)
                .where(SegmentRow.retired_at.is_not(None))
                .values(retired_at=SegmentRow.retired_at - 10**9)
            )
            session.commit()
        compaction._purge_retired(runtime)
        assert not any((settings.storage_dir / p).exists() for p in old)
        assert len(live_segments(runtime)) == 1


async def test_two_compactions_racing_swap_once(runtime: Runtime) -> None:
    records = flushes(runtime, 4)
    [group] = compaction._groups(runtime)
    assert compaction._merge(runtime, group) == 1
    assert compaction._merge(runtime, group) == 0  # the same segments: already retired
    assert sorted(exported(runtime)) == records
