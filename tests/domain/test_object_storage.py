"""The domain's file work against a bucket (a moto server): exports in parts (attempt folders,
the manifest), retention, compaction and its purge, the orphan sweep (which also aborts
multipart uploads a killed writer left), fsck with --repair, and the segment catalog rebuilt
from the files, as on local disk."""

from __future__ import annotations

import asyncio
import gzip
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from app.config import Settings
from app.db.models import SegmentRow
from app.domain import compaction
from app.domain.exports import retention
from app.domain.fsck import check
from app.domain.orphans import remove_orphan_segments
from app.domain.rebuild import rebuild_catalog
from app.domain.runtime import Runtime
from app.storage import S3Storage
from tests.domain.helpers import artifact_rows, runtime_for, set_job, settings_with, stored_job
from tests.domain.test_compaction import SPEC, exported, flushes, live_segments
from tests.domain.test_export_parts import _create, _drain, _more_hours
from tests.helpers.inprocess import RecordingEffects, Seed
from tests.helpers.object_store import ObjectStore, object_store_in_env, upload_storage


@pytest.fixture(scope="module")
def store() -> Iterator[ObjectStore]:
    with object_store_in_env() as started:
        yield started


def _bucket_settings(store: ObjectStore, seed: Seed, folder: Path, **overrides: Any) -> Settings:
    """A copy of the seed whose segments are moved into the bucket, under a fresh prefix."""
    prefix = f"domain-{uuid.uuid4().hex[:8]}"
    settings = settings_with(
        seed,
        folder,
        storage_url=f"s3://{store.bucket}/{prefix}",
        storage_s3_endpoint_url=store.endpoint_url,
        **overrides,
    )
    upload_storage(store, settings.storage_dir, prefix)
    return settings


def _prefix(runtime: Runtime) -> str:
    assert runtime.settings.storage_url is not None
    return runtime.settings.storage_url.split("/", 3)[3]


