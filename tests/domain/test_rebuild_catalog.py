"""`fsck --rebuild-catalog`: a catalog rebuilt from the segment files alone is the one that was
lost (exchanges, instruments with their ids, datastreams, segments, compaction's retirements),
and exports from it are the same bytes; a second run changes nothing; `merge` registers only
what the catalog does not know and reports conflicts; segments written before files described
themselves are registered from their folder when something describes their datastream."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from app.config import Settings
from app.db.migrate import upgrade
from app.db.models import DatastreamRow, ExchangeRow, InstrumentRow, SegmentRow
from app.domain import compaction
from app.domain.auth import Principal, Role, create_api_key, create_workspace
from app.domain.exports import commands
from app.domain.fsck import check
from app.domain.ingest import ingest_tables
from app.domain.rebuild import CatalogNotEmpty, RebuildReport, rebuild_catalog
from app.domain.runtime import Runtime
from engine.segment_meta import read_footer
from engine.segments import SegmentFile, merge_segments, records_table, write_segment
from tests.domain.helpers import artifact_rows, export_request, run_job, runtime_for
from tests.helpers.inprocess import (
    BOOK,
    BYBIT_TRADES,
    MINUTE,
    START,
    TRADES,
    RecordingEffects,
    Seed,
    settings_for,
)

TEN_MINUTES = "2024-03-01T00:10:00Z"
EXPORTS = [
    export_request(
        datastream_id=None,
        datastream_ids=[str(TRADES.id), str(BYBIT_TRADES.id)],
        end_time=TEN_MINUTES,
    ),
    export_request(datastream_id=str(BOOK.id), end_time=TEN_MINUTES),
    export_request(schema="normalized", format="PARQUET"),  # reads the decoded column
]


def catalog(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """Every catalog row, every column (a retirement as whether it happened: a rebuild
    knows when the compacted file was written, not when its swap committed)."""
    with runtime.sync_sessions() as session:
        return {
            "exchanges": sorted(
                session.execute(select(ExchangeRow.code, ExchangeRow.display_name))
            ),
            "instruments": sorted(
                (i.id, i.exchange_code, i.symbol, i.base, i.quote, i.type, i.archived)
                for i in session.scalars(select(InstrumentRow))
            ),
            "datastreams": sorted(
                (
                    d.id,
                    d.exchange_code,
                    d.instrument_id,
                    d.stream_type,
                    d.wire_format,
                    d.source,
                    d.created_at,
                )
                for d in session.scalars(select(DatastreamRow))
            ),
            "segments": sorted(
                (
                    s.id,
                    s.datastream_id,
                    s.path,
                    s.min_ts,
                    s.max_ts,
                    s.row_count,
                    s.byte_size,
                    s.created_at,
                    s.retired_at is None,
                    s.broken_reason,
                )
                for s in session.scalars(select(SegmentRow))
            ),
        }


async def exported_digests(runtime: Runtime, principal: Principal) -> list[list[str]]:
    """The SHA-256 of every file of each export in EXPORTS, read from the files."""
    digests = []
    for request in EXPORTS:
        job, _ = await commands.create_export(runtime, principal, request)
        await run_job(runtime, job.id)
        files = await artifact_rows(runtime, job.id)
        assert files, f"{job.id} wrote nothing"
        root = runtime.settings.storage_dir
        digests.append([hashlib.sha256((root / f.path).read_bytes()).hexdigest() for f in files])
    return digests


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty database, made once (migrating takes seconds) and copied."""
    folder = tmp_path_factory.mktemp("migrated")
    upgrade(settings_for(folder))
    return folder


def empty_catalog_over(settings: Settings, migrated: Path, folder: Path) -> Settings:
    """A new, migrated database over the same storage directory: the catalog was lost."""
    shutil.copytree(migrated, folder)
    return settings_for(folder, storage_url=str(settings.storage_dir))


def rebuild(runtime: Runtime, merge: bool = False) -> RebuildReport:
    return rebuild_catalog(runtime, merge=merge)


def compacted_history(runtime: Runtime) -> None:
    """Two late flushes into the seed's hour of trades, compacted with the seed's segment:
    three retired segments (files kept for running exports) and one compacted."""
    for minute in (3, 7):
        ingest_tables(runtime, TRADES.id, [records_table([(START + minute * MINUTE + 1, "{}")])])
    assert compaction._compact_pass(runtime) == 1


async def test_a_rebuilt_catalog_is_the_lost_one_and_exports_the_same_bytes(
    runtime: Runtime, effects: RecordingEffects, seed: Seed, migrated: Path, tmp_path: Path
) -> None:
    await asyncio.to_thread(compacted_history, runtime)
    original = catalog(runtime)
    assert sum(not live for *_, live, _ in original["segments"]) == 3
    before = await exported_digests(runtime, seed.principals["alpha"])

    fresh = empty_catalog_over(runtime.settings, migrated, tmp_path / "fresh")
    async with runtime_for(fresh, effects) as rebuilt:
        report = await asyncio.to_thread(rebuild, rebuilt)
        assert report.ok and report.datastreams == 3 and report.not_self_describing == 0
        assert report.totals.segments == len(original["segments"]) and report.totals.retired == 3
        assert catalog(rebuilt) == original

        with rebuilt.sync_sessions() as session:
            workspace = create_workspace(session, "restored")
            key, _ = create_api_key(session, workspace.id, "tests", Role.ADMIN)
            session.commit()
            principal = Principal(workspace.id, key.id, Role.ADMIN)
        assert await exported_digests(rebuilt, principal) == before

        # A second run changes nothing: refused as it is, or registering nothing with merge.
        with pytest.raises(CatalogNotEmpty):
            await asyncio.to_thread(rebuild, rebuilt)
        again = await asyncio.to_thread(rebuild, rebuilt, True)
        assert again.ok and again.totals.segments == 0
        assert again.already_known == len(original["segments"])
        assert catalog(rebuilt) == original


