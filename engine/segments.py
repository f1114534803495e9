"""Immutable Parquet segments of records: writing them and scanning a time range.

A segment holds one datastream's records sorted by `collection_timestamp_ns`; row groups are
small enough that a scan of a narrow range reads little more than it needs, and their
min/max statistics prune the rest.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

RECORD_SCHEMA = pa.schema(
    [
        pa.field("collection_timestamp_ns", pa.int64(), nullable=False),
        pa.field("data", pa.string(), nullable=False),
    ]
)
ROW_GROUP_ROWS = 32_768
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
    pq.write_table(
        table.cast(RECORD_SCHEMA),
        tmp,
        compression="zstd",
        row_group_size=ROW_GROUP_ROWS,
        write_statistics=["collection_timestamp_ns"],
        use_dictionary=False,
    )
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    tmp.replace(final_path)
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

    Segments whose time ranges overlap are merged (read together and sorted); the rest are
    streamed row group by row group.
    """
    for cluster in _overlap_clusters(
        s for s in segments if s.max_ts >= start_ns and s.min_ts < end_ns
    ):
        if len(cluster) == 1:
            yield from _scan_file(cluster[0].path, start_ns, end_ns)
            continue
        parts = [t for s in cluster for t in _scan_file(s.path, start_ns, end_ns)]
        if parts:
            merged = pa.concat_tables(parts).sort_by("collection_timestamp_ns")
            for offset in range(0, merged.num_rows, SCAN_BATCH_ROWS):
                yield merged.slice(offset, SCAN_BATCH_ROWS)


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
    parquet = pq.ParquetFile(path)
    ts_index = parquet.schema_arrow.get_field_index("collection_timestamp_ns")
    for group in range(parquet.num_row_groups):
        stats = parquet.metadata.row_group(group).column(ts_index).statistics
        if (
            stats is not None
            and stats.has_min_max
            and (stats.max < start_ns or stats.min >= end_ns)
        ):
            continue
        table = parquet.read_row_group(group, columns=["collection_timestamp_ns", "data"])
        if stats is None or not (stats.min >= start_ns and stats.max < end_ns):
            ts = table.column("collection_timestamp_ns")
            mask = pc.and_(pc.greater_equal(ts, start_ns), pc.less(ts, end_ns))
            table = table.filter(mask)
        if table.num_rows:
            yield table
