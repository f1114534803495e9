"""Immutable Parquet segments of records: writing them and scanning a time range.

A segment holds one datastream's records sorted by `collection_timestamp_ns`; row groups are
small enough that a scan of a narrow range reads little more than it needs, and their
min/max statistics prune the rest.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engine.files import publish_file

RECORD_SCHEMA = pa.schema(
    [
        pa.field("collection_timestamp_ns", pa.int64(), nullable=False),
        pa.field("data", pa.string(), nullable=False),
    ]
)
ROW_GROUP_ROWS = 32_768
# Row groups carry time statistics, so that a scan skips those outside its range.
_WRITE_OPTIONS: dict[str, object] = {
    "compression": "zstd",
    "write_statistics": ["collection_timestamp_ns"],
    "use_dictionary": False,
}
SCAN_BATCH_ROWS = 65_536


def records_table(records: Sequence[tuple[int, str]]) -> pa.Table:
    """(collection timestamp ns, message text) pairs as a table of the record schema."""
    return pa.table(
        [pa.array([ts for ts, _ in records], pa.int64()), pa.array([text for _, text in records])],
        schema=RECORD_SCHEMA,
    )


@dataclass(frozen=True)
class SegmentFile:
    """A segment as the catalog knows it."""

    path: str
    min_ts: int
    max_ts: int
    row_count: int
    byte_size: int = 0


def write_segment(table: pa.Table, final_path: Path) -> SegmentFile:
    """Sort and write `table` atomically (temp name, fsync, rename)."""
    table = table.sort_by("collection_timestamp_ns")
    final_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = final_path.with_name(f".{final_path.name}.tmp")
    pq.write_table(table.cast(RECORD_SCHEMA), tmp, row_group_size=ROW_GROUP_ROWS, **_WRITE_OPTIONS)
    publish_file(tmp, final_path)
    timestamps = table.column("collection_timestamp_ns")
    return SegmentFile(
        path=str(final_path),
        min_ts=pc.min(timestamps).as_py(),
        max_ts=pc.max(timestamps).as_py(),
        row_count=table.num_rows,
        byte_size=final_path.stat().st_size,
    )


def scan(segments: Sequence[SegmentFile], start_ns: int, end_ns: int) -> Iterator[pa.Table]:
    """Records with start_ns <= ts < end_ns, in timestamp order, in bounded batches.

    Segments whose time ranges overlap are merged as sorted streams (a k-way merge that holds
    one batch per segment); the rest are streamed row group by row group.
    """
    for cluster in _overlap_clusters(
        s for s in segments if s.max_ts >= start_ns and s.min_ts < end_ns
    ):
        if len(cluster) == 1:
            yield from _scan_file(cluster[0].path, start_ns, end_ns)
            continue
        streams = [_scan_file(s.path, start_ns, end_ns) for s in cluster]
        for merged in merge_sorted(streams):
            for offset in range(0, merged.num_rows, SCAN_BATCH_ROWS):
                yield merged.slice(offset, SCAN_BATCH_ROWS)


def merge_sorted(
    streams: Sequence[Iterator[pa.Table]], key: str = "collection_timestamp_ns"
) -> Iterator[pa.Table]:
    """Merge streams of tables, each sorted by the int64 column `key` (the collection time),
    into one sorted stream, a step at a time: every buffered row up to the frontier (the
    smallest last time buffered by a stream that has more to give: no later row of any stream
    is earlier) is sorted and emitted. Memory holds about one batch per stream; equal times
    keep the streams' order (the sort is stable). Streams read lazily, a batch when needed."""
    sources = list(streams)
    buffers: list[pa.Table | None] = [None] * len(sources)
    exhausted = [False] * len(sources)

    def refill(index: int) -> None:
        """Make the stream's buffer non-empty, unless the stream has nothing more."""
        while not exhausted[index]:
            buffer = buffers[index]
            if buffer is not None and buffer.num_rows:
                return
            batch = next(sources[index], None)
            if batch is None:
                exhausted[index], buffers[index] = True, None
            else:
                buffers[index] = batch

    for index in range(len(sources)):
        refill(index)
    while any(b is not None and b.num_rows for b in buffers):
        lasts = [
            b.column(key)[-1].as_py()
            for b, done in zip(buffers, exhausted, strict=True)
            if b is not None and b.num_rows and not done
        ]
        frontier = min(lasts) if lasts else None
        taken = []
        for index, buffer in enumerate(buffers):
            if buffer is None or not buffer.num_rows:
                continue
            times = buffer.column(key)
            cut = (
                buffer.num_rows
                if frontier is None
                else pc.sum(pc.less_equal(times, frontier)).as_py() or 0  # sorted: a prefix
            )
            taken.append(buffer.slice(0, cut))
            buffers[index] = buffer.slice(cut)
            refill(index)
        step = pa.concat_tables(taken, promote_options="permissive")
        if step.num_rows:
            order = pc.sort_indices(step, [(key, "ascending")])
            yield step.take(order)


def merge_segments(segments: Sequence[SegmentFile], final_path: Path) -> SegmentFile:
    """One segment holding every record of `segments`, sorted, written atomically (temporary
    name, fsync, rename) with bounded memory: compaction of many small segments."""
    streams = [_scan_file(s.path, -(2**63), 2**63 - 1) for s in segments]
    final_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = final_path.with_name(f".{final_path.name}.tmp")
    rows, first, last = 0, None, None
    with pq.ParquetWriter(tmp, RECORD_SCHEMA, **_WRITE_OPTIONS) as writer:
        for table in merge_sorted(streams):
            writer.write_table(table.cast(RECORD_SCHEMA), row_group_size=ROW_GROUP_ROWS)
            times = table.column("collection_timestamp_ns")
            first = times[0].as_py() if first is None else first
            last, rows = times[-1].as_py(), rows + table.num_rows
    publish_file(tmp, final_path)
    assert first is not None and last is not None, "compaction of empty segments"
    return SegmentFile(str(final_path), first, last, rows, final_path.stat().st_size)


def _overlap_clusters(segments: Iterator[SegmentFile]) -> Iterator[list[SegmentFile]]:
    cluster: list[SegmentFile] = []
    cluster_end = None
    for segment in sorted(segments, key=lambda s: (s.min_ts, s.max_ts)):
        if cluster and cluster_end is not None and segment.min_ts > cluster_end:
            yield cluster
            cluster = []
        cluster.append(segment)
        cluster_end = segment.max_ts if len(cluster) == 1 else max(cluster_end or 0, segment.max_ts)
    if cluster:
        yield cluster


def _scan_file(path: str, start_ns: int, end_ns: int) -> Iterator[pa.Table]:
    """The file's records in range, a row group at a time. The file is open only while a row
    group is read: a merge of thousands of streams waits on as many scans at once, and must
    not hold as many file descriptors."""
    metadata = pq.read_metadata(path)
    ts_index = metadata.schema.to_arrow_schema().get_field_index("collection_timestamp_ns")
    for group in range(metadata.num_row_groups):
        stats = metadata.row_group(group).column(ts_index).statistics
        if (
            stats is not None
            and stats.has_min_max
            and (stats.max < start_ns or stats.min >= end_ns)
        ):
            continue
        with pq.ParquetFile(path, metadata=metadata) as parquet:
            table = parquet.read_row_group(group, columns=["collection_timestamp_ns", "data"])
        if stats is None or not (stats.min >= start_ns and stats.max < end_ns):
            ts = table.column("collection_timestamp_ns")
            mask = pc.and_(pc.greater_equal(ts, start_ns), pc.less(ts, end_ns))
            table = table.filter(mask)
        if table.num_rows:
            yield table