async def test_merge_registers_what_the_catalog_lost_and_reports_conflicts(
    runtime: Runtime,
) -> None:
    original = catalog(runtime)
    with runtime.sync_sessions() as session:
        lost = session.scalars(select(SegmentRow).where(SegmentRow.datastream_id == TRADES.id))
        lost_id = lost.one().id
        session.execute(delete(SegmentRow).where(SegmentRow.id == lost_id))
        # The book's datastream now says another wire format than its file does.
        session.execute(delete(SegmentRow).where(SegmentRow.datastream_id == BOOK.id))
        session.execute(
            update(DatastreamRow).where(DatastreamRow.id == BOOK.id).values(wire_format="custom")
        )
        session.commit()

    report = await asyncio.to_thread(rebuild, runtime, True)
    assert report.totals.segments == 1 and report.already_known == 1  # bybit's was known
    assert [path.split("/")[1] for path, _ in report.conflicts] == [str(BOOK.id)]
    assert "another wire format" in report.conflicts[0][1] and not report.ok
    restored = catalog(runtime)
    assert [s for s in restored["segments"] if s[0] == lost_id] == [
        s for s in original["segments"] if s[0] == lost_id
    ]
    assert not any(s[1] == BOOK.id for s in restored["segments"])  # a conflict: left out


async def test_segments_without_a_description_are_registered_from_their_folder(
    runtime: Runtime, effects: RecordingEffects, migrated: Path, tmp_path: Path
) -> None:
    root = runtime.settings.storage_dir
    old = [(START + 20 * MINUTE + i, f'{{"old":{i}}}') for i in range(5)]
    written_before = root / "segments" / str(TRADES.id) / ("seg_" + "0" * 32 + ".parquet")
    write_segment(records_table(old), written_before)  # as segments were before
    undescribed = root / "segments" / "999" / "seg_x.parquet"  # nothing says what 999 is
    write_segment(records_table(old), undescribed)
    unreadable = root / "segments" / str(TRADES.id) / "torn.parquet"
    unreadable.write_bytes(b"PAR1 and then nothing")

    fresh = empty_catalog_over(runtime.settings, migrated, tmp_path / "fresh")
    async with runtime_for(fresh, effects) as rebuilt:
        report = await asyncio.to_thread(rebuild, rebuilt)
        assert report.not_self_describing == 1 and not report.ok
        why = dict(report.unregistered)
        assert (
            "no file or catalog entry describes datastream 999" in why["segments/999/seg_x.parquet"]
        )
        assert "not a readable segment" in why[f"segments/{TRADES.id}/torn.parquet"]
        with rebuilt.sync_sessions() as session:
            registered = session.get(SegmentRow, "seg_" + "0" * 32)
            assert registered is not None and registered.datastream_id == TRADES.id
            assert (registered.min_ts, registered.max_ts, registered.row_count) == (
                old[0][0],
                old[-1][0],
                5,
            )
        fsck = await asyncio.to_thread(check, rebuilt)
        assert fsck.not_self_describing == [str(written_before.relative_to(root))]


async def test_of_two_compactions_of_the_same_files_only_the_first_comes_back(
    runtime: Runtime, effects: RecordingEffects, migrated: Path, tmp_path: Path
) -> None:
    await asyncio.to_thread(compacted_history, runtime)
    original = catalog(runtime)
    root = runtime.settings.storage_dir
    [winner] = [s for s in original["segments"] if s[1] == TRADES.id and s[8]]
    inputs = [s for s in original["segments"] if s[1] == TRADES.id and not s[8]]
    description = read_footer(root / winner[2]).description
    assert description is not None and len(description.label.replaces) == 3
    # A rival compaction of the same files, whose gateway died before deleting it.
    rival = description.label.model_copy(
        update={"segment_id": "seg_" + "f" * 32, "created_at": description.label.created_at + 1}
    )
    rival_path = root / "segments" / str(TRADES.id) / ("seg_" + "f" * 32 + ".parquet")
    files = [SegmentFile(str(root / s[2]), s[3], s[4], s[5]) for s in inputs]
    merge_segments(files, rival_path, label=rival)

    fresh = empty_catalog_over(runtime.settings, migrated, tmp_path / "fresh")
    async with runtime_for(fresh, effects) as rebuilt:
        report = await asyncio.to_thread(rebuild, rebuilt)
        assert [(path, "lost a race" in why) for path, why in report.conflicts] == [
            (str(rival_path.relative_to(root)), True)
        ]
        assert catalog(rebuilt) == original  # the records once, not twice
