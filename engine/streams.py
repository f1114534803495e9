"""Many datastreams in one export: each stream's rows (scanned, decoded, filtered and
decimated on their own), tagged with the columns that say which stream they come from, merged
in collection-time order with a k-way merge (a batch per stream in memory, never a sort of
everything), or pivoted into one row per time bucket (the WIDE layout)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from engine.logical import SourceContext
from engine.pipeline import Rows
from engine.segments import SegmentFile, merge_sorted

TIME = "__time"  # the rows' collection time, as a column while rows go through the merge
SOURCE = "__source"  # the index of a row's stream (WIDE pivots on it)


@dataclass(frozen=True)
class ExportSource:
    """One datastream of an export: what its schema binds to and where its records are."""

    context: SourceContext
    segments: Sequence[SegmentFile]


def with_stream_columns(rows: Rows, context: SourceContext, names: Sequence[str]) -> Rows:
    """`rows` with the stream columns among `names` (constants of this stream) added."""
    values = {
        "datastream_id": pa.scalar(context.datastream_id, pa.int64()),
        "exchange": pa.scalar(context.exchange, pa.string()),
        "symbol": pa.scalar(context.symbol, pa.string()),
    }
    table = rows.table
    for name in names:
        table = table.append_column(name, pa.repeat(values[name], rows.num_rows))
    return Rows(table, rows.time)


def with_source(rows: Rows, index: int) -> Rows:
    table = rows.table.append_column(SOURCE, pa.repeat(pa.scalar(index, pa.int32()), rows.num_rows))
    return Rows(table, rows.time)


def merge_rows(streams: Sequence[Iterator[Rows]]) -> Iterator[Rows]:
    """The rows of every stream (each in time order) as one stream in time order; rows of
    equal times keep the streams' order. Each stream is read a batch at a time, when the
    merge needs it (`engine.segments.merge_sorted`)."""
    tables = [_with_time(stream) for stream in streams]
    for merged in merge_sorted(tables, key=TIME):
        time = merged.column(TIME).combine_chunks()
        yield Rows(merged.drop_columns([TIME]), time)


def _with_time(stream: Iterator[Rows]) -> Iterator[pa.Table]:
    for rows in stream:
        if rows.num_rows:
            yield rows.table.append_column(TIME, rows.time)


def pivot_wide(rows: Rows, labels: Sequence[str], columns: Sequence[str]) -> Rows:
    """Merged decimated rows (tagged with their stream's index) as one row per bucket, with
    `<label>_<column>` for each stream and column: null where a stream has no row for it.
    The merge hands over every row of a bucket in one step (a stream's buckets increase
    strictly), so no bucket is split across two calls."""
    buckets = pc.unique(rows.time)
    sources = rows.table.column(SOURCE).combine_chunks()
    output: dict[str, pa.Array | pa.ChunkedArray] = {"bucket_start": buckets}
    for index, label in enumerate(labels):
        mine = pc.equal(sources, index)
        part = rows.table.filter(mine)
        positions = pc.index_in(buckets, value_set=rows.time.filter(mine))
        for column in columns:
            output[f"{label}_{column}"] = part.column(column).take(positions)
    return Rows(pa.table(output), buckets)
