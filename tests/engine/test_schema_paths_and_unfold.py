"""Schema paths with indices, unfold (single and multi-array) and the built-in book schema."""

from __future__ import annotations

import json

from engine.export_schema import (
    compile_schema,
)
from engine.logical import LogicalType
from tests.engine.schema_helpers import (
    BINANCE,
    BOOL,
    BYBIT_LINEAR,
    UNFOLD_DATA,
    apply,
    builtin,
    column,
    mapping,
    meta,
    records,
    schema,
    ts,
)


def test_paths_with_indices() -> None:
    spec = schema(
        column("first_qty", binance=mapping("b[0][1]", "string")),
        column("second_price", binance=mapping("b[1][0]", "string")),
        column("out_of_range", binance=mapping("b[3][0]", "string")),
        column("inner_out_of_range", binance=mapping("b[0][5]", "string")),
        column("nested", binance=mapping("x.y[2].z", "int")),
    )
    messages = [
        {"b": [["1.0", "2.0"], ["3.0"]], "x": {"y": [{}, {"z": 1}, {"z": 2}]}},
        {"b": [["4.0"]], "x": {"y": [{"z": 1}]}},
        {"b": [], "x": {"y": []}},
        {"b": None, "x": None},
        {},
    ]
    names = ["first_qty", "second_price", "out_of_range", "inner_out_of_range", "nested"]
    assert apply(spec, BINANCE, messages) == [
        dict(zip(names, ["2.0", "3.0", None, None, 2], strict=True)),
        *[dict.fromkeys(names)] * 4,
    ]


def test_element_paths_under_unfold() -> None:
    spec = schema(
        meta("ts", "collection_timestamp_ns"),
        column("explicit", bybit=mapping("$.p", "string")),
        column("implicit", bybit=mapping("data.T", "int")),  # data.T is $.T under unfold data
        column("deep", bybit=mapping("$.x.k[1]", "int")),
        column("doc", bybit=mapping("$.x", "json")),
        column("whole", bybit=mapping("$", "json")),
        column("sent", bybit=mapping("ts", "int")),
        sources=UNFOLD_DATA,
    )
    messages = [
        {"ts": 1, "data": [{"T": 10, "p": "a", "x": {"k": [5, 6]}}, {"T": 11, "p": "b"}]},
        {"ts": 2, "data": []},
        {"ts": 3},
        {"ts": 4, "data": None},
        {"ts": 5, "data": [{"T": 12, "p": "c", "x": {"k": [7]}}]},
    ]
    assert apply(spec, BYBIT_LINEAR, messages) == [
        {
            "ts": ts(0),
            "explicit": "a",
            "implicit": 10,
            "deep": 6,
            "doc": '{"k":[5,6]}',
            "whole": '{"T":10,"p":"a","x":{"k":[5,6]}}',
            "sent": 1,
        },
        {
            "ts": ts(0),
            "explicit": "b",
            "implicit": 11,
            "deep": None,
            "doc": None,
            "whole": '{"T":11,"p":"b"}',
            "sent": 1,
        },
        {
            "ts": ts(4),
            "explicit": "c",
            "implicit": 12,
            "deep": None,
            "doc": '{"k":[7]}',
            "whole": '{"T":12,"p":"c","x":{"k":[7]}}',
            "sent": 5,
        },
    ]


def test_unfold_of_scalars() -> None:
    spec = schema(
        column("value", bybit=mapping("$", "int")),
        meta("tag", "unfold_tag"),
        sources={"bybit": {"unfold": "xs"}},
    )
    assert apply(spec, BYBIT_LINEAR, [{"xs": [3, 1]}, {"xs": [2]}]) == [
        {"value": 3, "tag": None},
        {"value": 1, "tag": None},
        {"value": 2, "tag": None},
    ]


BOOK_UNFOLD = {
    "bybit": {"unfold": [{"path": "data.b", "tag": "bid"}, {"path": "data.a", "tag": "ask"}]}
}


