"""Writers produce byte-identical files for identical content, whatever the file is called."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pytest

from engine.logical import LogicalType
from engine.options import ExportOptions
from engine.writers import _BackgroundWriter, open_writer

FIELDS = [("collection_timestamp_ns", LogicalType("timestamp")), ("data", LogicalType("json"))]
TABLE = pa.table(
    {
        "collection_timestamp_ns": pa.array([1, 2, 3], pa.int64()),
        "data": pa.array(['{"a":1}', '{"b":"x,y"}', "null"]),
    }
)


def _write(path: Path, fmt: str, compression: str) -> str:
    writer = open_writer(compression, FIELDS, path, ExportOptions.defaults(fmt).format_options)
    writer.write(TABLE)
    writer.close()
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("fmt", "compression"),
    [("CSV", "GZIP"), ("JSONL", "GZIP"), ("CSV", "NONE"), ("PARQUET", "NONE")],
)
def test_a_retried_attempt_writes_the_same_bytes(
    tmp_path: Path, fmt: str, compression: str
) -> None:
    first = _write(tmp_path / "attempt-1.tmp", fmt, compression)
    second = _write(tmp_path / "another-name.part", fmt, compression)
    assert first == second


class _FailingTarget:
    def write(self, data: bytes) -> None:
        raise OSError("disk full")

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_errors_of_the_compressing_thread_reach_the_writer() -> None:
    writer = _BackgroundWriter(_FailingTarget())
    writer.write(b"rows")
    with pytest.raises(OSError, match="disk full"):
        writer.flush()
    with pytest.raises(OSError, match="disk full"):
        writer.close()
