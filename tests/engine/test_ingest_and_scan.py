import gzip
from pathlib import Path

import pyarrow as pa
import pytest

from engine.record_files import IngestError, read_records
from engine.segments import SegmentFile, scan, write_segment


def test_csv_bad_line_reports_its_line_number(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text('collection_timestamp_ns,data\n1,"{""a"":1}"\n2,"{not json"\n')
    with pytest.raises(IngestError, match=r"r.csv:3: data is not valid JSON"):
        list(read_records(path))


def test_jsonl_gz_accepts_objects_and_strings_and_reports_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl.gz"
    path.write_bytes(
        gzip.compress(
            b'{"collection_timestamp_ns": 2, "data": {"x": [1, 2]}}\n'
            b'{"collection_timestamp_ns": "1", "data": "{\\"y\\": true}"}\n'
        )
    )
    [table] = list(read_records(path))
    assert table.to_pydict() == {
        "collection_timestamp_ns": [2, 1],
        "data": ['{"x":[1,2]}', '{"y": true}'],
    }
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"collection_timestamp_ns": 1, "data": {}}\n{"collection_timestamp_ns": -5, "data": {}}\n'
    )
    with pytest.raises(IngestError, match=r"bad.jsonl:2: collection_timestamp_ns is out of range"):
        list(read_records(bad))


def test_unknown_header_and_format(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("ts,data\n1,{}\n")
    with pytest.raises(IngestError, match=r"h\.csv:1: expected header"):
        list(read_records(tmp_path / "h.csv"))
    (tmp_path / "x.txt").write_text("")
    with pytest.raises(IngestError, match="unknown format"):
        list(read_records(tmp_path / "x.txt"))


def _segment(tmp_path: Path, name: str, timestamps: list[int]) -> SegmentFile:
    table = pa.table(
        {
            "collection_timestamp_ns": pa.array(timestamps, pa.int64()),
            "data": [f'{{"t":{t}}}' for t in timestamps],
        }
    )
    return write_segment(table, tmp_path / name)


def test_scan_is_half_open_sorted_and_merges_overlapping_segments(tmp_path: Path) -> None:
    a = _segment(tmp_path, "a.parquet", [5, 1, 3, 9])
    b = _segment(tmp_path, "b.parquet", [4, 2, 8])
    c = _segment(tmp_path, "c.parquet", [20, 30])
    assert (a.min_ts, a.max_ts, a.row_count) == (1, 9, 4)
    got = [t for table in scan([c, a, b], 2, 30) for t in table.column(0).to_pylist()]
    assert got == [2, 3, 4, 5, 8, 9, 20]
    assert list(scan([a], 10, 20)) == []
