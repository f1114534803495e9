"""The demo order book streams: exchange wire shapes, exact decimal strings, update id and
timestamp continuity, and books that replay consistently (never crossed, deltas onto a Bybit
snapshot give the next snapshot) around the prices of the demo trades."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest

from app.demo.books import binance_book, bybit_book
from app.demo.loader import demo_tables
from app.demo.trades import DEMO_START, DEMO_STREAMS, NS_PER_MS, binance_trades, bybit_trades

# Six minutes: Bybit snapshots come 2-5 minutes apart, so the window holds at least two.
END = DEMO_START + 6 * 60 * 10**9
SPECS = {spec.id: spec for spec in DEMO_STREAMS}
BINANCE_PRICE = re.compile(r"\d+\.\d{8}")  # Binance spot: 8 decimals, price and quantity
BYBIT_PRICE = re.compile(r"\d+\.\d{2}")
BYBIT_SIZE = re.compile(r"\d+\.\d{3}")

Book = dict[Decimal, Decimal]


@pytest.fixture(scope="module")
def binance() -> list[tuple[int, dict[str, Any]]]:
    return [(ts, json.loads(m)) for ts, m in binance_book(SPECS[111], DEMO_START, END, seed=111)]


@pytest.fixture(scope="module")
def bybit() -> list[tuple[int, dict[str, Any]]]:
    return [(ts, json.loads(m)) for ts, m in bybit_book(SPECS[211], DEMO_START, END, seed=211)]


def _apply(book: Book, levels: list[list[str]]) -> None:
    for price, size in levels:
        if Decimal(size) == 0:
            book.pop(Decimal(price), None)
        else:
            book[Decimal(price)] = Decimal(size)


def _prices(levels: list[list[str]]) -> list[Decimal]:
    return [Decimal(price) for price, _ in levels]


def _trade_prices(trades: list[tuple[int, str]]) -> list[tuple[int, Decimal]]:
    out = []
    for ts, message in trades:
        data = json.loads(message)["data"]
        last = data[-1] if isinstance(data, list) else data
        out.append((ts, Decimal(last["p"])))
    return out


def _assert_near_trades(mids: list[tuple[int, Decimal]], trades: list[tuple[int, Decimal]]) -> None:
    """Every book mid is within 0.2% of the last trade price before it."""
    i, last = 0, trades[0][1]
    for ts, mid in mids:
        while i < len(trades) and trades[i][0] <= ts:
            last = trades[i][1]
            i += 1
        assert abs(mid - last) / last < Decimal("0.002"), (ts, mid, last)


def test_demo_catalog_has_the_book_datastreams() -> None:
    assert (SPECS[111].exchange, SPECS[111].symbol, SPECS[111].instrument_type) == (
        "binance",
        "BTCUSDT",
        "spot",
    )
    assert (SPECS[211].exchange, SPECS[211].symbol, SPECS[211].instrument_type) == (
        "bybit",
        "BTCUSDT",
        "linear",
    )
    assert SPECS[111].stream_type == SPECS[211].stream_type == "book"
    assert SPECS[111].wire_format == "binance.depthUpdate"
    assert SPECS[211].wire_format == "bybit.orderbook"


@pytest.mark.parametrize("datastream_id", [111, 211])
def test_demo_tables_seed_book_streams_by_datastream_id(datastream_id: int) -> None:
    generate = binance_book if datastream_id == 111 else bybit_book
    table = next(demo_tables(SPECS[datastream_id], chunk_rows=50))
    expected = list(generate(SPECS[datastream_id], DEMO_START, END, seed=datastream_id))[:50]
    assert table.column_names == ["collection_timestamp_ns", "data"]
    rows = zip(table.column(0).to_pylist(), table.column(1).to_pylist(), strict=True)
    assert list(rows) == expected


def test_binance_depth_updates_have_the_wire_shape(
    binance: list[tuple[int, dict[str, Any]]],
) -> None:
    assert 3400 < len(binance) < 3700  # every 100 ms
    zeros = 0
    for _, message in binance:
        assert list(message) == ["stream", "data"]
        assert message["stream"] == "btcusdt@depth@100ms"
        data = message["data"]
        assert list(data) == ["e", "E", "s", "U", "u", "b", "a"]
        assert (data["e"], data["s"]) == ("depthUpdate", "BTCUSDT")
        assert all(type(data[k]) is int for k in ("E", "U", "u"))
        assert 0 <= len(data["b"]) <= 10 and 0 <= len(data["a"]) <= 10
        assert data["b"] or data["a"]
        for price, size in data["b"] + data["a"]:
            assert BINANCE_PRICE.fullmatch(price) and BINANCE_PRICE.fullmatch(size)
            zeros += size == "0.00000000"
        bids, asks = _prices(data["b"]), _prices(data["a"])
        assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
        assert len(set(bids)) == len(bids) and len(set(asks)) == len(asks)
    assert zeros > len(binance)  # levels are removed, often


def test_binance_update_ids_and_timestamps_are_continuous(
    binance: list[tuple[int, dict[str, Any]]],
) -> None:
    previous_ts, previous_event, previous_u = DEMO_START, 0, None
    for ts, message in binance:
        data = message["data"]
        assert data["u"] >= data["U"]
        assert data["u"] - data["U"] + 1 >= len(data["b"]) + len(data["a"])
        if previous_u is not None:
            assert data["U"] == previous_u + 1
        previous_u = data["u"]
        assert ts > previous_ts and data["E"] > previous_event
        assert 0 < ts - data["E"] * NS_PER_MS < 100 * NS_PER_MS  # collected a little later
        previous_ts, previous_event = ts, data["E"]
    assert previous_ts < END


def test_binance_book_is_never_crossed_and_follows_the_trades(
    binance: list[tuple[int, dict[str, Any]]],
) -> None:
    # A diff stream without its REST snapshot: the levels seen so far are part of the book.
    bids: Book = {}
    asks: Book = {}
    mids = []
    for _, message in binance:
        data = message["data"]
        _apply(bids, data["b"])
        _apply(asks, data["a"])
        if bids and asks:
            assert max(bids) < min(asks)
            mids.append((data["E"] * NS_PER_MS, (max(bids) + min(asks)) / 2))
    trades = list(binance_trades(SPECS[101], DEMO_START, END, seed=101))
    _assert_near_trades(mids, _trade_prices(trades))


def test_bybit_orderbook_messages_have_the_wire_shape(
    bybit: list[tuple[int, dict[str, Any]]],
) -> None:
    assert 3000 < len(bybit) < 4200  # about 10 per second
    assert bybit[0][1]["type"] == "snapshot"
    kinds = [message["type"] for _, message in bybit]
    assert set(kinds) == {"snapshot", "delta"}
    assert 2 <= kinds.count("snapshot") <= 4
    zeros = 0
    for _, message in bybit:
        assert list(message) == ["topic", "type", "ts", "data", "cts"]
        assert message["topic"] == "orderbook.50.BTCUSDT"
        data = message["data"]
        assert list(data) == ["s", "b", "a", "u", "seq"]
        assert data["s"] == "BTCUSDT"
        assert all(type(v) is int for v in (message["ts"], message["cts"], data["u"], data["seq"]))
        if message["type"] == "snapshot":
            assert len(data["b"]) == len(data["a"]) == 50
        else:
            assert 1 <= len(data["b"]) <= 8 and 1 <= len(data["a"]) <= 8
        for price, size in data["b"] + data["a"]:
            assert BYBIT_PRICE.fullmatch(price)
            assert BYBIT_SIZE.fullmatch(size) or (size == "0" and message["type"] == "delta")
            zeros += size == "0"
        bids, asks = _prices(data["b"]), _prices(data["a"])
        assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
        assert len(set(bids)) == len(bids) and len(set(asks)) == len(asks)
    assert zeros > len(bybit) / 2


def test_bybit_ids_and_timestamps_increase(bybit: list[tuple[int, dict[str, Any]]]) -> None:
    previous_ts, previous_sent, previous_cts = DEMO_START, 0, 0
    first_u, first_seq = bybit[0][1]["data"]["u"], bybit[0][1]["data"]["seq"]
    for i, (ts, message) in enumerate(bybit):
        assert message["data"]["u"] == first_u + i
        assert i == 0 or message["data"]["seq"] > first_seq
        first_seq = message["data"]["seq"]
        assert ts > previous_ts and message["ts"] > previous_sent and message["cts"] > previous_cts
        assert message["cts"] <= message["ts"]
        assert 0 < ts - message["ts"] * NS_PER_MS < 100 * NS_PER_MS
        previous_ts, previous_sent, previous_cts = ts, message["ts"], message["cts"]
    assert previous_ts < END


def test_bybit_deltas_replay_onto_the_snapshots(bybit: list[tuple[int, dict[str, Any]]]) -> None:
    bids: Book = {}
    asks: Book = {}
    mids = []
    snapshots = 0
    for _, message in bybit:
        data = message["data"]
        if message["type"] == "snapshot":
            snapshot_bids = {Decimal(p): Decimal(s) for p, s in data["b"]}
            snapshot_asks = {Decimal(p): Decimal(s) for p, s in data["a"]}
            if snapshots:
                assert (bids, asks) == (snapshot_bids, snapshot_asks)
            bids, asks = snapshot_bids, snapshot_asks
            snapshots += 1
        else:
            for book, levels in ((bids, data["b"]), (asks, data["a"])):
                removed = [Decimal(price) for price, size in levels if size == "0"]
                assert all(price in book for price in removed)  # only known levels go
                _apply(book, levels)
        assert len(bids) == len(asks) == 50
        assert max(bids) < min(asks)
        mids.append((message["ts"] * NS_PER_MS, (max(bids) + min(asks)) / 2))
    assert snapshots >= 2
    trades = list(bybit_trades(SPECS[201], DEMO_START, END, seed=201))
    _assert_near_trades(mids, _trade_prices(trades))
