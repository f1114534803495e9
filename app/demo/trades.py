"""Demo trades in the exchanges' real wire shapes (seeded): Binance spot trades and Bybit
linear public trades for BTCUSDT and ETHUSDT at realistic rates, and the demo datastreams."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator

from app.domain.catalog import DatastreamSpec
from engine.timestamps import parse_timestamp

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
    DatastreamSpec(
        111, "binance", "Binance", "BTCUSDT", "BTC", "USDT", "spot", "book", "binance.depthUpdate"
    ),
    DatastreamSpec(
        211, "bybit", "Bybit", "BTCUSDT", "BTC", "USDT", "linear", "book", "bybit.orderbook"
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
    for ts, _price, message in _binance_trades(spec, start_ns, end_ns, seed):
        yield ts, message


def _binance_trades(
    spec: DatastreamSpec, start_ns: int, end_ns: int, seed: int
) -> Iterator[tuple[int, float, str]]:
    """(collection ns, trade price, message); the book streams follow these prices."""
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
        event_ms = trade_ms + rng.randint(0, 3)
        price = next(prices)
        maker = "true" if rng.random() < 0.5 else "false"
        yield (
            ts,
            price,
            (
                f'{{"stream":"{stream}","data":{{"e":"trade","E":{event_ms},'
                f'"s":"{spec.symbol}","t":{trade_id},"p":"{price:.8f}","q":"{qty:.8f}",'
                f'"T":{trade_ms},"m":{maker},"M":true}}}}'
            ),
        )


def bybit_trades(
    spec: DatastreamSpec, start_ns: int, end_ns: int, seed: int
) -> Iterator[tuple[int, str]]:
    for ts, _price, message in _bybit_trades(spec, start_ns, end_ns, seed):
        yield ts, message


def _bybit_trades(
    spec: DatastreamSpec, start_ns: int, end_ns: int, seed: int
) -> Iterator[tuple[int, float, str]]:
    """(collection ns, price of the message's last trade, message)."""
    rng = random.Random(seed)
    prices = _prices(rng, spec.symbol)
    decimals = 1 if spec.symbol == "BTCUSDT" else 2
    for ts in _message_times(rng, _RATE_PER_SECOND["bybit"], start_ns, end_ns):
        sent_ms = ts // NS_PER_MS - rng.randint(1, 30)
        trades = []
        price = 0.0
        for _ in range(rng.randint(1, 5)):
            side = "Buy" if rng.random() < 0.5 else "Sell"
            qty = rng.choice((0.001, 0.004, 0.01, 0.1, 0.5)) * (
                1 if spec.symbol == "BTCUSDT" else 20
            )
            trade_ms = sent_ms - rng.randint(0, 2)
            price = next(prices)
            tick = rng.choice(("PlusTick", "ZeroPlusTick", "MinusTick", "ZeroMinusTick"))
            trade_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            trades.append(
                f'{{"T":{trade_ms},"s":"{spec.symbol}","S":"{side}",'
                f'"v":"{qty:.3f}","p":"{price:.{decimals}f}",'
                f'"L":"{tick}","i":"{trade_id}","BT":false}}'
            )
        yield (
            ts,
            price,
            (
                f'{{"topic":"publicTrade.{spec.symbol}","type":"snapshot","ts":{sent_ms},'
                f'"data":[{",".join(trades)}]}}'
            ),
        )
