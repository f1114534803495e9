"""Demo data, generated at first run (seeded, so the README's examples find data): the
trades of `trades` and the order books of `books`, three hours of each datastream."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pyarrow as pa

from app.db.models import SegmentRow
from app.demo.books import binance_book, bybit_book
from app.demo.trades import (
    DEMO_HOURS,
    DEMO_START,
    DEMO_STREAMS,
    binance_trades,
    bybit_trades,
)
from app.domain.catalog import DatastreamSpec
from app.domain.ingest import IngestResult, ingest_tables
from app.domain.runtime import Runtime
from engine.segments import records_table

_GENERATORS: dict[str, Callable[[DatastreamSpec, int, int, int], Iterator[tuple[int, str]]]] = {
    "binance.trade": binance_trades,
    "bybit.publicTrade": bybit_trades,
    "binance.depthUpdate": binance_book,
    "bybit.orderbook": bybit_book,
}


def demo_tables(
    spec: DatastreamSpec, hours: int = DEMO_HOURS, chunk_rows: int = 200_000
) -> Iterator[pa.Table]:
    generate = _GENERATORS[spec.wire_format]
    end = DEMO_START + hours * 3600 * 1_000_000_000
    chunk: list[tuple[int, str]] = []
    for record in generate(spec, DEMO_START, end, spec.id):  # seeded by id
        chunk.append(record)
        if len(chunk) == chunk_rows:
            yield records_table(chunk)
            chunk = []
    if chunk:
        yield records_table(chunk)


def store_is_empty(runtime: Runtime) -> bool:
    with runtime.sync_sessions() as session:
        return session.query(SegmentRow.id).first() is None


def load_demo_data(runtime: Runtime, hours: int = DEMO_HOURS) -> list[IngestResult]:
    return [
        ingest_tables(runtime, spec.id, demo_tables(spec, hours), spec) for spec in DEMO_STREAMS
    ]
