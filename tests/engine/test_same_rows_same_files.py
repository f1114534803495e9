"""The same request over the same records gives the same files, byte for byte, however the
records are laid out in segments (one batch per segment: compaction merges them, so a retried
job may read them in other batches than its first attempt did). maxBytesPerFile is the case
to watch: a file is settled to be measured (which ends a gzip member, a zstd block or a
Parquet row group), and where it is full depends on what was measured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from engine.export import ExportTask, run_export
from engine.options import ExportOptions
from engine.options.model import Split
from engine.segments import SegmentFile, write_segment
from tests.engine.schema_helpers import BINANCE, T0, TIME_AND_PRICE, column, mapping, meta, schema

ROWS = 8_000
MAX_BYTES = 16_000  # several files, each measured several times
BY_SIZE = Split(max_bytes_per_file=MAX_BYTES)
SCHEMA = TIME_AND_PRICE


def segments(folder: Path, rows_per_segment: int) -> list[SegmentFile]:
    """The same ROWS records, cut into segments of `rows_per_segment`."""
    made = []
    for first in range(0, ROWS, rows_per_segment):
        numbers = range(first, min(first + rows_per_segment, ROWS))
        table = pa.table(
            {
                "collection_timestamp_ns": pa.array([T0 + n * 1_000 for n in numbers], pa.int64()),
                "data": pa.array([json.dumps(_message(n)) for n in numbers]),
            }
        )
        made.append(write_segment(table, folder / "segments" / f"{first}.parquet"))
    return made


def _message(n: int) -> dict[str, object]:
    """A trade: some values repeat in a batch (the symbol), some need escaping in JSON."""
    return {
        "data": {
            "p": f"{n * 7919 % 100_003}.{n % 97}",
            "s": "BTCUSDT",
            "m": n % 3 == 0,
            "t": 3_300_000_000 + n,
            "note": 'say "hi"\\' if n % 50 == 0 else f"trade {n}",
        }
    }


def exported(
    folder: Path,
    rows_per_segment: int,
    fmt: str,
    compression: str,
    schema: dict[str, Any] = SCHEMA,
    split: Split | None = BY_SIZE,
) -> list[tuple[str, int, int, bytes]]:
    options = {**ExportOptions.defaults(fmt).__dict__, "split": split}
    task = ExportTask(
        schema_spec=schema,
        context=BINANCE,
        segments=segments(folder, rows_per_segment),
        start_ns=T0,
        end_ns=T0 + 10**12,
        format=fmt,
        compression=compression,
        output_dir=folder / "out",
        filename_stem="101_exp_test",
        options=ExportOptions(**options),
        keep_partial=False,
    )
    files = run_export(task, lambda _progress: None)
    return [(f.filename, f.row_count, f.byte_size, f.path.read_bytes()) for f in files]


@pytest.mark.parametrize(
    ("fmt", "compression"), [("CSV", "GZIP"), ("JSONL", "ZSTD"), ("PARQUET", "NONE")]
)
def test_files_split_by_size_do_not_depend_on_how_the_records_are_batched(
    tmp_path: Path, fmt: str, compression: str
) -> None:
    small_batches = exported(tmp_path / "small", 100, fmt, compression)
    large_batches = exported(tmp_path / "large", 3_000, fmt, compression)
    assert len(small_batches) > 2
    assert [f[:3] for f in small_batches] == [f[:3] for f in large_batches]
    assert small_batches == large_batches


# Every path of the writers that looks at a whole batch: a column the same on every row (the
# symbol, joined into the line's constant text), text that needs escaping in some batches
# only (the note), a transform per row, and a JSON column re-serialized from each message.
WHOLE_BATCH_PATHS = schema(
    meta("ts", "collection_timestamp_ns"),
    column("price", binance=mapping("data.p", "decimal(8)")),
    column("trade_id", binance=mapping("data.t", "int")),
    column("side", binance=mapping("data.m", "bool", "CASE WHEN {v} THEN 'sell' ELSE 'buy' END")),
    column("symbol", binance=mapping("data.s", "string", "lower({v})")),
    column("note", binance=mapping("data.note", "string")),
    column("message", binance=mapping("data", "json")),
)


@pytest.mark.parametrize(
    ("fmt", "compression"),
    [("JSONL", "NONE"), ("JSONL", "GZIP"), ("CSV", "NONE"), ("PARQUET", "NONE")],
)
def test_one_file_does_not_depend_on_how_the_records_are_batched(
    tmp_path: Path, fmt: str, compression: str
) -> None:
    """A retried job must keep its sha256 even when compaction merged the segments its first
    attempt read: the same rows give the same bytes, whatever the batches."""
    files = [
        exported(tmp_path / str(rows), rows, fmt, compression, WHOLE_BATCH_PATHS, split=None)
        for rows in (37, 1_000, ROWS)
    ]
    [(_, rows, _, content)] = files[0]
    assert rows == ROWS and len(content) > ROWS
    assert files[1] == files[0]
    assert files[2] == files[0]
