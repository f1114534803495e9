"""Schema decode errors, onError null and the lenient decoder."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.export_schema import (
    DecodeError,
)
from tests.engine.schema_helpers import (
    BINANCE,
    BYBIT_LINEAR,
    BYBIT_MESSAGES,
    TICKSUPPLY_TRADES,
    UNFOLD_DATA,
    apply,
    bybit_trade,
    bybit_trades,
    column,
    mapping,
    meta,
    one_column,
    schema,
    ts,
)


@pytest.mark.parametrize(
    ("type_name", "bad", "shown"),
    [
        ("int", "abc", "'abc' is not a int"),
        ("int", 1.5, "1.5 is not a int"),
        ("int", True, "True is not a int"),
        ("float", "abc", "'abc' is not a float"),
        ("float", {"a": 1}, "{'a': 1} is not a float"),
        ("bool", "yes", "'yes' is not a bool"),
        ("bool", 1, "1 is not a bool"),
        ("string", {"a": 1}, "{'a': 1} is not a string"),
        ("string", [1], "[1] is not a string"),
        ("timestamp_ms", "soon", "'soon' is not a int"),
    ],
)
def test_uncastable_value_names_column_source_and_first_record(
    type_name: str, bad: Any, shown: str
) -> None:
    spec = schema(
        column("ok", binance=mapping("y", "int")),
        column("target", binance=mapping("x", type_name)),
    )
    messages = [{"x": None, "y": 1}, {"y": 2}, {"x": bad, "y": 3}, {"x": bad, "y": 4}]
    with pytest.raises(DecodeError) as info:
        apply(spec, BINANCE, messages)
    assert str(info.value) == (
        f"column 'target' (source 'binance'): {shown}, "
        f"first in the record at collection_timestamp_ns={ts(2)}"
    )


def test_uncastable_element_names_its_message_and_source_key() -> None:
    messages = [
        *BYBIT_MESSAGES,
        bybit_trades(
            1,
            bybit_trade(1, "Buy", "1", "1", "x"),
            bybit_trade("later", "Buy", "1", "1", "y"),  # type: ignore[arg-type]  # a bad T
        ),
    ]
    with pytest.raises(DecodeError) as info:
        apply(TICKSUPPLY_TRADES, BYBIT_LINEAR, messages)
    assert str(info.value) == (
        "column 'trade_ts' (source 'bybit_linear'): 'later' is not a int, "
        f"first in the record at collection_timestamp_ns={ts(2)}"
    )


def test_decimal_error_under_unfold_names_the_message() -> None:
    messages = [*BYBIT_MESSAGES, bybit_trades(1, bybit_trade(1, "Buy", "0.123456789", "1", "z"))]
    with pytest.raises(DecodeError) as info:
        apply(TICKSUPPLY_TRADES, BYBIT_LINEAR, messages)
    assert str(info.value) == (
        "column 'amount' (source 'bybit_linear'): '0.123456789' is not a decimal(8), "
        f"first in the record at collection_timestamp_ns={ts(2)}"
    )


def test_on_error_null_keeps_the_rest_of_the_batch() -> None:
    spec = schema(
        meta("ts", "collection_timestamp_ns"),
        column("n", binance=mapping("x", "int", on_error="null")),
        column("f", binance=mapping("f", "float", on_error="null")),
        column("s", binance=mapping("s", "string", on_error="null")),
        column("d", binance=mapping("d", "decimal(2)", on_error="null")),
        column("y", binance=mapping("y", "int")),
    )
    messages = [
        {"x": 1, "f": 1.5, "s": "a", "d": "1.25", "y": 10},
        {"x": "abc", "f": "nope", "s": {"o": 1}, "d": "1.255", "y": 20},
        {"x": 3, "f": 2, "s": "c", "d": "x", "y": 30},
    ]
    assert apply(spec, BINANCE, messages) == [
        {"ts": ts(0), "n": 1, "f": 1.5, "s": "a", "d": "1.25", "y": 10},
        {"ts": ts(1), "n": None, "f": None, "s": None, "d": None, "y": 20},
        {"ts": ts(2), "n": 3, "f": 2.0, "s": "c", "d": None, "y": 30},
    ]


def test_on_error_null_under_unfold() -> None:
    spec = schema(
        column("t", bybit=mapping("$.T", "int", on_error="null")),
        column("i", bybit=mapping("$.i", "string")),
        sources=UNFOLD_DATA,
    )
    messages = [
        {"data": [{"T": 1, "i": "a"}, {"T": "x", "i": "b"}]},
        {"data": [{"T": "3", "i": "c"}]},
    ]
    assert apply(spec, BYBIT_LINEAR, messages) == [
        {"t": 1, "i": "a"},
        {"t": None, "i": "b"},
        {"t": 3, "i": "c"},
    ]


def test_lenient_decoder_converts_numbers_given_as_text() -> None:
    spec = schema(
        column("i", binance=mapping("i", "int")),
        column("f", binance=mapping("f", "float")),
        column("t", binance=mapping("t", "timestamp_ms")),
        column("b", binance=mapping("b", "bool")),
        column("s", binance=mapping("s", "string")),
    )
    messages = [
        {"i": "42", "f": "1.5", "t": "1705305600123", "b": "true", "s": 7},
        {"i": " -7 ", "f": "-2", "t": 1705305600124, "b": "FALSE", "s": 1.5},
        {"i": 3.0, "f": 3, "t": None, "b": False, "s": True},
        {"i": "+8", "f": "1e3", "s": "plain"},
    ]
    assert apply(spec, BINANCE, messages) == [
        {"i": 42, "f": 1.5, "t": 1705305600123_000_000, "b": True, "s": "7"},
        {"i": -7, "f": -2.0, "t": 1705305600124_000_000, "b": False, "s": "1.5"},
        {"i": 3, "f": 3.0, "t": None, "b": False, "s": "true"},
        {"i": 8, "f": 1000.0, "t": None, "b": None, "s": "plain"},
    ]


def test_invalid_json_record_is_a_decode_error() -> None:
    messages = [{"x": "a"}, '{"x": "b"', "{bad"]
    with pytest.raises(
        DecodeError, match=f"record at collection_timestamp_ns={ts(1)} is not valid JSON"
    ):
        one_column("string", messages)


def test_records_with_newlines_inside_decode_correctly() -> None:
    messages = [json.dumps({"x": 5, "y": [1, 2]}, indent=2), json.dumps({"x": 6}, indent=1)]
    assert one_column("int", messages)[0] == [5, 6]


def test_runtime_transform_failure_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match=r"column 'x' \(source 'binance'\): transform failed"):
        one_column("string", [{"x": "1"}, {"x": "abc"}], transform="CAST({v} AS INT)")
