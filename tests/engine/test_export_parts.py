"""An export run in parts: the engine's side. A part writes its range's files and no manifest;
the manifest written afterwards over every part's files is the whole export's; the period grid
is the one a split by period puts in separate files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from engine.export import partial_filename, period_bounds, run_export, write_manifest
from engine.options.model import Split
from engine.timestamps import parse_timestamp
from tests.engine.test_partial_exports import ROWS_PER_SEGMENT, task


def _ns(text: str) -> int:
    return parse_timestamp(text)


@pytest.mark.parametrize(
    ("by", "start", "end", "inner"),
    [
        ("HOUR", "2024-03-01T00:30:00Z", "2024-03-01T02:10:00Z", ["01:00", "02:00"]),
        ("DAY", "2024-02-28T12:00:00Z", "2024-03-01T00:00:01Z", ["02-29", "03-01"]),
        ("WEEK", "2024-03-01T00:00:00Z", "2024-03-12T00:00:00Z", ["03-04", "03-11"]),
        ("MONTH", "2024-01-15T00:00:00Z", "2024-03-02T00:00:00Z", ["02-01", "03-01"]),
    ],
)
def test_period_bounds_are_the_split_periods_clipped_to_the_range(
    by: str, start: str, end: str, inner: list[str]
) -> None:
    def at(short: str) -> int:
        day = short if "-" in short else "03-01"
        time = short if ":" in short else "00:00"
        return _ns(f"2024-{day}T{time}:00Z")

    bounds = period_bounds(_ns(start), _ns(end), by)
    assert bounds == [_ns(start), *map(at, inner), _ns(end)]
    stamps = pa.array(bounds[1:-1], pa.timestamp("ns", "UTC"))
    floored = pc.floor_temporal(stamps, unit=by.lower(), week_starts_monday=True)
    assert floored.cast(pa.int64()).to_pylist() == bounds[1:-1]  # period starts, as split uses


def test_a_part_writes_no_manifest_and_write_manifest_gives_the_whole_exports(
    tmp_path: Path,
) -> None:
    split = Split(max_rows_per_file=70)
    whole = task(tmp_path / "whole", "CSV", "GZIP", keep=False, split=split)
    *files, manifest = run_export(whole, lambda *_: None)
    part = dataclasses.replace(whole, output_dir=tmp_path / "part", manifest=False)
    assert [f.sha256 for f in run_export(part, lambda *_: None)] == [f.sha256 for f in files]
    again = write_manifest(dataclasses.replace(whole, output_dir=tmp_path / "m"), files)
    assert (again.filename, again.sha256) == (manifest.filename, manifest.sha256)
    assert sum(f.row_count for f in files) == 3 * ROWS_PER_SEGMENT


def test_a_partial_name_is_the_name_a_failed_export_gives_its_files(tmp_path: Path) -> None:
    whole = task(tmp_path, "CSV", "GZIP", keep=False)
    assert partial_filename(whole, "101_a_b.csv.gz") == "101_a_b.partial.csv.gz"
    assert partial_filename(whole, "101_a_b.partial.csv.gz") == "101_a_b.partial.csv.gz"
