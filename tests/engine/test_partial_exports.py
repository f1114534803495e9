"""An export that fails after writing rows: with `keep_partial` the rows written so far are
published as complete, readable files marked partial; without it nothing is left behind."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.export import ExportTask, PartialExport, Progress, run_export
from engine.options import ExportOptions
from engine.options.model import Split
from engine.segments import SegmentFile, write_segment
from tests.engine.schema_helpers import BINANCE, T0, TIME_AND_PRICE

ROWS_PER_SEGMENT = 100
SCHEMA = TIME_AND_PRICE


class Stop(Exception):
    """What a failure between batches looks like to the engine (a time limit, say)."""


def segments(tmp_path: Path, count: int) -> list[SegmentFile]:
    """`count` segments that do not overlap: the scan yields one batch per segment."""
    made = []
    for index in range(count):
        first = index * ROWS_PER_SEGMENT
        times = [T0 + (first + i) * 1_000 for i in range(ROWS_PER_SEGMENT)]
        messages = [json.dumps({"data": {"p": str(first + i)}}) for i in range(ROWS_PER_SEGMENT)]
        table = pa.table(
            {
                "collection_timestamp_ns": pa.array(times, pa.int64()),
                "data": pa.array(messages, pa.string()),
            }
        )
        made.append(write_segment(table, tmp_path / "segments" / f"{index}.parquet"))
    return made


def task(tmp_path: Path, fmt: str, compression: str, keep: bool, **options: object) -> ExportTask:
    return ExportTask(
        schema_spec=SCHEMA,
        context=BINANCE,
        segments=segments(tmp_path, 3),
        start_ns=T0,
        end_ns=T0 + 10**12,
        format=fmt,
        compression=compression,
        output_dir=tmp_path / "out",
        filename_stem="101_exp_test",
        options=ExportOptions(**{**ExportOptions.defaults(fmt).__dict__, **options}),
        keep_partial=keep,
    )


def fail_after(batches: int) -> Callable[[Progress], None]:
    """Progress is reported after each batch is written: fail once `batches` are."""
    calls = 0

    def on_progress(_progress: Progress) -> None:
        nonlocal calls
        calls += 1
        if calls == batches:
            raise Stop("stopped on purpose")

    return on_progress


def prices_in(path: Path) -> list[str]:
    if path.suffix == ".parquet":
        return [str(v) for v in pq.read_table(path).column("price").to_pylist()]
    text = gzip.decompress(path.read_bytes()).decode()
    return [row["price"] for row in csv.DictReader(io.StringIO(text))]


@pytest.mark.parametrize(("fmt", "compression"), [("CSV", "GZIP"), ("PARQUET", "NONE")])
def test_a_failure_keeps_the_rows_written_as_readable_partial_files(
    tmp_path: Path, fmt: str, compression: str
) -> None:
    with pytest.raises(PartialExport) as raised:
        run_export(task(tmp_path, fmt, compression, keep=True), fail_after(1))
    assert isinstance(raised.value.cause, Stop)
    [kept] = raised.value.files
    assert kept.partial and ".partial." in kept.filename
    assert kept.row_count == ROWS_PER_SEGMENT == len(prices_in(kept.path))
    assert prices_in(kept.path) == [str(i) for i in range(ROWS_PER_SEGMENT)]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [kept.filename]


def test_a_split_export_keeps_its_files_and_a_manifest_marked_partial(tmp_path: Path) -> None:
    split = Split(max_rows_per_file=60)
    with pytest.raises(PartialExport) as raised:
        run_export(task(tmp_path, "CSV", "GZIP", keep=True, split=split), fail_after(2))
    *files, manifest = raised.value.files
    assert [f.row_count for f in files] == [60, 60, 60, 20]  # two batches of 100 rows
    assert all(f.partial for f in raised.value.files)
    body = json.loads(manifest.path.read_text())
    assert body["partial"] is True and body["rowCount"] == 200
    assert manifest.filename == "101_exp_test.partial.manifest.json"


def test_without_keep_partial_the_failure_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(Stop):
        run_export(task(tmp_path, "CSV", "GZIP", keep=False), fail_after(1))
    assert list((tmp_path / "out").iterdir()) == []


def test_a_failure_before_any_row_keeps_nothing(tmp_path: Path) -> None:
    nothing = {"column": "price", "op": "eq", "value": "none of them"}
    with pytest.raises(Stop):
        run_export(task(tmp_path, "CSV", "GZIP", keep=True, filter=nothing), fail_after(1))
    assert list((tmp_path / "out").iterdir()) == []
