"""Large inputs fast: a base of demo trades generated once, then tiled to any number of rows.

The demo generator makes about 50k to 200k messages a second, too slow for 10M or 50M rows.
Here it makes a base (1M rows by default), which ingest's shredder decodes once
(`app.domain.wire_formats.shredder`); every further copy ("tile") of the base is shifted, with
pyarrow compute, on every field the normalized export reads from a time or an identity:

- the collection timestamp by `tile * span` (span: the base's time range rounded up to whole
  milliseconds, so that tiles follow each other without overlapping);
- in the message text *and* in the decoded column alike, the trade time `T` and event time `E`
  by the same span in milliseconds, and the trade id `t` by `tile * base rows` (ids stay
  consecutive over the whole dataset).

Prices, sizes and sides repeat from tile to tile. Segments hold `SEGMENT_ROWS` records, as the
demo ingest chunks them, and are written by the engine's own `write_segment` (sorted, the
decoded column and its metadata, the same Parquet options); only the decoding is replaced by
the shifted copy of the base's decoded column. That copy is checked against the real
shredder on a segment of the first and of the last tile before anything is measured.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from app.demo.trades import DEMO_START, DEMO_STREAMS, NS_PER_MS, binance_trades
from app.domain.catalog import DatastreamSpec
from app.domain.wire_formats import shredder
from bench.dataset import SEGMENT_ROWS, Dataset
from engine.segments import RECORD_SCHEMA, SegmentFile, write_segment
from engine.shred import Shredder

# The demo message's numbers that are shifted per tile, and the text around them:
# {"stream":...,"data":{"e":"trade","E":<E>,"s":...,"t":<t>,"p":...,"q":...,"T":<T>,"m":...}}
_MESSAGE = r'^(?P<a>.*"E":)(?P<E>\d+)(?P<b>,.*"t":)(?P<t>\d+)(?P<c>,.*"T":)(?P<T>\d+)(?P<d>,.*)$'


@dataclass(frozen=True)
class _Base:
    timestamps: pa.ChunkedArray
    parts: dict[str, pa.ChunkedArray]  # the message split around E, t and T (see _MESSAGE)
    decoded: pa.ChunkedArray  # ingest's decoded column of the base messages
    checked: set[str]
    span_ns: int  # a whole number of milliseconds

    @property
    def rows(self) -> int:
        return len(self.timestamps)


@dataclass(frozen=True)
class _Stored(Shredder):
    """A shredder whose decoding is already done: the segment's shifted decoded column.
    `write_segment` stores it exactly as it stores a real shredder's result."""

    column: pa.ChunkedArray | None = None
    valid: frozenset[str] = frozenset()

    def decoded(self, table: pa.Table) -> tuple[pa.ChunkedArray, set[str]] | None:
        assert self.column is not None and len(self.column) == table.num_rows
        return self.column, set(self.valid)


def binance_spec() -> DatastreamSpec:
    return next(
        s
        for s in DEMO_STREAMS
        if s.exchange == "binance" and s.symbol == "BTCUSDT" and s.stream_type == "trades"
    )


