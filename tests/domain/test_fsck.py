"""fsck: what disagrees between the catalog and the storage is found, and repair deletes only
old orphans and leftovers while marking (never deleting) broken catalog entries."""

from __future__ import annotations

import asyncio
import os
import time

from sqlalchemy import select

from app.db.models import ExportArtifactRow, SegmentRow
from app.domain.exports import commands, queries
from app.domain.fsck import check, periodic_check
from app.domain.runtime import Runtime
from app.domain.stats import operational_counts
from tests.domain.helpers import artifact_rows, export_request, run_job
from tests.helpers.inprocess import Seed

DAY = 86400


def aged(path: os.PathLike[str], seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


async def test_fsck_finds_every_disagreement_and_repairs_only_what_is_safe(
    runtime: Runtime, seed: Seed
) -> None:
    job, _ = await commands.create_export(runtime, seed.principals["alpha"], export_request())
    await run_job(runtime, job.id)
    assert (await asyncio.to_thread(check, runtime)).clean

    root = runtime.settings.storage_dir
    async with runtime.sessions() as session:
        lost, changed = (await session.scalars(select(SegmentRow).limit(2))).all()
    (root / lost.path).unlink()  # a catalogued segment's file is gone
    with (root / changed.path).open("ab") as grown:
        grown.write(b"x")  # another's size differs
    [artifact] = await artifact_rows(runtime, job.id)
    (root / artifact.path).write_bytes(b"truncated")
    folder = (root / changed.path).parent
    old_orphan, young_orphan = folder / "old-orphan.parquet", folder / "young-orphan.parquet"
    leftover = folder / ".crashed.parquet.tmp"
    for path in (old_orphan, young_orphan, leftover):
        path.write_bytes(b"PAR1")
    aged(old_orphan, DAY)
    aged(leftover, DAY)
    gone_job = root / "artifacts" / ("exp_" + "f" * 32)
    (gone_job / "attempt").mkdir(parents=True)
    (gone_job / "attempt" / "file.csv.gz").write_bytes(b"x")
    aged(gone_job, DAY)

    report = await asyncio.to_thread(check, runtime)
    found = {(f.kind, f.path): f for f in report.findings}
    assert found[("segment", lost.path)].problem == "its file is missing"
    assert "the catalog says" in found[("segment", changed.path)].problem
    assert found[("artifact", artifact.path)].entry_id == artifact.id
    relative = str(old_orphan.relative_to(root))
    assert found[("orphan-segment", relative)].repairable
    assert not found[("orphan-segment", str(young_orphan.relative_to(root)))].repairable
    assert found[("temporary", str(leftover.relative_to(root)))].repairable
    assert found[("orphan-artifacts", str(gone_job.relative_to(root)))].repairable
    assert len(report.findings) == 7

    repaired = await asyncio.to_thread(check, runtime, True)
    assert {f.path for f in repaired.findings if not f.repaired} == {
        str(young_orphan.relative_to(root))
    }
    assert not old_orphan.exists() and not leftover.exists() and not gone_job.exists()
    assert young_orphan.exists() and (root / changed.path).exists()  # catalogued: kept
    async with runtime.sessions() as session:
        marked = await session.scalars(
            select(SegmentRow.id).where(SegmentRow.broken_reason.is_not(None))
        )
        assert set(marked) == {lost.id, changed.id}
        broken = await session.get(ExportArtifactRow, artifact.id)
        assert broken is not None and "bytes" in (broken.broken_reason or "")
        assert await queries.get_artifact(session, artifact.id) is None  # no longer served


async def test_the_sweepers_pass_marks_missing_files_deletes_old_leftovers_and_no_more(
    runtime: Runtime,
) -> None:
    root = runtime.settings.storage_dir
    async with runtime.sessions() as session:
        lost, kept = (await session.scalars(select(SegmentRow).limit(2))).all()
    (root / lost.path).unlink()
    folder = (root / kept.path).parent
    old_leftover, young_leftover = folder / ".a.parquet.tmp", folder / ".b.parquet.tmp"
    orphan = folder / "orphan.parquet"
    for path in (old_leftover, young_leftover, orphan):
        path.write_bytes(b"PAR1")
    aged(old_leftover, DAY)
    aged(orphan, DAY)

    report = await periodic_check(runtime)
    assert {(f.kind, f.path) for f in report.findings if f.repaired} == {
        ("segment", lost.path),
        ("temporary", str(old_leftover.relative_to(root))),
    }
    assert not old_leftover.exists() and young_leftover.exists()
    assert orphan.exists()  # orphans are the orphan pass's, not this one's
    async with runtime.sessions() as session:
        marked = await session.get(SegmentRow, lost.id)
        assert marked is not None and "missing" in (marked.broken_reason or "")
        assert (await operational_counts(session)).broken == {"segment": 1, "artifact": 0}
    again = await periodic_check(runtime)  # marked once, not found again
    assert [(f.path, f.repaired) for f in again.findings] == [
        (str(young_leftover.relative_to(root)), False)
    ]
