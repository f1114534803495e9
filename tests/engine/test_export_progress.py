"""What the engine reports while it exports: compressed bytes as they reach the file (not
only once it is closed), output rows, and input records read, each after every batch."""

from __future__ import annotations

import gzip
import json
import os
import random
from pathlib import Path

import pyarrow as pa
import pytest

import engine.writers
from engine.export import ExportTask, Progress, run_export
from engine.logical import LogicalType
from engine.options import ExportOptions
from engine.segments import SegmentFile, write_segment
from engine.writers import open_writer
from tests.engine.schema_helpers import BINANCE, T0, TIME_AND_PRICE

FIELDS = [("collection_timestamp_ns", LogicalType("timestamp")), ("data", LogicalType("json"))]
SCHEMA = TIME_AND_PRICE


@pytest.fixture
def small_gzip_members(monkeypatch: pytest.MonkeyPatch) -> None:
    """Members of 4 KiB compressed on one thread (at most two wait): output reaches the file
    after a few KiB of input, whatever machine runs the test."""
    monkeypatch.setattr(engine.writers, "GZIP_BLOCK_BYTES", 4096)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)


def _noise(rows: int, seed: int) -> pa.Table:
    """Rows that barely compress, so that compressed bytes follow the input closely."""
    rng = random.Random(seed)
    return pa.table(
        {
            "collection_timestamp_ns": pa.array(range(rows), pa.int64()),
            "data": pa.array([json.dumps({"x": rng.randbytes(24).hex()}) for _ in range(rows)]),
        }
    )


def test_gzip_bytes_written_grow_while_rows_are_written(
    tmp_path: Path, small_gzip_members: None
) -> None:
    path = tmp_path / "out.csv.gz"
    options = ExportOptions.defaults("CSV").format_options
    writer = open_writer("GZIP", FIELDS, path, options)
    seen = []
    for chunk in range(40):
        writer.write(_noise(50, chunk))  # about 4 KiB of CSV
        seen.append(writer.bytes_written())
    writer.close()
    final = writer.bytes_written()
    assert final == path.stat().st_size
    assert seen == sorted(seen) and seen[-1] <= final
    assert seen[-1] > final / 2  # most of the file was counted before it was closed
    assert len(set(seen)) > 10  # and it grew along the way, not in one step at the end
    assert len(gzip.decompress(path.read_bytes()).splitlines()) == 1 + 40 * 50


def _segments(tmp_path: Path, count: int, rows: int) -> list[SegmentFile]:
    made = []
    rng = random.Random(7)
    for index in range(count):
        first = index * rows
        times = [T0 + (first + i) * 1_000 for i in range(rows)]
        messages = [json.dumps({"data": {"p": rng.randbytes(16).hex()}}) for _ in range(rows)]
        table = pa.table(
            {
                "collection_timestamp_ns": pa.array(times, pa.int64()),
                "data": pa.array(messages, pa.string()),
            }
        )
        made.append(write_segment(table, tmp_path / "segments" / f"{index}.parquet"))
    return made


def test_an_export_reports_compressed_bytes_rows_and_records_after_every_batch(
    tmp_path: Path, small_gzip_members: None
) -> None:
    segments = _segments(tmp_path, 20, 100)
    filtered = {"column": "price", "op": "gt", "value": "8"}  # hex > "8": about half the rows
    task = ExportTask(
        schema_spec=SCHEMA,
        context=BINANCE,
        segments=segments,
        start_ns=T0,
        end_ns=T0 + 10**12,
        format="CSV",
        compression="GZIP",
        output_dir=tmp_path / "out",
        filename_stem="101_exp_test",
        options=ExportOptions(**{**ExportOptions.defaults("CSV").__dict__, "filter": filtered}),
    )
    reports: list[Progress] = []
    [artifact] = run_export(task, reports.append)
    *during, last = reports
    assert last == Progress(artifact.row_count, artifact.byte_size, 20 * 100)
    assert [p.records_read for p in during] == [100 * (i + 1) for i in range(20)]
    assert 0 < artifact.row_count < 20 * 100  # rows are not records
    sizes = [p.bytes_written for p in during]
    assert sizes == sorted(sizes) and len(set(sizes)) > 5 and sizes[-1] > 0
    rows = [p.rows_written for p in during]
    assert rows == sorted(rows) and rows[-1] == artifact.row_count
