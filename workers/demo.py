"""Demo data in the exchanges' real wire shapes, generated at first run (seeded, so the
README's examples find data): Binance spot trades and Bybit linear public trades for
BTCUSDT and ETHUSDT, and Binance diff-depth and Bybit order book streams for BTCUSDT whose
prices follow those trades, three hours each at realistic rates."""

from __future__ import annotations

import math
import random
import sys
import uuid
from bisect import bisect_left, insort
from collections.abc import Callable, Iterator
from dataclasses import dataclass

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


# --- order books -----------------------------------------------------------------------------
# A book is kept on an integer grid (ticks for prices, lots for sizes) and written with fixed
# decimals, so prices and sizes on the wire are exact strings. Each side holds a fixed number
# of levels and is never crossed; each message applies a given number of level changes per
# side, moving the book towards the price of the demo trade stream of the same instrument.


@dataclass(frozen=True)
class _BookParams:
    tick_decimals: int  # price tick = 10**-tick_decimals
    price_decimals: int  # decimals of a price on the wire
    lot_decimals: int  # size step = 10**-lot_decimals
    size_decimals: int  # decimals of a size on the wire
    zero: str  # the size of a removed level on the wire
    depth: int  # levels per side
    gap: int  # mean distance between levels, in ticks
    median_lots: int  # typical size of a level, in lots


_BOOK_PARAMS = {
    ("binance", "BTCUSDT"): _BookParams(2, 8, 5, 8, "0.00000000", 100, 120, 5_000),
    ("bybit", "BTCUSDT"): _BookParams(1, 2, 3, 3, "0", 50, 15, 200),
}


def _fixed(units: int, unit_decimals: int, decimals: int) -> str:
    """`units` * 10**-unit_decimals with exactly `decimals` decimals (decimals >= unit_decimals)."""
    digits = str(units).rjust(unit_decimals + 1, "0")
    return f"{digits[:-unit_decimals]}.{digits[-unit_decimals:]}" + "0" * (decimals - unit_decimals)


class _Side:
    """Levels keyed so that the inner level has the smallest key: key = tick for asks,
    -tick for bids."""

    def __init__(self, sign: int) -> None:
        self.sign = sign
        self.keys: list[int] = []
        self.lots: dict[int, int] = {}


