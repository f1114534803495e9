import gzip
import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from engine.record_files import IngestError, read_records
from engine.segments import SegmentFile, read_ahead, scan, write_segment


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
    with pytest.raises(IngestError, match=r"bad.jsonl:2: collection_timestamp_ns: -5 is out of"):
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


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        (
            '{"collection_timestamp_ns": 1, "data": [1, 2]}',
            "data must be a JSON object, not an array",
        ),
        ('{"collection_timestamp_ns": 1, "data": 5}', "not a number"),
        ('{"collection_timestamp_ns": 1, "data": null}', "not null"),
        ('{"collection_timestamp_ns": 1, "data": "[1]"}', "not an array"),
        ('{"collection_timestamp_ns": "\u00b2", "data": {}}', "collection_timestamp_ns"),
        ('{"collection_timestamp_ns": "1_000", "data": {}}', "collection_timestamp_ns"),
    ],
)
def test_messages_are_objects_and_timestamps_ascii_integers(
    tmp_path: Path, line: str, fragment: str
) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"collection_timestamp_ns": 1, "data": {}}\n' + line + "\n")
    with pytest.raises(IngestError, match=rf"r\.jsonl:2: .*{fragment}"):
        list(read_records(path))


def test_a_truncated_gzip_and_bytes_that_are_not_utf8_name_file_and_line(tmp_path: Path) -> None:
    rows = b"".join(b'{"collection_timestamp_ns": %d, "data": {}}\n' % i for i in range(5000))
    truncated = tmp_path / "t.jsonl.gz"
    truncated.write_bytes(gzip.compress(rows)[:-40])
    with pytest.raises(IngestError, match=r"t\.jsonl\.gz:\d+: cannot read the file"):
        list(read_records(truncated))
    latin = tmp_path / "l.csv"
    latin.write_bytes(b'collection_timestamp_ns,data\n1,"{""a"":""\xe9""}"\n')
    with pytest.raises(IngestError, match=r"l\.csv:\d+: not UTF-8"):
        list(read_records(latin))


def test_parquet_messages_must_be_objects(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    path = tmp_path / "r.parquet"
    table = pa.table({"collection_timestamp_ns": [1, 2, 3], "data": ["{}", " {}", "[1]"]})
    pq.write_table(table, path)
    with pytest.raises(IngestError, match=r"r\.parquet, row 3: data must be a JSON object"):
        list(read_records(path))


def test_merge_of_sorted_streams_is_sorted_complete_and_bounded(tmp_path: Path) -> None:
    """Three overlapping segments, read a small batch at a time: the merge never holds more
    than about a batch per stream, and keeps every record, in order, ties in stream order."""
    import random

    from engine.segments import merge_sorted

    rng = random.Random(3)
    streams_rows = [sorted(rng.randrange(0, 2_000) for _ in range(900)) for _ in range(3)]

    def stream(index: int, rows: list[int]) -> Iterator[pa.Table]:
        for offset in range(0, len(rows), 50):
            part = rows[offset : offset + 50]
            yield pa.table(
                {
                    "collection_timestamp_ns": pa.array(part, pa.int64()),
                    "data": [f'{{"s":{index},"t":{t}}}' for t in part],
                }
            )

    out = list(merge_sorted([stream(i, rows) for i, rows in enumerate(streams_rows)]))
    times = [t for table in out for t in table.column(0).to_pylist()]
    assert times == sorted(t for rows in streams_rows for t in rows)
    assert max(table.num_rows for table in out) <= 3 * 50
    data = [d for table in out for d in table.column(1).to_pylist()]
    sent = [f'{{"s":{i},"t":{t}}}' for i, rows in enumerate(streams_rows) for t in rows]
    assert sorted(data) == sorted(sent)  # nothing lost, nothing doubled


def test_merged_segment_equals_a_scan_of_its_parts(tmp_path: Path) -> None:
    from engine.segments import merge_segments

    a = _segment(tmp_path, "a.parquet", [5, 1, 3, 9])
    b = _segment(tmp_path, "b.parquet", [4, 2, 8, 9])
    merged = merge_segments([a, b], tmp_path / "m.parquet")
    assert (merged.min_ts, merged.max_ts, merged.row_count) == (1, 9, 8)
    assert [t for table in scan([merged], 0, 100) for t in table.column(0).to_pylist()] == [
        t for table in scan([a, b], 0, 100) for t in table.column(0).to_pylist()
    ]


def test_read_ahead_gives_every_batch_in_order_and_raises_where_the_error_was() -> None:
    def batches() -> Iterator[int]:
        yield from range(5)
        raise OSError("disk gone")

    got = []
    with pytest.raises(OSError, match="disk gone"):
        for batch in read_ahead(batches()):
            got.append(batch)
    assert got == [0, 1, 2, 3, 4]


def test_read_ahead_closed_early_stops_reading_and_its_thread() -> None:
    produced: list[int] = []
    closed = threading.Event()

    def batches() -> Iterator[int]:
        try:
            for index in range(1_000):
                produced.append(index)
                yield index
        finally:
            closed.set()

    ahead = read_ahead(batches(), depth=2)
    assert [next(ahead), next(ahead)] == [0, 1]
    ahead.close()
    assert closed.is_set()  # the source was closed, on the reading thread, before close returned
    assert len(produced) <= 2 + 2 + 1  # taken, queued, and the one being read
    assert not [t for t in threading.enumerate() if t.name == "read-ahead"]
