"""Shared fixtures: generated record files and one real gateway for the end-to-end tests."""

from __future__ import annotations

import csv
import gzip
import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from app.demo.books import binance_book, bybit_book
from app.demo.trades import binance_trades, bybit_trades
from app.domain.catalog import DatastreamSpec
from engine.timestamps import parse_timestamp
from tests.services import REDIS_URL, require_postgres_and_redis, temporary_database
from tests.support import Gateway, GraphQLClient, WorkerProcess, gateway_env, run_cli

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


@dataclass
class GatewayHandle:
    gateway: Gateway
    data_dir: Path
    env: dict[str, str]
    key_a: str
    key_b: str
    mode: str = "embedded"
    workers: list[WorkerProcess] = field(default_factory=list)

    def client(self, key: str | None = "a") -> GraphQLClient:
        token = {"a": self.key_a, "b": self.key_b}.get(key or "", key)
        return GraphQLClient(self.gateway.url, token)


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


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    folder = tmp_path_factory.mktemp("records")
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


def _ingest_args(spec: DatastreamSpec, file: Path) -> list[str]:
    return [
        "ingest",
        str(file),
        "--datastream",
        str(spec.id),
        "--exchange",
        spec.exchange,
        "--symbol",
        spec.symbol,
        "--base",
        spec.base,
        "--quote",
        spec.quote,
        "--instrument-type",
        spec.instrument_type,
        "--stream-type",
        spec.stream_type,
    ]


def mode_env(mode: str, data_dir: Path, database_url: str | None, **extra: str) -> dict[str, str]:
    """Settings for one mode. Distributed: PostgreSQL, Redis broker and events, own queue."""
    settings = {"GATEWAY_PROGRESS_INTERVAL_SECONDS": "0.1"}
    if mode == "distributed":
        assert database_url is not None
        settings.update(
            DATABASE_URL=database_url,
            BROKER_URL=REDIS_URL,
            GATEWAY_QUEUE_NAME=f"exports-test-{uuid.uuid4().hex[:8]}",
            GATEWAY_HEARTBEAT_STALE_SECONDS="3",
            GATEWAY_QUEUED_STALE_SECONDS="5",
            GATEWAY_SWEEP_INTERVAL_SECONDS="1",
        )
    return gateway_env(data_dir, **{**settings, **extra})


def prepare(env: dict[str, str], dataset: Dataset) -> tuple[str, str]:
    """Migrate, ingest the generated files, create one key in each of two workspaces."""
    run_cli(env, "migrate")
    run_cli(env, *_ingest_args(BINANCE, dataset.files[BINANCE.id]))
    run_cli(env, *_ingest_args(BYBIT, dataset.files[BYBIT.id]))
    run_cli(env, *_ingest_args(BIG, dataset.files[BIG_ID]))
    for book in (BINANCE_BOOK, BYBIT_BOOK):
        run_cli(env, *_ingest_args(book, dataset.files[book.id]))
    key_a = run_cli(env, "create-key", "--workspace", "alpha").stdout.strip()
    key_b = run_cli(env, "create-key", "--workspace", "beta").stdout.strip()
    return key_a, key_b


@contextmanager
def environment(
    mode: str, data_dir: Path, dataset: Dataset, workers: int = 2, **extra: str
) -> Iterator[GatewayHandle]:
    """A prepared store and a running gateway (plus worker processes when distributed)."""
    with ExitStack() as stack:
        database_url = None
        if mode == "distributed":
            require_postgres_and_redis()
            database_url = stack.enter_context(temporary_database())
        env = mode_env(mode, data_dir, database_url, **extra)
        key_a, key_b = prepare(env, dataset)
        handle = GatewayHandle(
            Gateway(env, data_dir / "gateway.log"), data_dir, env, key_a, key_b, mode
        )
        stack.callback(lambda: [w.stop() for w in handle.workers])
        if mode == "distributed":
            handle.workers = [
                WorkerProcess(env, data_dir / f"worker{i}.log").start() for i in range(workers)
            ]
        handle.gateway.start()
        stack.callback(handle.gateway.stop)
        yield handle


@pytest.fixture(scope="session", params=["embedded", "distributed"])
def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, dataset: Dataset
) -> Iterator[GatewayHandle]:
    """The whole end-to-end suite runs once per mode."""
    data_dir = tmp_path_factory.mktemp(f"gateway-{request.param}")
    with environment(request.param, data_dir, dataset) as handle:
        yield handle
