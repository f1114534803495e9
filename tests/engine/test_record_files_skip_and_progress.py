"""Reading record files for imports that skip bad records (each reported with its line and
reason) and report progress in bytes of the stored file and records read."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.record_files import IngestError, Rejected, read_records


def read_skipping(
    path: Path, chunk_rows: int = 500_000
) -> tuple[list[tuple[int, str]], list[Rejected], list[tuple[int, int]]]:
    rejected: list[Rejected] = []
    progress: list[tuple[int, int]] = []
    tables = list(
        read_records(
            path,
            chunk_rows,
            on_reject=rejected.append,
            on_progress=lambda done, rows: progress.append((done, rows)),
        )
    )
    rows = [
        (ts, data)
        for table in tables
        for ts, data in zip(
            table["collection_timestamp_ns"].to_pylist(), table["data"].to_pylist(), strict=True
        )
    ]
    return rows, rejected, progress


def test_csv_bad_records_are_skipped_with_line_reason_and_text(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        "collection_timestamp_ns,data\n"
        '1,"{""a"":1}"\n'
        '2,"{not json"\n'
        "x3,{}\n"
        '4,"{""b"":2}",extra\n'
        '5,"[1]"\n'
        '6,"{""c"":3}"\n'
    )
    rows, rejected, progress = read_skipping(path)
    assert rows == [(1, '{"a":1}'), (6, '{"c":3}')]
    assert [(r.line, r.reason.split(":")[0]) for r in rejected] == [
        (3, "data is not valid JSON"),
        (4, "collection_timestamp_ns"),
        (5, "expected 2 fields, got 3"),
        (6, "data must be a JSON object, not an array"),
    ]
    assert rejected[0].text == "2,{not json"
    assert progress[-1] == (path.stat().st_size, 6)  # records read, the rejected ones too


def test_jsonl_gz_skips_and_counts_compressed_bytes(tmp_path: Path) -> None:
    lines = [b'{"collection_timestamp_ns": %d, "data": {"i": %d}}' % (i, i) for i in range(12_000)]
    lines[7] = b"not json at all"
    lines[11_000] = b'{"collection_timestamp_ns": 5, "data": null}'
    path = tmp_path / "r.jsonl.gz"
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    rows, rejected, progress = read_skipping(path, chunk_rows=4_000)
    assert len(rows) == 11_998
    assert [(r.line, r.text) for r in rejected] == [
        (8, "not json at all"),
        (11_001, '{"collection_timestamp_ns": 5, "data": null}'),
    ]
    assert "data must be a JSON object, not null" in rejected[1].reason
    # Progress rises to the size of the file as stored (compressed) and every record read.
    assert [r for _done, r in progress] == sorted(r for _done, r in progress)
    assert progress[-1] == (path.stat().st_size, 12_000)
    assert len(progress) > 2


def test_a_problem_of_the_file_fails_it_even_when_skipping(tmp_path: Path) -> None:
    header = tmp_path / "h.csv"
    header.write_text("ts,data\n1,{}\n")
    with pytest.raises(IngestError, match=r"h\.csv:1: expected header"):
        read_skipping(header)
    rows = b"".join(b'{"collection_timestamp_ns": %d, "data": {}}\n' % i for i in range(5000))
    truncated = tmp_path / "t.jsonl.gz"
    truncated.write_bytes(gzip.compress(rows)[:-40])
    with pytest.raises(IngestError, match=r"t\.jsonl\.gz:\d+: cannot read the file"):
        read_skipping(truncated)


def test_parquet_rows_are_skipped_or_fail_naming_the_row(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    table = pa.table(
        {
            "collection_timestamp_ns": pa.array([1, None, -3, 4, 5], pa.int64()),
            "data": ["{}", "{}", "{}", "[1]", None],
        }
    )
    pq.write_table(table, path)
    rows, rejected, progress = read_skipping(path)
    assert rows == [(1, "{}")]
    assert [(r.line, r.reason) for r in rejected] == [
        (2, "collection_timestamp_ns is null"),
        (3, "collection_timestamp_ns: -3 is negative"),
        (4, "data must be a JSON object"),
        (5, "data is null"),
    ]
    assert progress[-1] == (path.stat().st_size, 5)
    with pytest.raises(IngestError, match=r"r\.parquet, row 2: collection_timestamp_ns is null"):
        list(read_records(path))
