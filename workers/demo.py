"""Demo data in the exchanges' real wire shapes, generated at first run (seeded, so the
README's examples find data): Binance spot trades and Bybit linear public trades for
BTCUSDT and ETHUSDT, three hours each at realistic rates."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator

import pyarrow as pa

from app.config import Settings
from app.db.engine import sync_sessions
from app.db.models import Segment
from app.domain.catalog import DatastreamSpec
from app.timeutil import parse_timestamp
from workers.engine.segments import RECORD_SCHEMA
from workers.ingest import IngestResult, ingest_tables

DEMO_START = parse_timestamp("2024-01-15T08:00:00Z")
DEMO_HOURS = 3
NS_PER_MS = 1_000_000

DEMO_STREAMS = [
    DatastreamSpec(
        101, "binance", "Binance", "BTCUSDT", "BTC", "USDT", "spot", "trades", "binance.trade"
    ),
    DatastreamSpec(
        102, "binance", "Binance", "ETHUSDT", "ETH", "USDT", "spot", "trades", "binance.trade"
    ),
    DatastreamSpec(
        201, "bybit", "Bybit", "BTCUSDT", "BTC", "USDT", "linear", "trades", "bybit.publicTrade"
    ),
    DatastreamSpec(
        202, "bybit", "Bybit", "ETHUSDT", "ETH", "USDT", "linear", "trades", "bybit.publicTrade"
    ),
]
_START_PRICE = {"BTCUSDT": 42_800.0, "ETHUSDT": 2_520.0}
_RATE_PER_SECOND = {"binance": 12.0, "bybit": 6.0}


def _prices(rng: random.Random, symbol: str) -> Iterator[float]:
    price = _START_PRICE[symbol]
    while True:
        price *= 1 + rng.gauss(0, 0.00008)
        yield price


def _message_times(rng: random.Random, rate: float, start_ns: int, end_ns: int) -> Iterator[int]:
    ts = start_ns
    while True:
        ts += max(1, int(rng.expovariate(rate) * 1e9))
        if ts >= end_ns:
            return
        yield ts


def binance_trades(
    spec: DatastreamSpec, start_ns: int, end_ns: int, seed: int
) -> Iterator[tuple[int, str]]:
    rng = random.Random(seed)
    prices = _prices(rng, spec.symbol)
    trade_id = 3_300_000_000 if spec.symbol == "BTCUSDT" else 1_280_000_000
    stream = spec.symbol.lower() + "@trade"
    for ts in _message_times(rng, _RATE_PER_SECOND["binance"], start_ns, end_ns):
        trade_id += 1
        trade_ms = ts // NS_PER_MS - rng.randint(1, 40)
        qty = rng.choice((0.00012, 0.001, 0.0052, 0.01, 0.05, 0.2, 1.3)) * (
            1 if spec.symbol == "BTCUSDT" else 15
        )
        yield (
            ts,
            (
                f'{{"stream":"{stream}","data":{{"e":"trade","E":{trade_ms + rng.randint(0, 3)},'
                f'"s":"{spec.symbol}","t":{trade_id},"p":"{next(prices):.8f}","q":"{qty:.8f}",'
                f'"T":{trade_ms},"m":{"true" if rng.random() < 0.5 else "false"},"M":true}}}}'
            ),
        )


def bybit_trades(
    spec: DatastreamSpec, start_ns: int, end_ns: int, seed: int
) -> Iterator[tuple[int, str]]:
    rng = random.Random(seed)
    prices = _prices(rng, spec.symbol)
    decimals = 1 if spec.symbol == "BTCUSDT" else 2
    for ts in _message_times(rng, _RATE_PER_SECOND["bybit"], start_ns, end_ns):
        sent_ms = ts // NS_PER_MS - rng.randint(1, 30)
        trades = []
        for _ in range(rng.randint(1, 5)):
            side = "Buy" if rng.random() < 0.5 else "Sell"
            qty = rng.choice((0.001, 0.004, 0.01, 0.1, 0.5)) * (
                1 if spec.symbol == "BTCUSDT" else 20
            )
            trades.append(
                f'{{"T":{sent_ms - rng.randint(0, 2)},"s":"{spec.symbol}","S":"{side}",'
                f'"v":"{qty:.3f}","p":"{next(prices):.{decimals}f}",'
                f'"L":"{rng.choice(("PlusTick", "ZeroPlusTick", "MinusTick", "ZeroMinusTick"))}",'
                f'"i":"{uuid.UUID(int=rng.getrandbits(128), version=4)}","BT":false}}'
            )
        yield (
            ts,
            (
                f'{{"topic":"publicTrade.{spec.symbol}","type":"snapshot","ts":{sent_ms},'
                f'"data":[{",".join(trades)}]}}'
            ),
        )


def demo_tables(
    spec: DatastreamSpec, hours: int = DEMO_HOURS, chunk_rows: int = 200_000
) -> Iterator[pa.Table]:
    generate = binance_trades if spec.exchange == "binance" else bybit_trades
    end = DEMO_START + hours * 3600 * 1_000_000_000
    timestamps: list[int] = []
    messages: list[str] = []
    for ts, message in generate(spec, DEMO_START, end, seed=spec.id):
        timestamps.append(ts)
        messages.append(message)
        if len(timestamps) == chunk_rows:
            yield pa.table(
                [pa.array(timestamps, pa.int64()), pa.array(messages)], schema=RECORD_SCHEMA
            )
            timestamps, messages = [], []
    if timestamps:
        yield pa.table([pa.array(timestamps, pa.int64()), pa.array(messages)], schema=RECORD_SCHEMA)


def store_is_empty() -> bool:
    with sync_sessions()() as session:
        return session.query(Segment.id).first() is None


def load_demo_data(settings: Settings, hours: int = DEMO_HOURS) -> list[IngestResult]:
    return [
        ingest_tables(settings, spec.id, demo_tables(spec, hours), spec) for spec in DEMO_STREAMS
    ]
