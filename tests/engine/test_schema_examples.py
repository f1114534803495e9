"""Ticksupply-style example schemas: trades on Binance and Bybit, and source-key precedence."""

from __future__ import annotations

import pytest

from engine.export_schema import (
    SchemaError,
    compile_schema,
    load_spec,
)
from engine.logical import LogicalType, SourceContext
from tests.engine.schema_helpers import (
    BINANCE,
    BYBIT_LINEAR,
    BYBIT_MESSAGES,
    BYBIT_SPOT,
    STRING,
    TICKSUPPLY_TRADES,
    TIMESTAMP,
    UUID_1,
    UUID_2,
    UUID_3,
    apply,
    builtin,
    column,
    mapping,
    meta,
    records,
    schema,
    ts,
)


def binance_trade(trade_id: int, price: str, qty: str, trade_ms: int, maker: bool) -> dict:
    return {
        "stream": "btcusdt@trade",
        "data": {
            "e": "trade",
            "E": trade_ms + 2,
            "s": "BTCUSDT",
            "t": trade_id,
            "p": price,
            "q": qty,
            "T": trade_ms,
            "m": maker,
            "M": True,
        },
    }


def test_ticksupply_binance_spot_trades() -> None:
    messages = [
        binance_trade(3300000001, "42800.01000000", "0.00120000", 1705305600049, maker=True),
        binance_trade(3300000002, "42800.02000000", "1.30000000", 1705305600118, maker=False),
    ]
    assert apply(TICKSUPPLY_TRADES, BINANCE, messages) == [
        {
            "ts": ts(0),
            "exchange": "binance",
            "symbol": "BTCUSDT",
            "trade_ts": 1705305600049_000_000,
            "trade_id": "3300000001",
            "side": "sell",  # m=true: the buyer was the maker, the taker sold
            "price": "42800.01000000",
            "amount": "0.00120000",
        },
        {
            "ts": ts(1),
            "exchange": "binance",
            "symbol": "BTCUSDT",
            "trade_ts": 1705305600118_000_000,
            "trade_id": "3300000002",
            "side": "buy",
            "price": "42800.02000000",
            "amount": "1.30000000",
        },
    ]


def test_ticksupply_fields_and_source() -> None:
    compiled = compile_schema(TICKSUPPLY_TRADES, BINANCE)
    assert compiled.source == "binance"
    assert compiled.fields == [
        ("ts", TIMESTAMP),
        ("exchange", STRING),
        ("symbol", STRING),
        ("trade_ts", TIMESTAMP),
        ("trade_id", STRING),
        ("side", STRING),
        ("price", LogicalType("decimal", 8)),
        ("amount", LogicalType("decimal", 8)),
    ]
    assert compile_schema(TICKSUPPLY_TRADES, BYBIT_LINEAR).source == "bybit_linear"


def test_ticksupply_bybit_linear_one_row_per_trade() -> None:
    assert apply(TICKSUPPLY_TRADES, BYBIT_LINEAR, BYBIT_MESSAGES) == [
        {
            "ts": ts(0),
            "exchange": "bybit",
            "symbol": "BTCUSDT",
            "trade_ts": 1705305600098_000_000,
            "trade_id": UUID_1,
            "side": "buy",
            "price": "42801.5",
            "amount": "0.001",
        },
        {
            "ts": ts(0),
            "exchange": "bybit",
            "symbol": "BTCUSDT",
            "trade_ts": 1705305600099_000_000,
            "trade_id": UUID_2,
            "side": "sell",
            "price": "42801.4",
            "amount": "0.500",
        },
        {
            "ts": ts(1),
            "exchange": "bybit",
            "symbol": "BTCUSDT",
            "trade_ts": 1705305600248_000_000,
            "trade_id": UUID_3,
            "side": "sell",
            "price": "42799.9",
            "amount": "12.345",
        },
    ]


def test_ticksupply_schema_has_no_mapping_for_bybit_spot_or_other_exchanges() -> None:
    spec = load_spec(TICKSUPPLY_TRADES)
    assert spec.supports("binance", "spot")
    assert spec.supports("bybit", "linear")
    assert not spec.supports("bybit", "spot")
    with pytest.raises(SchemaError, match=r"no mapping for 'bybit' \(column 'symbol'\)"):
        compile_schema(TICKSUPPLY_TRADES, BYBIT_SPOT)
    with pytest.raises(SchemaError, match="no mapping for 'okx'"):
        compile_schema(TICKSUPPLY_TRADES, SourceContext("okx", "BTC-USDT", 9, "spot"))


PRECEDENCE = schema(
    meta("ts", "collection_timestamp_ns"),
    column(
        "side",
        bybit_linear=mapping("data.S", "string", "lower({v})"),
        bybit=mapping("data.S", "string", "upper({v})"),
    ),
    column("price", bybit=mapping("data.p", "string")),
    sources={"bybit_linear": {"unfold": "data"}, "bybit": {"unfold": "data"}},
)


def test_exchange_market_key_wins_over_exchange_key() -> None:
    compiled = compile_schema(PRECEDENCE, BYBIT_LINEAR)
    assert compiled.source == "bybit_linear"
    assert compiled.apply(records(BYBIT_MESSAGES)).to_pylist() == [
        {"ts": ts(0), "side": "buy", "price": "42801.5"},
        {"ts": ts(0), "side": "sell", "price": "42801.4"},
        {"ts": ts(1), "side": "sell", "price": "42799.9"},
    ]


def test_other_market_falls_back_to_exchange_key() -> None:
    compiled = compile_schema(PRECEDENCE, BYBIT_SPOT)
    assert compiled.source == "bybit"
    assert compiled.apply(records(BYBIT_MESSAGES)).to_pylist() == [
        {"ts": ts(0), "side": "BUY", "price": "42801.5"},
        {"ts": ts(0), "side": "SELL", "price": "42801.4"},
        {"ts": ts(1), "side": "SELL", "price": "42799.9"},
    ]


def test_source_options_follow_the_same_precedence() -> None:
    spec = schema(
        meta("ts", "collection_timestamp_ns"),
        column("topic", bybit=mapping("topic", "string")),
        sources={"bybit_linear": {"unfold": "data"}, "bybit": {}},
    )
    linear = apply(spec, BYBIT_LINEAR, BYBIT_MESSAGES)
    spot = apply(spec, BYBIT_SPOT, BYBIT_MESSAGES)
    assert [r["ts"] for r in linear] == [ts(0), ts(0), ts(1)]  # unfolded
    assert [r["ts"] for r in spot] == [ts(0), ts(1)]  # one row per message
    assert {r["topic"] for r in linear + spot} == {"publicTrade.BTCUSDT"}


def test_builtin_normalized_trades_agree_with_ticksupply_mapping() -> None:
    messages = [
        binance_trade(7, "1.10000000", "2.00000000", 1705305600001, maker=True),
        binance_trade(8, "1.20000000", "3.00000000", 1705305600002, maker=False),
    ]
    rows = apply(builtin("normalized"), BINANCE, messages)
    assert [(r["trade_id"], r["side"], r["price"], r["amount"]) for r in rows] == [
        ("7", "sell", "1.10000000", "2.00000000"),
        ("8", "buy", "1.20000000", "3.00000000"),
    ]
    rows = apply(builtin("normalized"), BYBIT_LINEAR, BYBIT_MESSAGES)
    assert [(r["trade_id"], r["side"], r["amount"]) for r in rows] == [
        (UUID_1, "buy", "0.001"),
        (UUID_2, "sell", "0.500"),
        (UUID_3, "sell", "12.345"),
    ]