class _Book:
    def __init__(self, rng: random.Random, params: _BookParams, price: float) -> None:
        self.rng = rng
        self.p = params
        self.bids = _Side(-1)
        self.asks = _Side(1)
        bid = int(price * 10**params.tick_decimals)
        for side, inner in ((self.bids, -bid), (self.asks, bid + 1)):
            key = inner + int(rng.expovariate(2 / params.gap))
            for _ in range(params.depth):
                self._set(side, key, self.size(), {})
                key += 1 + int(rng.expovariate(1 / params.gap))

    def size(self) -> int:
        return max(1, int(self.rng.lognormvariate(math.log(self.p.median_lots), 1.2)))

    def levels(self, side: _Side) -> list[tuple[int, int]]:
        """(tick, lots), inner level first."""
        return [(key * side.sign, side.lots[key]) for key in side.keys]

    def step(
        self, price: float, n_bids: int, n_asks: int
    ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Apply n_bids and n_asks level changes; (tick, lots) per changed level, inner first,
        lots 0 for a removed level."""
        bid = int(price * 10**self.p.tick_decimals)
        bid_changes: dict[int, int] = {}
        ask_changes: dict[int, int] = {}
        work = [(self.bids, -bid, n_bids, bid_changes), (self.asks, bid + 1, n_asks, ask_changes)]
        if self.asks.keys[0] <= bid:  # price went up: clear the crossed asks first
            work.reverse()
        for side, target, n, changes in work:
            other = self.asks if side is self.bids else self.bids
            self._change(side, target, 1 - other.keys[0], n, changes)
        return (
            [(-key, lots) for key, lots in sorted(bid_changes.items())],
            [(key, lots) for key, lots in sorted(ask_changes.items())],
        )

    def _change(
        self, side: _Side, target: int, lowest: int, n: int, changes: dict[int, int]
    ) -> None:
        """n changes to one side whose inner level should be near `target`; no level may be
        below `lowest` (the other side's inner level). The side keeps its depth."""
        rng, keys, gap = self.rng, side.keys, self.p.gap
        start = max(target, lowest)
        span = self.p.depth * gap
        while n > 0:
            inner = keys[0]
            if n >= 2 and inner < target and inner not in changes:
                op = "cancel-inner"  # crossed by the new price
            elif n >= 2 and (inner > start + gap or keys[-1] > start + 2 * span):
                op = "add-near"  # the price moved away: quotes follow, stale levels go
            elif n >= 2:
                op = rng.choice(("modify", "modify", "add-near", "cancel"))
            else:
                op = "modify"
            if op == "add-near":
                key = start + int(rng.expovariate(2 / gap))
                if key not in side.lots and key not in changes and key < keys[-2]:
                    self._set(side, key, self.size(), changes)
                    self._remove(side, _untouched(keys, changes, len(keys) - 1, -1), changes)
                    n -= 2
                    continue
                op = "modify"
            if op == "modify":
                key = _untouched(keys, changes, min(int(rng.expovariate(1 / 6)), len(keys) - 1))
                lots = self.size()
                if lots == side.lots[key]:
                    lots += 1
                self._set(side, key, lots, changes)
                n -= 1
                continue
            if op == "cancel-inner":
                self._remove(side, inner, changes)
            else:
                self._remove(side, _untouched(keys, changes, rng.randrange(len(keys))), changes)
            # a new order somewhere in the book keeps the depth
            key = start + int(rng.random() * span)
            while key in side.lots or key in changes:
                key += 1
            self._set(side, key, self.size(), changes)
            n -= 2

    @staticmethod
    def _set(side: _Side, key: int, lots: int, changes: dict[int, int]) -> None:
        if key not in side.lots:
            insort(side.keys, key)
        side.lots[key] = lots
        changes[key] = lots

    @staticmethod
    def _remove(side: _Side, key: int, changes: dict[int, int]) -> None:
        del side.keys[bisect_left(side.keys, key)]
        del side.lots[key]
        changes[key] = 0


def _untouched(keys: list[int], changes: dict[int, int], index: int, step: int = 1) -> int:
    """The first level from keys[index] on (towards `step`) not changed in this message."""
    while keys[index] in changes:
        index = (index + step) % len(keys)
    return keys[index]


def _reference_price(spec: DatastreamSpec, start_ns: int, end_ns: int) -> Callable[[int], float]:
    """price(ts_ns): the last price of the demo trade stream of the same exchange and symbol
    at ts_ns (calls must not go back in time)."""
    trades = next(
        s
        for s in DEMO_STREAMS
        if s.stream_type == "trades" and s.exchange == spec.exchange and s.symbol == spec.symbol
    )
    source = _binance_trades if trades.exchange == "binance" else _bybit_trades
    events = ((ts, price) for ts, price, _ in source(trades, start_ns, end_ns, trades.id))
    next_ts, next_price = next(events, (sys.maxsize, _START_PRICE[spec.symbol]))
    price = next_price

    def price_at(ts_ns: int) -> float:
        nonlocal next_ts, next_price, price
        while next_ts <= ts_ns:
            price = next_price
            next_ts, next_price = next(events, (sys.maxsize, price))
        return price

    return price_at


class _Wire:
    """Formats (tick, lots) levels as the exchange writes them."""

    def __init__(self, params: _BookParams) -> None:
        self.p = params
        self.prices: dict[int, str] = {}

    def levels(self, levels: list[tuple[int, int]]) -> str:
        p, prices, parts = self.p, self.prices, []
        for tick, lots in levels:
            price = prices.get(tick)
            if price is None:
                price = prices[tick] = _fixed(tick, p.tick_decimals, p.price_decimals)
            size = _fixed(lots, p.lot_decimals, p.size_decimals) if lots else p.zero
            parts.append(f'["{price}","{size}"]')
        return "[" + ",".join(parts) + "]"


def _received(rng: random.Random, previous_ns: int, sent_ms: int) -> int:
    """Collection time: a few ms after the exchange sent it, in order (one TCP stream)."""
    return max(
        previous_ns + rng.randint(5_000, 50_000),
        sent_ms * NS_PER_MS + rng.randint(1, 25) * NS_PER_MS + rng.randint(0, NS_PER_MS - 1),
    )


def binance_book(
    spec: DatastreamSpec, start_ns: int, end_ns: int, seed: int
) -> Iterator[tuple[int, str]]:
    """Binance spot diff. depth stream (`<symbol>@depth@100ms`): one event per 100 ms with
    0-10 changed levels per side, size "0.00000000" for a removed level, U = previous u + 1."""
    rng = random.Random(seed)
    params = _BOOK_PARAMS[(spec.exchange, spec.symbol)]
    price_at = _reference_price(spec, start_ns, end_ns)
    book = _Book(rng, params, price_at(start_ns))
    wire = _Wire(params)
    stream = spec.symbol.lower() + "@depth@100ms"
    slot_ms = start_ns // NS_PER_MS + rng.randint(0, 99)
    update_id = 41_800_000_000 + rng.randint(0, 99_999_999)
    received = start_ns
    while True:
        slot_ms += 100
        event_ms = slot_ms + rng.randint(0, 3)
        received = _received(rng, received, event_ms)
        if received >= end_ns:
            return
        n_bids, n_asks = rng.randint(0, 10), rng.randint(0, 10)
        if n_bids == n_asks == 0:  # Binance sends no event when nothing changed
            n_bids = 1
        bids, asks = book.step(price_at(event_ms * NS_PER_MS), n_bids, n_asks)
        first_id = update_id + 1
        changed = len(bids) + len(asks)
        update_id = first_id + changed - 1 + rng.randint(0, 2 * changed)
        yield (
            received,
            (
                f'{{"stream":"{stream}","data":{{"e":"depthUpdate","E":{event_ms},'
                f'"s":"{spec.symbol}","U":{first_id},"u":{update_id},'
                f'"b":{wire.levels(bids)},"a":{wire.levels(asks)}}}}}'
            ),
        )


def bybit_book(
    spec: DatastreamSpec, start_ns: int, end_ns: int, seed: int
) -> Iterator[tuple[int, str]]:
    """Bybit v5 `orderbook.50.<symbol>`: a snapshot of 50 levels per side first and then every
    few minutes, deltas of 1-8 levels per side in between (size "0" removes a level); pushes on
    a 20 ms grid, about 10 per second."""
    rng = random.Random(seed)
    params = _BOOK_PARAMS[(spec.exchange, spec.symbol)]
    price_at = _reference_price(spec, start_ns, end_ns)
    book = _Book(rng, params, price_at(start_ns))
    wire = _Wire(params)
    topic = f"orderbook.{params.depth}.{spec.symbol}"
    slot_ms = start_ns // NS_PER_MS + rng.randint(0, 19)
    update_id = 38_000_000 + rng.randint(0, 999_999)
    seq = 140_000_000_000 + rng.randint(0, 999_999_999)
    next_snapshot_ms = 0
    received = start_ns
    skip = math.log(0.8)  # a 20 ms slot has a push with probability 0.2
    while True:
        slot_ms += 20 * (1 + int(math.log(1.0 - rng.random()) / skip))
        sent_ms = slot_ms + rng.randint(0, 2)
        matched_ms = sent_ms - rng.randint(1, 8)
        received = _received(rng, received, sent_ms)
        if received >= end_ns:
            return
        update_id += 1
        seq += rng.randint(1, 5_000)
        if sent_ms >= next_snapshot_ms:
            kind = "snapshot"
            next_snapshot_ms = sent_ms + rng.randint(120_000, 300_000)
            bids, asks = book.levels(book.bids), book.levels(book.asks)
        else:
            kind = "delta"
            bids, asks = book.step(
                price_at(sent_ms * NS_PER_MS), rng.randint(1, 8), rng.randint(1, 8)
            )
        yield (
            received,
            (
                f'{{"topic":"{topic}","type":"{kind}","ts":{sent_ms},'
                f'"data":{{"s":"{spec.symbol}","b":{wire.levels(bids)},'
                f'"a":{wire.levels(asks)},"u":{update_id},"seq":{seq}}},"cts":{matched_ms}}}'
            ),
        )


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
    timestamps: list[int] = []
    messages: list[str] = []
    for ts, message in generate(spec, DEMO_START, end, spec.id):  # seeded by id
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
