"""Immutable Parquet segments of records: writing them and scanning a time range.

A segment holds one datastream's records sorted by `collection_timestamp_ns`; row groups are
small enough that a scan of a narrow range reads little more than it needs, and their
min/max statistics prune the rest.
"""

from __future__ import annotations

import contextlib
import functools
import io
import queue
import threading
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from engine.export_schema.compiled import DECODED_COLUMN
from engine.files import publish_file, temporary_for
from engine.segment_meta import DESCRIPTION_KEY, SegmentLabel, described, with_description
from engine.shred import Shredder, metadata, stored_checked, stored_key, with_decoded

RECORD_SCHEMA = pa.schema(
    [
        pa.field("collection_timestamp_ns", pa.int64(), nullable=False),
        pa.field("data", pa.string(), nullable=False),
    ]
)
ROW_GROUP_ROWS = 32_768
# Collection times grow from row to row: stored as differences, a few bits each.
_TIME_ENCODING = {"collection_timestamp_ns": "DELTA_BINARY_PACKED"}
# Row groups carry time statistics, so that a scan skips those outside its range.
_WRITE_OPTIONS: dict[str, object] = {
    "compression": "zstd",
    "write_statistics": ["collection_timestamp_ns"],
    "use_dictionary": False,
    "column_encoding": _TIME_ENCODING,
}
SCAN_BATCH_ROWS = 65_536

T = TypeVar("T")


def _write_options(schema: pa.Schema) -> dict[str, object]:
    """The record columns and, when there is one, a decoded column (see `engine.shred`) with
    statistics on its leaves. Integers (collection and exchange times, trade ids) grow from
    row to row: stored as differences (DELTA_BINARY_PACKED), a few bits each. Text (prices,
    sizes, symbols) is PLAIN under zstd: about as small as DELTA_BYTE_ARRAY (zstd finds the
    shared prefixes too) and half the CPU to read, and every export reads it."""
    if DECODED_COLUMN not in schema.names:
        return _WRITE_OPTIONS
    leaves = _decoded_leaves(schema.field(DECODED_COLUMN).type)
    return _WRITE_OPTIONS | {
        "write_statistics": ["collection_timestamp_ns", *(path for path, _ in leaves)],
        "column_encoding": _TIME_ENCODING
        | {path: "DELTA_BINARY_PACKED" for path, kind in leaves if kind == "INT64"},
    }


@functools.cache
def _decoded_leaves(decoded_type: pa.DataType) -> tuple[tuple[str, str], ...]:
    """The Parquet paths and physical types of the decoded column's leaves."""
    empty = pa.table([pa.array([], decoded_type)], names=[DECODED_COLUMN])
    buffer = io.BytesIO()
    pq.write_table(empty, buffer)
    schema = pq.read_metadata(io.BytesIO(buffer.getvalue())).schema
    return tuple(
        (schema.column(i).path, schema.column(i).physical_type) for i in range(len(schema))
    )


def records_table(records: Sequence[tuple[int, str]]) -> pa.Table:
    """(collection timestamp ns, message text) pairs as a table of the record schema."""
    return pa.table(
        [pa.array([ts for ts, _ in records], pa.int64()), pa.array([text for _, text in records])],
        schema=RECORD_SCHEMA,
    )


@dataclass(frozen=True)
class SegmentFile:
    """A segment as the catalog knows it: `path` in `filesystem` (local disk when None)."""

    path: str
    min_ts: int
    max_ts: int
    row_count: int
    byte_size: int = 0
    filesystem: pafs.FileSystem | None = field(default=None, compare=False)


def write_segment(
    table: pa.Table,
    final_path: Path,
    shredder: Shredder | None = None,
    label: SegmentLabel | None = None,
    filesystem: pafs.FileSystem | None = None,
) -> SegmentFile:
    """Sort and write `table` atomically (temp name, fsync, rename; or a local file copied to
    `filesystem`, see `engine.files`); with a `shredder`, the messages decoded by its schema
    are stored beside them (see `engine.shred`); with a `label`, the file describes itself
    (see `engine.segment_meta`)."""
    table = table.sort_by("collection_timestamp_ns")
    timestamps = table.column("collection_timestamp_ns")
    first, last = pc.min(timestamps).as_py(), pc.max(timestamps).as_py()
    stored = with_decoded(table.cast(RECORD_SCHEMA), shredder)
    stored = with_description(stored, label, first, last)
    with temporary_for(final_path, filesystem) as tmp:
        pq.write_table(stored, tmp, row_group_size=ROW_GROUP_ROWS, **_write_options(stored.schema))
        size = publish_file(tmp, final_path, filesystem)
    return SegmentFile(
        path=str(final_path),
        min_ts=first,
        max_ts=last,
        row_count=table.num_rows,
        byte_size=size,
        filesystem=filesystem,
    )


