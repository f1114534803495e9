"""Demo order books in the exchanges' real wire shapes (seeded): Binance diff-depth and
Bybit orderbook snapshots and deltas whose prices follow the demo trades."""

from __future__ import annotations

import math
import random
import sys
from bisect import bisect_left, insort
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from app.demo.trades import (
    _START_PRICE,
    DEMO_STREAMS,
    NS_PER_MS,
    _binance_trades,
    _bybit_trades,
)
from app.domain.catalog import DatastreamSpec

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
