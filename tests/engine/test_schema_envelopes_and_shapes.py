"""Messages with and without Binance's combined-stream envelope normalize alike; a schema
whose columns the messages never fill fails early, naming the path and the wire format."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from engine.export_schema import DecodeError, compile_schema
from tests.engine.schema_helpers import BINANCE, builtin, records

TRADE = {
    "e": "trade", "E": 1705312800001, "s": "BTCUSDT", "t": 42, "p": "42800.50000000",
    "q": "0.01000000", "T": 1705312800000, "m": True, "M": True,
}  # fmt: skip


def test_bare_and_enveloped_binance_trades_give_the_same_rows() -> None:
    compiled = compile_schema(builtin("normalized"), BINANCE)
    wrapped = {"stream": "btcusdt@trade", "data": TRADE}
    mixed = compiled.apply(records([wrapped, TRADE, wrapped])).to_pylist()
    assert mixed[0] | {"collection_timestamp_ns": 0} == mixed[1] | {"collection_timestamp_ns": 0}
    assert mixed[1]["price"] == "42800.50000000" and mixed[1]["side"] == "sell"


def test_the_raw_column_keeps_the_message_as_stored() -> None:
    spec = builtin("normalized")
    spec["columns"].append({"outputColumn": "raw", "meta": "data"})
    compiled = compile_schema(spec, BINANCE)
    [row] = compiled.apply(records([TRADE])).to_pylist()
    assert json.loads(row["raw"]) == TRADE  # not the wrapped form the schema decoded


def test_messages_of_another_shape_fail_early_naming_path_and_wire_format() -> None:
    context = replace(BINANCE, wire_format="binance.trade")
    compiled = compile_schema(builtin("normalized"), context)
    depth = {"stream": "btcusdt@depth", "data": {"e": "depthUpdate", "b": [], "a": []}}
    with pytest.raises(
        DecodeError, match=r"'exchange_timestamp_ns' \(path 'data.T'.*'binance\.trade'"
    ):
        compiled.apply(records([depth] * 150))


def test_a_few_records_missing_a_field_are_not_a_failure() -> None:
    compiled = compile_schema(builtin("normalized"), BINANCE)
    partial = {key: value for key, value in TRADE.items() if key != "T"}
    table = compiled.apply(records([partial] * 50 + [TRADE] * 60))
    assert table.column("exchange_timestamp_ns").null_count == 50