@pytest.fixture
async def bucket_runtime(
    store: ObjectStore, seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> AsyncIterator[tuple[Runtime, str]]:
    """A runtime whose segments (the seed's) and artifacts are in the bucket."""
    settings = _bucket_settings(store, seed, tmp_path / "data")
    async with runtime_for(settings, effects) as runtime:
        yield runtime, _prefix(runtime)


async def test_an_export_in_parts_is_published_and_expired_in_the_bucket(
    bucket_runtime: tuple[Runtime, str],
    store: ObjectStore,
    seed: Seed,
    effects: RecordingEffects,
) -> None:
    runtime, prefix = bucket_runtime
    await _more_hours(runtime, seed)  # three hours: three parts
    job = await stored_job(runtime, await _create(runtime, seed))
    await _drain(runtime, effects, job.id)
    assert (await stored_job(runtime, job.id)).status == "SUCCEEDED"
    artifacts = await artifact_rows(runtime, job.id)
    keys = store.keys(f"{prefix}/artifacts/{job.id}/")
    assert sorted(f"{prefix}/{a.path}" for a in artifacts) == keys  # no dead attempt left
    assert any(a.filename.endswith(".manifest.json") for a in artifacts)
    assert (await asyncio.to_thread(check, runtime, False, True)).clean  # sizes and sha256

    await set_job(runtime, job.id, status="EXPIRED")
    async with runtime.sessions() as session:
        assert await retention.purge_expired_files(session, runtime.settings) == 1
    assert store.keys(f"{prefix}/artifacts/{job.id}/") == []


async def test_compaction_merges_in_the_bucket_and_purges_the_retired_objects(
    store: ObjectStore, seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    # Retired files go once an export could no longer read them: here, at once.
    settings = _bucket_settings(
        store, seed, tmp_path / "data", job_timeout_seconds=0.001, heartbeat_stale_seconds=0.001
    )
    async with runtime_for(settings, effects) as runtime:
        _compact_and_purge(runtime, store, _prefix(runtime))


def _compact_and_purge(runtime: Runtime, store: ObjectStore, prefix: str) -> None:
    records = flushes(runtime, 4)
    before = exported(runtime)
    assert sorted(before) == records
    old = {f"{prefix}/{s.path}" for s in live_segments(runtime)}
    assert compaction._merge(runtime, compaction._groups(runtime)[0]) == 1
    [merged] = live_segments(runtime)
    assert exported(runtime) == before
    assert old <= set(store.keys(prefix))  # retired, still readable
    compaction._purge_retired(runtime)
    assert set(store.keys(f"{prefix}/segments/{SPEC.id}/")) == {f"{prefix}/{merged.path}"}
    assert old.isdisjoint(store.keys(prefix))


async def test_the_sweep_and_fsck_clean_the_bucket_up(
    bucket_runtime: tuple[Runtime, str], store: ObjectStore
) -> None:
    runtime, prefix = bucket_runtime
    client = store.client()
    async with runtime.sessions() as session:
        lost = (await session.scalars(select(SegmentRow).limit(1))).one()
    folder = lost.path.rsplit("/", 1)[0]
    client.delete_object(Bucket=store.bucket, Key=f"{prefix}/{lost.path}")
    orphan, leftover = f"{folder}/seg_orphan.parquet", f"{folder}/.seg_x.parquet.tmp"
    for key in (orphan, leftover, "artifacts/exp_" + "f" * 32 + "/attempt/file.csv"):
        client.put_object(Bucket=store.bucket, Key=f"{prefix}/{key}", Body=b"PAR1")
    # A killed writer's upload (no part for an hour), and a live one (a part just went up).
    dead = client.create_multipart_upload(Bucket=store.bucket, Key=f"{prefix}/{folder}/dead")
    live_key = f"{prefix}/{folder}/live"
    live = client.create_multipart_upload(Bucket=store.bucket, Key=live_key)
    client.upload_part(
        Bucket=store.bucket, Key=live_key, UploadId=live["UploadId"], PartNumber=1, Body=b"x"
    )

    # The sweep: young files stay; the dead upload (moto dates every upload 2010) is aborted.
    assert await remove_orphan_segments(runtime, grace_seconds=3600) == 0
    uploads = client.list_multipart_uploads(Bucket=store.bucket, Prefix=prefix)["Uploads"]
    assert [u["UploadId"] for u in uploads] == [live["UploadId"]]
    assert dead["UploadId"] not in {u["UploadId"] for u in uploads}

    report = await asyncio.to_thread(check, runtime, True, False, 0)  # repair, no grace
    found = {(f.kind, f.path) for f in report.findings}
    assert {
        ("segment", lost.path),
        ("orphan-segment", orphan),
        ("temporary", leftover),
        ("orphan-artifacts", "artifacts/exp_" + "f" * 32),
        ("upload", f"{folder}/live"),
    } <= found
    assert all(f.repaired for f in report.findings)
    keys = store.keys(prefix)
    assert f"{prefix}/{orphan}" not in keys and f"{prefix}/{leftover}" not in keys
    assert not [k for k in keys if "/exp_fff" in k]
    assert "Uploads" not in client.list_multipart_uploads(Bucket=store.bucket, Prefix=prefix)
    async with runtime.sessions() as session:
        broken = await session.get(SegmentRow, lost.id)
        assert broken is not None and broken.broken_reason is not None


async def test_the_segment_catalog_is_rebuilt_from_the_files_in_the_bucket(
    bucket_runtime: tuple[Runtime, str],
) -> None:
    runtime, _prefix = bucket_runtime
    with runtime.sync_sessions() as session:
        before = sorted(
            (s.id, s.path, s.row_count, s.byte_size, s.min_ts, s.max_ts)
            for s in session.scalars(select(SegmentRow))
        )
        session.execute(delete(SegmentRow))  # the segment rows are lost; the files are not
        session.commit()
    report = await asyncio.to_thread(rebuild_catalog, runtime, True)
    assert not report.unregistered and not report.conflicts
    with runtime.sync_sessions() as session:
        after = sorted(
            (s.id, s.path, s.row_count, s.byte_size, s.min_ts, s.max_ts)
            for s in session.scalars(select(SegmentRow))
        )
    assert before and after == before


def test_the_bucket_storage_moves_reads_and_deletes_like_a_directory(
    store: ObjectStore, tmp_path: Path
) -> None:
    storage = S3Storage(f"s3://{store.bucket}/ops", store.endpoint_url, None)
    payload = gzip.compress(b"x\n" * 1000)
    for key in ("artifacts/j1/a/f.csv.gz", "artifacts/j1/b/g.csv.gz", "artifacts/j10/a/h.csv"):
        temp = tmp_path / "temp"
        temp.write_bytes(payload)
        assert storage.publish(temp, key) == len(payload) and not temp.exists()
    storage.move("artifacts/j1/a/f.csv.gz", "artifacts/j1/a/f.partial.csv.gz")
    with storage.open_read("artifacts/j1/a/f.partial.csv.gz") as handle:
        assert handle.read() == payload  # the bytes as stored, not inflated for the .gz
    with storage.local_copy("artifacts/j1/b/g.csv.gz") as copy:
        assert copy.name == "g.csv.gz" and copy.read_bytes() == payload  # named as stored
    assert not copy.exists()
    assert storage.folders("artifacts") == ["artifacts/j1", "artifacts/j10"]
    storage.delete_tree("artifacts/j1")  # not j10; and no empty marker objects left behind
    assert store.keys("ops/") == ["ops/artifacts/j10/a/h.csv"]
    with pytest.raises(FileNotFoundError), storage.local_copy("artifacts/j1/b/g.csv.gz"):
        pass
