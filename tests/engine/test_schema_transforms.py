"""Schema column transforms end to end: inputs from other paths, under unfold, result types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from engine.export_schema import (
    compile_schema,
)
from engine.logical import LogicalType
from tests.engine.schema_helpers import (
    BINANCE,
    BOOL,
    BYBIT_LINEAR,
    BYBIT_MESSAGES,
    FLOAT,
    INT,
    STRING,
    TIMESTAMP,
    UNFOLD_DATA,
    apply,
    column,
    mapping,
    one_column,
    records,
    schema,
)

TRANSFORM_MESSAGES = [
    {
        "type": "snapshot",
        "data": {"E": 1005, "T": 1000, "p": "42000.50", "q": "0.00100000", "s": "BTCUSDT", "m": 1},
    },
    {"type": "delta", "data": {"E": 2002, "T": 2000, "p": "99.99", "q": "1", "s": None}},
    {"data": {}},
]


def test_transform_inputs_from_other_paths() -> None:
    spec = schema(
        column("lag", binance=mapping("data.T", "int", "{data.E:int} - {v}")),
        column("kind", binance=mapping("data.s", "string", "concat({type}, ':', lower({v}))")),
        column("piped", binance=mapping("data.s", "string", "{type} || '/' || {v}")),
        column("latest", binance=mapping("data.T", "int", "greatest({v}, {data.E:int})")),
        column("m", binance=mapping("data.s", "string", "{data.m:int} = 1")),
    )
    compiled = compile_schema(spec, BINANCE)
    assert [logical for _, logical in compiled.fields] == [INT, STRING, STRING, INT, BOOL]
    assert compiled.apply(records(TRANSFORM_MESSAGES)).to_pylist() == [
        {
            "lag": 5,
            "kind": "snapshot:btcusdt",
            "piped": "snapshot/BTCUSDT",
            "latest": 1005,
            "m": True,
        },
        {"lag": 2, "kind": None, "piped": None, "latest": 2002, "m": None},
        {"lag": None, "kind": None, "piped": None, "latest": None, "m": None},
    ]


def test_transform_inputs_under_unfold() -> None:
    spec = schema(
        column(
            "label",
            bybit=mapping(
                "data.p", "string", "concat({$.S}, '@', {v}, '/', {data.S}, '/', {type})"
            ),
        ),
        column("age", bybit=mapping("data.T", "int", "{ts:int} - {v}")),
        sources=UNFOLD_DATA,
    )
    assert apply(spec, BYBIT_LINEAR, BYBIT_MESSAGES) == [
        {"label": "Buy@42801.5/Buy/snapshot", "age": 2},
        {"label": "Sell@42801.4/Sell/snapshot", "age": 1},
        {"label": "Sell@42799.9/Sell/snapshot", "age": 2},
    ]


@pytest.mark.parametrize(
    ("path", "type_name", "transform", "expected", "logical"),
    [
        (
            "data.m",
            "int",
            "CASE WHEN {v} = 1 THEN 'sell' ELSE 'buy' END",
            ["sell", "buy", "buy"],
            STRING,
        ),
        ("data.m", "int", "IF({v} = 1, 'sell', 'buy')", ["sell", "buy", "buy"], STRING),
        ("data.s", "string", "upper(substr({v}, 1, 3))", ["BTC", None, None], STRING),
        ("data.s", "string", "replace({v}, 'USDT', '-USDT')", ["BTC-USDT", None, None], STRING),
        ("data.s", "string", "coalesce({v}, 'n/a')", ["BTCUSDT", "n/a", "n/a"], STRING),
        ("data.s", "string", "{v} IS NULL", [False, True, True], BOOL),
        ("type", "string", "{v} IN ('snapshot', 'x')", [True, False, None], BOOL),
        ("data.q", "decimal(8)", "length({v})", [10, 1, None], INT),
        # Text out of a transform is a string column (CAST(... AS DECIMAL(p,s)) keeps decimals).
        ("data.q", "decimal(8)", "nullif({v}, '1')", ["0.00100000", None, None], STRING),
        ("data.p", "decimal(2)", "{v} > 100", [True, False, None], BOOL),
        ("data.p", "decimal(2)", "CAST({v} AS DOUBLE)", [42000.5, 99.99, None], FLOAT),
        (
            "data.p",
            "decimal(2)",
            "round({v}, 1)",
            [Decimal("42000.50"), Decimal("100.00"), None],
            LogicalType("decimal", 2),
        ),
        (
            "data.p",
            "decimal(2)",
            "{v} * 2",
            [Decimal("84001.00"), Decimal("199.98"), None],
            LogicalType("decimal", 2),
        ),
        ("data.T", "int", "{v} * 1000", [1_000_000, 2_000_000, None], INT),
        ("data.T", "int", "CAST({v} AS VARCHAR)", ["1000", "2000", None], STRING),
        ("data.T", "timestamp_ms", "{v} + 1", [1_000_000_001, 2_000_000_001, None], TIMESTAMP),
        ("data.T", "int", "false", [False, False, False], BOOL),
    ],
)
def test_transform_kinds_end_to_end(
    path: str,
    type_name: str,
    transform: str,
    expected: list[Any],
    logical: LogicalType | None,
) -> None:
    got, got_logical = one_column(type_name, TRANSFORM_MESSAGES, path=path, transform=transform)
    assert got == expected
    assert got_logical == (logical or LogicalType("decimal", 8))
