"""Segments and exports through a remote pyarrow filesystem (S3, on a moto server): the same
records and bytes as on local disk, nothing under a final key before the file is complete,
no staging files left behind, and large files uploaded in parts."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.export import ExportTask, run_export
from engine.files import publish_file
from engine.options.model import Split
from engine.segments import SegmentFile, merge_segments, scan, write_segment
from tests.engine.test_partial_exports import Stop, fail_after, task
from tests.helpers.object_store import ObjectStore, object_store


@pytest.fixture(scope="module")
def store() -> Iterator[ObjectStore]:
    with object_store() as started:
        yield started


@pytest.fixture(autouse=True)
def staging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Local staging files go here, so that a test can see none is left behind."""
    folder = tmp_path / "staging"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _records(times: list[int]) -> pa.Table:
    return pa.table(
        {
            "collection_timestamp_ns": pa.array(times, pa.int64()),
            "data": [f'{{"t":{t}}}' for t in times],
        }
    )


def _times(tables: Iterator[pa.Table]) -> list[int]:
    return [t for table in tables for t in table.column(0).to_pylist()]


def test_segments_are_written_scanned_and_merged_through_the_bucket(
    store: ObjectStore, staging: Path
) -> None:
    fs, root = store.filesystem(), f"{store.bucket}/engine/segments/7"
    a = write_segment(_records([5, 1, 3, 9]), Path(f"{root}/a.parquet"), filesystem=fs)
    b = write_segment(_records([4, 2, 8]), Path(f"{root}/b.parquet"), filesystem=fs)
    assert store.keys("engine/") == ["engine/segments/7/a.parquet", "engine/segments/7/b.parquet"]
    assert (a.min_ts, a.max_ts, a.row_count) == (1, 9, 4)
    head = store.client().head_object(Bucket=store.bucket, Key="engine/segments/7/a.parquet")
    assert a.byte_size == head["ContentLength"]
    # Overlapping segments are merged, the range is half open, row groups pruned as locally.
    assert _times(scan([b, a], 2, 9)) == [2, 3, 4, 5, 8]
    merged = merge_segments([a, b], Path(f"{root}/m.parquet"), filesystem=fs)
    assert (merged.row_count, merged.min_ts, merged.max_ts) == (7, 1, 9)
    body = store.client().get_object(Bucket=store.bucket, Key="engine/segments/7/m.parquet")
    table = pq.read_table(io.BytesIO(body["Body"].read()))  # an independent reader
    assert table.column("collection_timestamp_ns").to_pylist() == [1, 2, 3, 4, 5, 8, 9]
    assert _times(scan([SegmentFile(merged.path, 1, 9, 7, filesystem=fs)], 0, 100)) == [
        1, 2, 3, 4, 5, 8, 9
    ]  # fmt: skip
    assert list(staging.iterdir()) == []


def _remote(local: ExportTask, store: ObjectStore, prefix: str) -> ExportTask:
    return dataclasses.replace(
        local,
        output_dir=Path(f"{store.bucket}/{prefix}"),
        filesystem=store.filesystem(),
    )


def _object(store: ObjectStore, key: str) -> bytes:
    body: bytes = store.client().get_object(Bucket=store.bucket, Key=key)["Body"].read()
    return body


@pytest.mark.parametrize(("fmt", "compression"), [("CSV", "GZIP"), ("PARQUET", "NONE")])
def test_an_export_lands_in_the_bucket_with_the_bytes_of_a_local_one(
    store: ObjectStore, staging: Path, tmp_path: Path, fmt: str, compression: str
) -> None:
    local = task(tmp_path, fmt, compression, keep=False, split=Split(max_rows_per_file=70))
    expected = run_export(local, lambda *_: None)
    prefix = f"exports/{fmt}"
    files = run_export(_remote(local, store, prefix), lambda *_: None)
    assert [f.filename for f in files] == [f.filename for f in expected]
    assert store.keys(prefix) == sorted(f"{prefix}/{f.filename}" for f in files)
    for remote, on_disk in zip(files, expected, strict=True):
        body = _object(store, f"{prefix}/{remote.filename}")
        assert hashlib.sha256(body).hexdigest() == remote.sha256 == on_disk.sha256
        assert len(body) == remote.byte_size
        assert str(remote.path) == f"{store.bucket}/{prefix}/{remote.filename}"
    assert list(staging.iterdir()) == []


def test_a_failed_export_leaves_nothing_in_the_bucket_nor_on_local_disk(
    store: ObjectStore, staging: Path, tmp_path: Path
) -> None:
    remote = _remote(task(tmp_path, "CSV", "GZIP", keep=False), store, "exports/failed")
    with pytest.raises(Stop):
        run_export(remote, fail_after(2))
    assert store.keys("exports/failed") == []
    assert list(staging.iterdir()) == []


def test_a_large_file_goes_up_in_parts_and_appears_only_complete(
    store: ObjectStore, tmp_path: Path
) -> None:
    local = tmp_path / "big.bin"
    local.write_bytes(os.urandom(11 << 20))  # past one 10 MiB part
    digest = hashlib.sha256(local.read_bytes()).hexdigest()
    size = publish_file(local, Path(f"{store.bucket}/big/big.bin"), store.filesystem())
    head = store.client().head_object(Bucket=store.bucket, Key="big/big.bin")
    assert size == head["ContentLength"] == 11 << 20
    assert "-" in head["ETag"]  # a multipart upload's ETag: <md5 of the parts' md5s>-<count>
    assert hashlib.sha256(_object(store, "big/big.bin")).hexdigest() == digest
    assert not local.exists()  # the local copy is gone once uploaded