def tiled(directory: Path, sizes: list[int], base_rows: int) -> Dataset:
    """max(sizes) records as segments in `directory`; each size gets a time range (from the
    first record) holding exactly that many."""
    spec = binance_spec()
    total = max(sizes)
    started = time.perf_counter()
    shred = shredder(spec)
    assert shred is not None, "the Binance trade wire format has a built-in decoded column"
    base = _base(spec, min(base_rows, total), shred)
    segment_dir = directory / "segments" / str(spec.id)
    segments: list[SegmentFile] = []
    tiles = -(-total // base.rows)
    for tile in range(tiles):
        rows = min(base.rows, total - tile * base.rows)
        table, decoded = _tile(base, tile, rows)
        for offset in range(0, rows, SEGMENT_ROWS):
            part = table.slice(offset, SEGMENT_ROWS)
            stored = _Stored(
                shred.compiled, decoded.slice(offset, SEGMENT_ROWS), frozenset(base.checked)
            )
            path = segment_dir / f"{len(segments):05d}.parquet"
            segments.append(write_segment(part, path, stored))
            if offset == 0 and tile in (0, tiles - 1):
                _check_decoded(part, stored, shred)
    ranges = {n: (DEMO_START, _timestamp(base, n)) for n in sizes if n < total}
    ranges[total] = (DEMO_START, _timestamp(base, total - 1) + 1)
    return Dataset.saved(directory, spec, segments, ranges, started)


def _base(spec: DatastreamSpec, rows: int, shred: Shredder) -> _Base:
    records = list(itertools.islice(binance_trades(spec, DEMO_START, 2**63 - 1, spec.id), rows))
    table = pa.table(
        [pa.array([ts for ts, _ in records], pa.int64()), pa.array([m for _, m in records])],
        schema=RECORD_SCHEMA,
    )
    del records
    timestamps = table.column("collection_timestamp_ns")
    # write_segment sorts each segment: with distinct, increasing times that keeps the rows
    # where they are, so the precomputed decoded column stays aligned with its messages.
    if rows > 1 and not pc.all(pc.greater(timestamps[1:], timestamps[:-1])).as_py():
        raise ValueError("the base's collection times must be strictly increasing")
    found = shred.decoded(table)
    if found is None:
        raise ValueError("the base's messages do not decode")
    decoded, checked = found
    parts = pc.extract_regex(table.column("data"), _MESSAGE)
    if parts.null_count:
        raise ValueError("a base message is not in the demo's Binance trade shape")
    first, last = timestamps[0].as_py(), timestamps[-1].as_py()
    span_ns = -(-(last - first + 1) // NS_PER_MS) * NS_PER_MS
    names = ("a", "E", "b", "t", "c", "T", "d")
    fields = {name: pc.struct_field(parts, name) for name in names}
    return _Base(timestamps, fields, decoded, checked, span_ns)


def _tile(base: _Base, tile: int, rows: int) -> tuple[pa.Table, pa.ChunkedArray]:
    """The first `rows` records of the base shifted to its `tile`-th copy, and their decoded
    column, shifted alike."""
    shift_ms, shift_id = tile * base.span_ns // NS_PER_MS, tile * base.rows
    parts = {name: column.slice(0, rows) for name, column in base.parts.items()}

    def plus(name: str, amount: int) -> Any:
        shifted = pc.add(parts[name].cast(pa.int64()), amount)
        return shifted.cast(pa.string())

    message = pc.binary_join_element_wise(
        parts["a"],
        plus("E", shift_ms),
        parts["b"],
        plus("t", shift_id),
        parts["c"],
        plus("T", shift_ms),
        parts["d"],
        "",
    )
    timestamps = pc.add(base.timestamps.slice(0, rows), tile * base.span_ns)
    table = pa.table([timestamps, message], schema=RECORD_SCHEMA)
    shifted = {"T": shift_ms, "t": shift_id}
    decoded = pa.chunked_array(
        [_shift_decoded(chunk, shifted) for chunk in base.decoded.slice(0, rows).chunks],
        type=base.decoded.type,
    )
    return table, decoded


def _shift_decoded(chunk: pa.StructArray, shifted: dict[str, int]) -> pa.StructArray:
    """The decoded column's `data` struct with the integer leaves in `shifted` moved."""
    inner = chunk.field("data")
    fields = [inner.type.field(i) for i in range(inner.type.num_fields)]
    children = [
        pc.add(inner.field(f.name), shifted[f.name]) if f.name in shifted else inner.field(f.name)
        for f in fields
    ]
    data = pa.StructArray.from_arrays(children, fields=fields, mask=_nulls(inner))
    outer = chunk.type.field(0)
    return pa.StructArray.from_arrays(
        [data], fields=[outer.with_type(data.type)], mask=_nulls(chunk)
    )


def _nulls(array: pa.Array) -> pa.Array | None:
    return array.is_null() if array.null_count else None


def _check_decoded(part: pa.Table, stored: _Stored, shred: Shredder) -> None:
    """The shifted decoded column must be what ingest's shredder makes of the messages."""
    found = shred.decoded(part)
    assert stored.column is not None
    if found is None or not found[0].equals(stored.column) or found[1] != set(stored.valid):
        raise AssertionError("the tiled decoded column differs from the shredder's")


def _timestamp(base: _Base, index: int) -> int:
    tile, row = divmod(index, base.rows)
    value: int = base.timestamps[row].as_py() + tile * base.span_ns
    return value