def test_multi_array_unfold_keeps_message_order() -> None:
    spec = schema(
        meta("ts", "collection_timestamp_ns", "ns"),
        meta("side", "unfold_tag"),
        column("price", bybit=mapping("$[0]", "decimal(8)")),
        column("size", bybit=mapping("$[1]", "string")),
        column("level", bybit=mapping("$", "json")),
        column("missing", bybit=mapping("$[5]", "string")),
        column("best_bid", bybit=mapping("data.b[0][0]", "string")),  # message level
        column("update", bybit=mapping("data.u", "int")),
        meta("exchange", "exchange"),
        meta("symbol", "symbol"),
        meta("datastream_id", "datastream_id"),
        sources=BOOK_UNFOLD,
    )
    messages = [
        {"data": {"u": 1, "b": [["1", "2"], ["0.9", "3"]], "a": [["1.1", "4"]]}},
        {"data": {"u": 2, "b": [], "a": [["1.2", "5"], ["1.3", "0"]]}},
        {"data": {"u": 3}},
        {"data": {"u": 4, "b": [["0.8", "1"]], "a": []}},
        {"data": {"u": 5, "a": [["1.4", "6"]], "b": [["0.7", "7"]]}},  # key order irrelevant
    ]

    def row(i: int, side: str, price: str, size: str, best: str | None, u: int) -> dict:
        return {
            "ts": ts(i),
            "side": side,
            "price": price,
            "size": size,
            "level": json.dumps([price, size], separators=(",", ":")),
            "missing": None,
            "best_bid": best,
            "update": u,
            "exchange": "bybit",
            "symbol": "BTCUSDT",
            "datastream_id": 201,
        }

    assert apply(spec, BYBIT_LINEAR, messages) == [
        row(0, "bid", "1", "2", "1", 1),
        row(0, "bid", "0.9", "3", "1", 1),
        row(0, "ask", "1.1", "4", "1", 1),
        row(1, "ask", "1.2", "5", None, 2),
        row(1, "ask", "1.3", "0", None, 2),
        row(3, "bid", "0.8", "1", "0.8", 4),
        row(4, "bid", "0.7", "7", "0.7", 5),
        row(4, "ask", "1.4", "6", "0.7", 5),
    ]


def test_messages_without_elements_give_no_rows() -> None:
    spec = schema(meta("ts", "collection_timestamp_ns"), sources=UNFOLD_DATA)
    messages = [{"data": []}, {}, {"data": None}, {"data": [{}, {}]}, {"other": [1]}]
    assert apply(spec, BYBIT_LINEAR, messages) == [{"ts": ts(3)}, {"ts": ts(3)}]


def binance_depth(event_ms: int, bids: list, asks: list) -> dict:
    return {
        "stream": "btcusdt@depth@100ms",
        "data": {
            "e": "depthUpdate",
            "E": event_ms,
            "s": "BTCUSDT",
            "U": 41800000001,
            "u": 41800000004,
            "b": bids,
            "a": asks,
        },
    }


def bybit_book(kind: str, sent_ms: int, bids: list, asks: list) -> dict:
    return {
        "topic": "orderbook.50.BTCUSDT",
        "type": kind,
        "ts": sent_ms,
        "data": {"s": "BTCUSDT", "b": bids, "a": asks, "u": 38000001, "seq": 140000000001},
        "cts": sent_ms - 3,
    }


def book_rows(rows: list[dict]) -> list[tuple]:
    return [
        (
            r["collection_timestamp_ns"],
            r["exchange_timestamp_ns"],
            r["exchange"],
            r["symbol"],
            r["is_snapshot"],
            r["side"],
            r["price"],
            r["amount"],
        )
        for r in rows
    ]


def test_builtin_book_schema_on_binance_depth_updates() -> None:
    messages = [
        binance_depth(
            1705305600100,
            [["42800.00000000", "0.50000000"], ["42799.99000000", "0.00000000"]],
            [["42800.01000000", "1.25000000"]],
        ),
        binance_depth(1705305600200, [], [["42800.02000000", "0.00000000"]]),
    ]
    compiled = compile_schema(builtin("normalized_book"), BINANCE)
    assert dict(compiled.fields)["is_snapshot"] == BOOL
    assert dict(compiled.fields)["price"] == LogicalType("decimal", 18)
    e1, e2 = 1705305600100_000_000, 1705305600200_000_000
    assert book_rows(compiled.apply(records(messages)).to_pylist()) == [
        (ts(0), e1, "binance", "BTCUSDT", False, "bid", "42800.00000000", "0.50000000"),
        (ts(0), e1, "binance", "BTCUSDT", False, "bid", "42799.99000000", "0.00000000"),
        (ts(0), e1, "binance", "BTCUSDT", False, "ask", "42800.01000000", "1.25000000"),
        (ts(1), e2, "binance", "BTCUSDT", False, "ask", "42800.02000000", "0.00000000"),
    ]


def test_builtin_book_schema_on_bybit_orderbook() -> None:
    messages = [
        bybit_book("snapshot", 1705305600020, [["42800.10", "1.000"]], [["42800.20", "0.004"]]),
        bybit_book("delta", 1705305600040, [["42800.10", "0"]], []),
        bybit_book("delta", 1705305600060, [], [["42800.30", "2.500"], ["42800.40", "0.010"]]),
    ]
    e = [1705305600020_000_000, 1705305600040_000_000, 1705305600060_000_000]
    assert book_rows(apply(builtin("normalized_book"), BYBIT_LINEAR, messages)) == [
        (ts(0), e[0], "bybit", "BTCUSDT", True, "bid", "42800.10", "1.000"),
        (ts(0), e[0], "bybit", "BTCUSDT", True, "ask", "42800.20", "0.004"),
        (ts(1), e[1], "bybit", "BTCUSDT", False, "bid", "42800.10", "0"),
        (ts(2), e[2], "bybit", "BTCUSDT", False, "ask", "42800.30", "2.500"),
        (ts(2), e[2], "bybit", "BTCUSDT", False, "ask", "42800.40", "0.010"),
    ]
