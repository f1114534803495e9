"""Shared builders and example messages for the schema-language tests (not a test module)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from engine.export_schema import (
    compile_schema,
)
from engine.logical import LogicalType, SourceContext

T0 = 1_705_305_600_123_456_789  # 2024-01-15T08:00:00.123456789Z
STEP = 1_000  # between the collection timestamps of consecutive records
BUILTIN = Path(__file__).resolve().parents[2] / "app" / "domain" / "builtin_schemas"

BINANCE = SourceContext("binance", "BTCUSDT", 101, "spot")
BYBIT_LINEAR = SourceContext("bybit", "BTCUSDT", 201, "linear")
BYBIT_SPOT = SourceContext("bybit", "BTCUSDT", 301, "spot")
# The smallest useful export schema: the collection time and Binance's price as text.
TIME_AND_PRICE = {
    "name": "test",
    "streamCategory": "trade",
    "columns": [
        {"outputColumn": "ts", "meta": "collection_timestamp_ns"},
        {"outputColumn": "price", "data": {"binance": {"path": "data.p", "type": "string"}}},
    ],
}

STRING, BOOL, INT, FLOAT = (LogicalType(k) for k in ("string", "bool", "int", "float"))
TIMESTAMP, JSON = LogicalType("timestamp"), LogicalType("json")


def ts(index: int) -> int:
    """The collection timestamp of the index-th record of a batch built by `records`."""
    return T0 + index * STEP


def records(messages: list[Any]) -> pa.Table:
    """A record batch: dicts are serialised with json.dumps, strings are taken as they are."""
    return pa.table(
        {
            "collection_timestamp_ns": pa.array([ts(i) for i in range(len(messages))], pa.int64()),
            "data": pa.array(
                [m if isinstance(m, str) else json.dumps(m) for m in messages], pa.string()
            ),
        }
    )


def schema(*columns: dict[str, Any], sources: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": "test", "streamCategory": "trade", "columns": list(columns)}
    if sources is not None:
        spec["sources"] = sources
    return spec


def column(name: str, **mappings: dict[str, Any]) -> dict[str, Any]:
    return {"outputColumn": name, "data": mappings}


def mapping(
    path: str, type_name: str, transform: str | None = None, on_error: str | None = None
) -> dict[str, Any]:
    result: dict[str, Any] = {"path": path, "type": type_name}
    if transform is not None:
        result["transform"] = transform
    if on_error is not None:
        result["onError"] = on_error
    return result


def meta(name: str, field: str, time_format: str | None = None) -> dict[str, Any]:
    result = {"outputColumn": name, "meta": field}
    if time_format is not None:
        result["format"] = time_format
    return result


def apply(spec: dict[str, Any], context: SourceContext, messages: list[Any]) -> list[dict]:
    return compile_schema(spec, context).apply(records(messages)).to_pylist()


def one_column(
    type_name: str,
    messages: list[Any],
    path: str = "x",
    transform: str | None = None,
    on_error: str | None = None,
) -> tuple[list[Any], LogicalType]:
    """The values and logical type of a single Binance column `x`."""
    spec = schema(column("x", binance=mapping(path, type_name, transform, on_error)))
    compiled = compile_schema(spec, BINANCE)
    return compiled.apply(records(messages)).column("x").to_pylist(), compiled.fields[0][1]


def builtin(name: str) -> dict[str, Any]:
    return json.loads((BUILTIN / f"{name}.json").read_text())


TICKSUPPLY_TRADES = {
    "name": "ticksupply_trades",
    "streamCategory": "trade",
    "sources": {"bybit_linear": {"unfold": "data"}},
    "columns": [
        meta("ts", "collection_timestamp_ns", "timestamp"),
        meta("exchange", "exchange"),
        column(
            "symbol",
            binance=mapping("data.s", "string"),
            bybit_linear=mapping("data.s", "string"),
        ),
        column(
            "trade_ts",
            binance=mapping("data.T", "timestamp_ms"),
            bybit_linear=mapping("data.T", "timestamp_ms"),
        ),
        column(
            "trade_id",
            binance=mapping("data.t", "int", "CAST({v} AS VARCHAR)"),
            bybit_linear=mapping("data.i", "string"),
        ),
        column(
            "side",
            binance=mapping("data.m", "bool", "CASE WHEN {v} = false THEN 'buy' ELSE 'sell' END"),
            bybit_linear=mapping("data.S", "string", "lower({v})"),
        ),
        column(
            "price",
            binance=mapping("data.p", "decimal(8)"),
            bybit_linear=mapping("data.p", "decimal(8)"),
        ),
        column(
            "amount",
            binance=mapping("data.q", "decimal(8)"),
            bybit_linear=mapping("data.v", "decimal(8)"),
        ),
    ],
}


def bybit_trade(trade_ms: int, side: str, qty: str, price: str, trade_id: str) -> dict:
    return {
        "T": trade_ms,
        "s": "BTCUSDT",
        "S": side,
        "v": qty,
        "p": price,
        "L": "PlusTick",
        "i": trade_id,
        "BT": False,
    }


def bybit_trades(sent_ms: int, *trades: dict) -> dict:
    return {
        "topic": "publicTrade.BTCUSDT",
        "type": "snapshot",
        "ts": sent_ms,
        "data": list(trades),
    }


UUID_1 = "6b2a1f4e-3c1d-4a7e-9f00-0c1d2e3f4a51"
UUID_2 = "a0f3c9d2-7b6e-4c5d-8e1f-2a3b4c5d6e72"
UUID_3 = "e4d3c2b1-a09f-48e7-b6c5-d4e3f2a1b093"

BYBIT_MESSAGES = [
    bybit_trades(
        1705305600100,
        bybit_trade(1705305600098, "Buy", "0.001", "42801.5", UUID_1),
        bybit_trade(1705305600099, "Sell", "0.500", "42801.4", UUID_2),
    ),
    bybit_trades(1705305600250, bybit_trade(1705305600248, "Sell", "12.345", "42799.9", UUID_3)),
]

UNFOLD_DATA = {"bybit": {"unfold": "data"}}
