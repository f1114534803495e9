"""The records every end-to-end test works on: Binance and Bybit trades and order books in
their wire shapes (from the demo generators), written as the files `ingest` accepts."""

from __future__ import annotations

import csv
import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from app.demo.books import binance_book, bybit_book
from app.demo.trades import binance_trades, bybit_trades
from app.domain.catalog import DatastreamSpec
from engine.timestamps import parse_timestamp

START = parse_timestamp("2024-03-01T00:00:00Z")


HOUR = 3600 * 10**9


BINANCE = DatastreamSpec(
    501, "binance", "Binance", "BTCUSDT", "BTC", "USDT", "spot", "trades", "binance.trade"
)


BYBIT = DatastreamSpec(
    502, "bybit", "Bybit", "BTCUSDT", "BTC", "USDT", "linear", "trades", "bybit.publicTrade"
)


BIG_ID = 503


BIG_ROWS = 1_500_000


BIG = DatastreamSpec(BIG_ID, "binance", "Binance", "BTCUSDT", "BTC", "USDT", "spot", "trades", "x")


BINANCE_BOOK = DatastreamSpec(
    504, "binance", "Binance", "BTCUSDT", "BTC", "USDT", "spot", "book", "binance.depthUpdate"
)


BYBIT_BOOK = DatastreamSpec(
    505, "bybit", "Bybit", "BTCUSDT", "BTC", "USDT", "linear", "book", "bybit.orderbook"
)


BOOK_MINUTES = 10


@dataclass
class Dataset:
    records: dict[int, list[tuple[int, str]]]
    files: dict[int, Path]


def _write_csv(path: Path, records: list[tuple[int, str]]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["collection_timestamp_ns", "data"])
        writer.writerows(records)


def _write_jsonl_gz(path: Path, records: list[tuple[int, str]]) -> None:
    with gzip.open(path, "wt") as handle:
        for ts, text in records:
            handle.write(
                json.dumps(
                    {"collection_timestamp_ns": ts, "data": json.loads(text)}, separators=(",", ":")
                )
                + "\n"
            )


def _write_big_parquet(path: Path, sample: list[tuple[int, str]]) -> None:
    """Many hours of records by repeating one hour, shifted in time (vectorised)."""
    base = pa.table(
        {
            "collection_timestamp_ns": pa.array([t for t, _ in sample], pa.int64()),
            "data": pa.array([m for _, m in sample]),
        }
    )
    repeats = -(-BIG_ROWS // base.num_rows)
    with pq.ParquetWriter(path, base.schema) as writer:
        for i in range(repeats):
            shifted = pc.add(base.column(0), pa.scalar(i * HOUR, pa.int64()))
            writer.write_table(base.set_column(0, "collection_timestamp_ns", shifted))


def write_dataset(folder: Path) -> Dataset:
    """An hour of trades per exchange, ten minutes of each order book, 1.5M repeated trades."""
    binance = list(binance_trades(BINANCE, START, START + HOUR, seed=7))
    bybit = list(bybit_trades(BYBIT, START, START + HOUR, seed=8))
    book_end = START + BOOK_MINUTES * 60 * 10**9
    books = {
        BINANCE_BOOK.id: list(binance_book(BINANCE_BOOK, START, book_end, seed=9)),
        BYBIT_BOOK.id: list(bybit_book(BYBIT_BOOK, START, book_end, seed=10)),
    }
    files = {
        BINANCE.id: folder / "binance.csv",
        BYBIT.id: folder / "bybit.jsonl.gz",
        BIG_ID: folder / "big.parquet",
        BINANCE_BOOK.id: folder / "binance-book.csv",
        BYBIT_BOOK.id: folder / "bybit-book.jsonl.gz",
    }
    _write_csv(files[BINANCE.id], binance)
    _write_jsonl_gz(files[BYBIT.id], bybit)
    _write_big_parquet(files[BIG_ID], binance)
    _write_csv(files[BINANCE_BOOK.id], books[BINANCE_BOOK.id])
    _write_jsonl_gz(files[BYBIT_BOOK.id], books[BYBIT_BOOK.id])
    return Dataset({BINANCE.id: binance, BYBIT.id: bybit, **books}, files)