def scan(
    segments: Sequence[SegmentFile],
    start_ns: int,
    end_ns: int,
    decoded_key: str | None = None,
    raw: bool = True,
    threads: bool = True,
) -> Iterator[pa.Table]:
    """Records with start_ns <= ts < end_ns, in timestamp order, in bounded batches.

    Segments whose time ranges overlap are merged as sorted streams (a k-way merge that holds
    one batch per segment); the rest are streamed row group by row group.

    With a `decoded_key`, segments that store a decoded column under that key give it too
    (and, unless `raw`, not the message text); a batch either has it for every record or
    not at all (overlapping segments are read alike: with it only when all of them have it).

    `threads`: a row group's columns are decoded on Arrow's threads, in parallel. A reader
    that has a thread of its own (`read_ahead`) says False: scheduling columns on other
    threads costs 10% more CPU, and the other cores are busy with the export anyway.
    """
    for cluster in _overlap_clusters(
        s for s in segments if s.max_ts >= start_ns and s.min_ts < end_ns
    ):
        # Each file's footer is read once, here, and serves every question asked of it.
        footers = {s.path: pq.read_metadata(s.path, filesystem=s.filesystem) for s in cluster}
        schemas = {path: footer.schema.to_arrow_schema() for path, footer in footers.items()}
        columns = ["collection_timestamp_ns", "data"]
        if decoded_key is not None and all(
            stored_key(schemas[s.path]) == decoded_key for s in cluster
        ):
            columns = [*columns[: 2 if raw else 1], DECODED_COLUMN]
        if len(cluster) == 1:
            only = cluster[0]
            yield from _scan_file(only, start_ns, end_ns, columns, footers[only.path], threads)
            continue
        streams = [
            _scan_file(s, start_ns, end_ns, columns, footers[s.path], threads) for s in cluster
        ]
        common = None
        if DECODED_COLUMN in columns:
            assert decoded_key is not None
            checked = [stored_checked(schemas[s.path]) for s in cluster]
            common = metadata(decoded_key, set.intersection(*checked))
        for merged in merge_sorted(streams):
            if common is not None:
                merged = merged.replace_schema_metadata(common)
            for offset in range(0, merged.num_rows, SCAN_BATCH_ROWS):
                yield merged.slice(offset, SCAN_BATCH_ROWS)


def read_ahead(batches: Iterator[T], depth: int = 2) -> Generator[T, None, None]:
    """`batches`, produced on a thread of their own up to `depth` ahead of the consumer.

    Reading a segment (decompressing and decoding its pages) releases the GIL: on a thread of
    its own it overlaps with what the consumer does with the batch before, instead of the two
    taking turns. The thread starts with the first batch asked for; errors are raised where
    the batch would have been; closing the iterator early stops the thread (after the batch
    it is reading). Memory: `depth` batches more."""
    # (batch, None) for each batch (never None), then (None, None) at the end or (None, error).
    slots: queue.Queue[tuple[T | None, BaseException | None]] = queue.Queue(depth)
    stop = threading.Event()

    def produce() -> None:
        last: tuple[T | None, BaseException | None] = (None, None)
        try:
            for batch in batches:
                if stop.is_set():
                    return
                slots.put((batch, None))
                if stop.is_set():
                    return
        except BaseException as exc:
            last = (None, exc)
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()
        slots.put(last)

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            batch, error = slots.get()
            if error is not None:
                raise error
            if batch is None:
                return
            yield batch
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting for room, until it sees `stop`
            with contextlib.suppress(queue.Empty):
                slots.get(timeout=0.01)


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


def merge_segments(
    segments: Sequence[SegmentFile],
    final_path: Path,
    shredder: Shredder | None = None,
    label: SegmentLabel | None = None,
    filesystem: pafs.FileSystem | None = None,
) -> SegmentFile:
    """One segment holding every record of `segments`, sorted, written atomically (temporary
    name, fsync, rename) with bounded memory: compaction of many small segments.

    With a `shredder`, the merged segment stores the decoded column too: carried over when
    every input has it under the shredder's key, else decoded from the merged messages; if
    some cannot be decoded, the merge is written again raw only. With a `label`, the file
    describes itself (see `engine.segment_meta`). The merged segment goes to `filesystem`
    (local disk when None), like `write_segment`'s."""
    with temporary_for(final_path, filesystem) as tmp:
        try:
            rows, first, last = _merge_into(segments, tmp, shredder, label)
        except _Undecodable:
            rows, first, last = _merge_into(segments, tmp, None, label)
        size = publish_file(tmp, final_path, filesystem)
    assert first is not None and last is not None, "compaction of empty segments"
    return SegmentFile(str(final_path), first, last, rows, size, filesystem)


