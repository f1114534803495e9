"""The synthetic dataset: Binance spot trades in the wire shape, as the engine's own segments.

Messages come from the demo generator (`app.demo.trades.binance_trades`); segments are written
with the engine's segment writer (`engine.segments.write_segment`), in chunks of the
demo ingest's size, with the messages decoded once and stored beside them as ingest does
(`app.domain.wire_formats.shredder`). Each chunk is also written raw only, to a scratch file,
to measure what storing the decoded messages costs: bytes on disk and time to write. No
database is involved: the engine's input is a list of `SegmentFile`s.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from app.demo.trades import DEMO_START, DEMO_STREAMS, binance_trades
from app.domain.wire_formats import shredder
from engine.segments import RECORD_SCHEMA, SegmentFile, write_segment
from engine.shred import Shredder

SEGMENT_ROWS = 200_000  # rows per segment, as the demo ingest chunks them
MANIFEST = "dataset.json"


@dataclass(frozen=True)
class Dataset:
    directory: Path
    segments: list[SegmentFile]
    exchange: str
    symbol: str
    market: str
    datastream_id: int
    # size (rows) -> [start_ns, end_ns) holding exactly that many records
    ranges: dict[int, tuple[int, int]]
    generate_seconds: float
    # The cost of storing the messages decoded: the same records written raw only (to a
    # scratch file) and with the decoded column (the segments above), bytes and seconds.
    raw_bytes: int = 0
    raw_write_seconds: float = 0.0
    decoded_write_seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(s.row_count for s in self.segments)

    @property
    def byte_size(self) -> int:
        return sum(s.byte_size for s in self.segments)

    @classmethod
    def saved(
        cls,
        directory: Path,
        spec: Any,
        segments: list[SegmentFile],
        ranges: dict[int, tuple[int, int]],
        started: float,
        **cost: Any,
    ) -> Dataset:
        """The dataset of `spec`'s segments (a `DatastreamSpec`), written to its manifest."""
        dataset = cls(
            directory=directory,
            segments=segments,
            exchange=spec.exchange,
            symbol=spec.symbol,
            market=spec.instrument_type,
            datastream_id=spec.id,
            ranges=ranges,
            generate_seconds=time.perf_counter() - started,
            **cost,
        )
        dataset.save()
        return dataset

    def save(self) -> Path:
        path = self.directory / MANIFEST
        document = {
            "segments": [asdict(s) for s in self.segments],
            "exchange": self.exchange,
            "symbol": self.symbol,
            "market": self.market,
            "datastream_id": self.datastream_id,
            "ranges": {str(n): list(r) for n, r in self.ranges.items()},
            "generate_seconds": self.generate_seconds,
            "raw_bytes": self.raw_bytes,
            "raw_write_seconds": self.raw_write_seconds,
            "decoded_write_seconds": self.decoded_write_seconds,
        }
        path.write_text(json.dumps(document))
        return path

    @classmethod
    def load(cls, manifest: Path) -> Dataset:
        document = json.loads(manifest.read_text())
        return cls(
            directory=manifest.parent,
            segments=[SegmentFile(**s) for s in document["segments"]],
            exchange=document["exchange"],
            symbol=document["symbol"],
            market=document["market"],
            datastream_id=document["datastream_id"],
            ranges={int(n): (r[0], r[1]) for n, r in document["ranges"].items()},
            generate_seconds=document["generate_seconds"],
            raw_bytes=document.get("raw_bytes", 0),
            raw_write_seconds=document.get("raw_write_seconds", 0.0),
            decoded_write_seconds=document.get("decoded_write_seconds", 0.0),
        )


def generate(directory: Path, sizes: list[int]) -> Dataset:
    """Write max(sizes) records as segments; each size gets a time range with that many rows."""
    spec = next(
        s
        for s in DEMO_STREAMS
        if s.exchange == "binance" and s.symbol == "BTCUSDT" and s.stream_type == "trades"
    )
    total = max(sizes)
    started = time.perf_counter()
    segment_dir = directory / "segments" / str(spec.id)
    segments: list[SegmentFile] = []
    shred = shredder(spec)
    cost = _Cost()
    cut_at = {n: (DEMO_START, 0) for n in sizes}  # size -> (start, end) filled in below
    timestamps: list[int] = []
    messages: list[str] = []
    records = itertools.islice(binance_trades(spec, DEMO_START, 2**63 - 1, seed=spec.id), total)
    last_ts = DEMO_START
    for index, (ts, message) in enumerate(records):
        if index in cut_at:  # the first record *outside* the range of that size
            cut_at[index] = (DEMO_START, ts)
        timestamps.append(ts)
        messages.append(message)
        last_ts = ts
        if len(timestamps) == SEGMENT_ROWS:
            segments.append(_write(segment_dir, len(segments), timestamps, messages, shred, cost))
            timestamps, messages = [], []
    if timestamps:
        segments.append(_write(segment_dir, len(segments), timestamps, messages, shred, cost))
    cut_at[total] = (DEMO_START, last_ts + 1)
    return Dataset.saved(
        directory,
        spec,
        segments,
        cut_at,
        started,
        raw_bytes=cost.raw_bytes,
        raw_write_seconds=cost.raw_seconds,
        decoded_write_seconds=cost.decoded_seconds,
    )


@dataclass
class _Cost:
    raw_bytes: int = 0
    raw_seconds: float = 0.0
    decoded_seconds: float = 0.0


def _write(
    directory: Path,
    index: int,
    timestamps: list[int],
    messages: list[str],
    shred: Shredder | None,
    cost: _Cost,
) -> SegmentFile:
    table = pa.table(
        [pa.array(timestamps, pa.int64()), pa.array(messages, pa.string())], schema=RECORD_SCHEMA
    )
    started = time.perf_counter()
    raw = write_segment(table, directory / "raw-only.parquet")
    cost.raw_seconds += time.perf_counter() - started
    cost.raw_bytes += raw.byte_size
    Path(raw.path).unlink()
    started = time.perf_counter()
    segment = write_segment(table, directory / f"{index:05d}.parquet", shred)
    cost.decoded_seconds += time.perf_counter() - started
    return segment
