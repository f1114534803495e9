"""Schema column types, nulls, decimals and meta columns."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from engine.export_schema import (
    DecodeError,
    compile_schema,
)
from engine.logical import LogicalType
from tests.engine.schema_helpers import (
    BINANCE,
    BOOL,
    BYBIT_LINEAR,
    FLOAT,
    INT,
    JSON,
    STRING,
    T0,
    TICKSUPPLY_TRADES,
    TIMESTAMP,
    apply,
    builtin,
    meta,
    one_column,
    records,
    schema,
    ts,
)

NESTED_DOC = {"b": [1, "x", None, 2.5], "a": {"c": True, "d": "é"}}


@pytest.mark.parametrize(
    ("type_name", "values", "expected", "logical"),
    [
        ("string", ["abc", ""], ["abc", ""], STRING),
        ("bool", [True, False], [True, False], BOOL),
        ("int", [9007199254740993, -5], [9007199254740993, -5], INT),  # > 2**53: no float
        ("float", [1.25, -3], [1.25, -3.0], FLOAT),
        ("decimal(8)", ["0.00100000", "-42800.5"], ["0.00100000", "-42800.5"], None),
        ("decimal(0)", ["12", "-7"], ["12", "-7"], LogicalType("decimal", 0)),
        ("timestamp_s", [1705305600, 0], [1705305600 * 10**9, 0], TIMESTAMP),
        ("timestamp_ms", [1705305600123], [1705305600123 * 10**6], TIMESTAMP),
        ("timestamp_us", [1705305600123456], [1705305600123456 * 10**3], TIMESTAMP),
        ("timestamp_ns", [1705305600123456789], [1705305600123456789], TIMESTAMP),
        (
            "json",
            [NESTED_DOC, False, 0, "", []],
            ['{"b":[1,"x",null,2.5],"a":{"c":true,"d":"é"}}', "false", "0", '""', "[]"],
            JSON,
        ),
    ],
)
def test_types_and_nulls(
    type_name: str, values: list[Any], expected: list[Any], logical: LogicalType | None
) -> None:
    # The value itself, then: an explicit null, a missing field, a missing parent, a null
    # parent, and a parent that is not an object.
    messages = [{"d": {"x": v}} for v in values] + [
        {"d": {"x": None}},
        {"d": {}},
        {},
        {"d": None},
        {"d": 5},
    ]
    got, got_logical = one_column(type_name, messages, path="d.x")
    assert got == [*expected, None, None, None, None, None]
    assert got_logical == (logical or LogicalType("decimal", 8))


def test_decimal_keeps_the_exact_text() -> None:
    texts = ["+1.5", ".5", "1.", "-0.5", "0", "100", "00012.10", "0.12345678"]
    got, _ = one_column("decimal(8)", [{"x": t} for t in texts])
    assert got == texts


def test_decimal_with_more_fractional_digits_than_its_scale_fails() -> None:
    messages = [{"x": "1.5"}, {"x": "1.25"}, {"x": "1.999"}, {"x": "0.0001"}]
    with pytest.raises(DecodeError) as info:
        one_column("decimal(2)", messages)
    assert str(info.value) == (
        "column 'x' (source 'binance'): '1.999' is not a decimal(2), "
        f"first in the record at collection_timestamp_ns={ts(2)}"
    )


def test_decimal_integer_digits_limited_by_precision() -> None:
    got, _ = one_column("decimal(30)", [{"x": "12345678.5"}])  # 8 + 30 digits fit in 38
    assert got == ["12345678.5"]
    with pytest.raises(DecodeError, match=r"'123456789\.5' is not a decimal\(30\)"):
        one_column("decimal(30)", [{"x": "12345678.5"}, {"x": "123456789.5"}])


@pytest.mark.parametrize("text", ["abc", "1.2.3", "NaN", "Infinity", " 1.5", "1,5", ""])
def test_decimal_rejects_non_numbers(text: str) -> None:
    with pytest.raises(DecodeError, match=f"{text!r} is not a decimal"):
        one_column("decimal(8)", [{"x": "1"}, {"x": text}])


def test_meta_columns_and_their_logical_types() -> None:
    spec = schema(
        meta("ts", "collection_timestamp_ns"),
        meta("ts_timestamp", "collection_timestamp_ns", "timestamp"),
        meta("ts_ns", "collection_timestamp_ns", "ns"),
        meta("ts_us", "collection_timestamp_ns", "us"),
        meta("ts_ms", "collection_timestamp_ns", "ms"),
        meta("ts_iso", "collection_timestamp_ns", "iso"),
        meta("raw", "data"),
        meta("exchange", "exchange"),
        meta("market", "market"),
        meta("symbol", "symbol"),
        meta("datastream_id", "datastream_id"),
        meta("tag", "unfold_tag"),
    )
    compiled = compile_schema(spec, BINANCE)
    assert compiled.fields == [
        ("ts", TIMESTAMP),
        ("ts_timestamp", TIMESTAMP),
        ("ts_ns", INT),
        ("ts_us", INT),
        ("ts_ms", INT),
        ("ts_iso", STRING),
        ("raw", JSON),
        ("exchange", STRING),
        ("market", STRING),
        ("symbol", STRING),
        ("datastream_id", INT),
        ("tag", STRING),
    ]
    raw = '{"e": "trade",  "p":"1.50"}'  # kept byte for byte, not re-serialised
    table = pa.table(
        {
            "collection_timestamp_ns": pa.array([T0, 1705305600_000_000_000], pa.int64()),
            "data": pa.array([raw, "{}"]),
        }
    )
    assert compiled.apply(table).to_pylist() == [
        {
            "ts": T0,
            "ts_timestamp": T0,
            "ts_ns": T0,
            "ts_us": 1705305600_123_456,
            "ts_ms": 1705305600_123,
            "ts_iso": "2024-01-15T08:00:00.123456789Z",
            "raw": raw,
            "exchange": "binance",
            "market": "spot",
            "symbol": "BTCUSDT",
            "datastream_id": 101,
            "tag": None,
        },
        {
            "ts": 1705305600_000_000_000,
            "ts_timestamp": 1705305600_000_000_000,
            "ts_ns": 1705305600_000_000_000,
            "ts_us": 1705305600_000_000,
            "ts_ms": 1705305600_000,
            "ts_iso": "2024-01-15T08:00:00.000000000Z",
            "raw": "{}",
            "exchange": "binance",
            "market": "spot",
            "symbol": "BTCUSDT",
            "datastream_id": 101,
            "tag": None,
        },
    ]


def test_meta_only_schema_does_not_parse_the_messages() -> None:
    rows = apply(builtin("raw"), BINANCE, ["not json at all", {"a": 1}])
    assert rows == [
        {"collection_timestamp_ns": ts(0), "data": "not json at all"},
        {"collection_timestamp_ns": ts(1), "data": '{"a": 1}'},
    ]


def test_empty_batch() -> None:
    compiled = compile_schema(TICKSUPPLY_TRADES, BYBIT_LINEAR)
    table = compiled.apply(records([]))
    assert table.num_rows == 0
    assert table.column_names == [name for name, _ in compiled.fields]