class _Undecodable(Exception):
    pass


def _merge_into(
    segments: Sequence[SegmentFile],
    tmp: Path,
    shredder: Shredder | None,
    label: SegmentLabel | None,
) -> tuple[int, int | None, int | None]:
    columns = ["collection_timestamp_ns", "data"]
    carried = shredder is not None and all(_has_decoded(s, shredder.key) for s in segments)
    common: dict[bytes, bytes] = {}
    if carried:
        assert shredder is not None
        columns.append(DECODED_COLUMN)
        checked = [stored_checked(_schema(s)) for s in segments]
        common = metadata(shredder.key, set.intersection(*checked))
    streams = [_scan_file(s, -(2**63), 2**63 - 1, columns) for s in segments]
    rows, first, last = 0, None, None
    writer: pq.ParquetWriter | None = None
    try:
        for table in merge_sorted(streams):
            if carried:
                assert shredder is not None
                decoded = table.column(DECODED_COLUMN)
                table = (
                    table.select(RECORD_SCHEMA.names)
                    .cast(RECORD_SCHEMA)
                    .append_column(pa.field(DECODED_COLUMN, decoded.type), decoded)
                )
                table = table.replace_schema_metadata(common)
            else:
                table = table.cast(RECORD_SCHEMA)
                if shredder is not None:
                    table = with_decoded(table, shredder)
                    if DECODED_COLUMN not in table.column_names:
                        raise _Undecodable
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, **_write_options(table.schema))
            writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
            times = table.column("collection_timestamp_ns")
            first = times[0].as_py() if first is None else first
            last, rows = times[-1].as_py(), rows + table.num_rows
        if writer is not None and label is not None:  # the range is known only now
            assert first is not None and last is not None
            writer.add_key_value_metadata(described(label, first, last, rows))
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        pq.write_table(RECORD_SCHEMA.empty_table(), tmp, **_WRITE_OPTIONS)
    return rows, first, last


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


def _schema(segment: SegmentFile) -> pa.Schema:
    return pq.read_schema(segment.path, filesystem=segment.filesystem)


def _has_decoded(segment: SegmentFile, key: str) -> bool:
    return stored_key(_schema(segment)) == key


def _scan_file(
    segment: SegmentFile,
    start_ns: int,
    end_ns: int,
    columns: Sequence[str] = ("collection_timestamp_ns", "data"),
    footer: pq.FileMetaData | None = None,
    threads: bool = True,
) -> Iterator[pa.Table]:
    """The file's records in range, a row group at a time. The file is open only while a row
    group is read: a merge of thousands of streams waits on as many scans at once, and must
    not hold as many file descriptors (nor, on an object store, as many connections).
    `footer`: its metadata, if already read."""
    path, filesystem = segment.path, segment.filesystem
    metadata = footer if footer is not None else pq.read_metadata(path, filesystem=filesystem)
    ts_index = metadata.schema.to_arrow_schema().get_field_index("collection_timestamp_ns")
    for group in range(metadata.num_row_groups):
        stats = metadata.row_group(group).column(ts_index).statistics
        if (
            stats is not None
            and stats.has_min_max
            and (stats.max < start_ns or stats.min >= end_ns)
        ):
            continue
        with pq.ParquetFile(path, metadata=metadata, filesystem=filesystem) as parquet:
            table = _without_description(
                parquet.read_row_group(group, list(columns), use_threads=threads)
            )
        if stats is None or not (stats.min >= start_ns and stats.max < end_ns):
            ts = table.column("collection_timestamp_ns")
            mask = pc.and_(pc.greater_equal(ts, start_ns), pc.less(ts, end_ns))
            table = table.filter(mask)
        if table.num_rows:
            yield table


def _without_description(table: pa.Table) -> pa.Table:
    """The file's description is about the file: records read from it do not carry it on
    (into an export's files, or a merged segment's)."""
    stored = table.schema.metadata
    if not stored or DESCRIPTION_KEY not in stored:
        return table
    rest = {k: v for k, v in stored.items() if k != DESCRIPTION_KEY}
    return table.replace_schema_metadata(rest or None)
