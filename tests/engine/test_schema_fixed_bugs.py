"""Regression tests for schema-engine bugs that were once known bugs (xfail) and are now fixed."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from engine.export_schema import (
    DecodeError,
)
from tests.engine.schema_helpers import (
    BYBIT_LINEAR,
    UNFOLD_DATA,
    apply,
    column,
    mapping,
    one_column,
    schema,
    ts,
)


def test_int_beyond_int64_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match=f"column 'x'.*collection_timestamp_ns={ts(1)}"):
        one_column("int", ['{"x": 1}', json.dumps({"x": 2**70})])


def test_invalid_json_with_only_json_columns_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match=f"collection_timestamp_ns={ts(1)} is not valid JSON"):
        one_column("json", ['{"x": 1}', '{"x": 1'])


def test_decimal_from_json_number_is_exact_or_rejected() -> None:
    try:
        got, _ = one_column("decimal(19)", ['{"x": 0.1234567890123456789}'])
    except DecodeError:
        return  # rejecting the number is acceptable; silently changing it is not
    assert got == ["0.1234567890123456789"]


def test_decimal_result_does_not_depend_on_other_records() -> None:
    alone, _ = one_column("decimal(2)", [{"x": "1.120"}], on_error="null")
    mixed, _ = one_column("decimal(2)", [{"x": "1.120"}, {"x": "1.123"}], on_error="null")
    assert mixed[0] == alone[0]
    assert mixed[1] is None


def test_json_element_column_with_non_array_unfold_value() -> None:
    spec = schema(column("x", bybit=mapping("$.x", "json")), sources=UNFOLD_DATA)
    messages = [{"data": {"x": 1, "y": 2}}, {"data": "ab"}, {"data": [{"x": 1}]}]
    assert apply(spec, BYBIT_LINEAR, messages) == [{"x": "1"}]


def test_index_right_after_the_unfold_path_reads_the_message() -> None:
    spec = schema(
        column("first_T", bybit=mapping("data[0].T", "int")),
        column("T", bybit=mapping("data.T", "int")),
        sources=UNFOLD_DATA,
    )
    messages = [{"data": [{"T": 1}, {"T": 2}]}, {"data": [{"T": 3}]}]
    assert apply(spec, BYBIT_LINEAR, messages) == [
        {"first_T": 1, "T": 1},
        {"first_T": 1, "T": 2},
        {"first_T": 3, "T": 3},
    ]


def test_timestamp_out_of_range_with_on_error_null() -> None:
    got, _ = one_column("timestamp_s", [{"x": 1705305600}, {"x": 10**12}], on_error="null")
    assert got == [1705305600 * 10**9, None]


def test_timestamp_out_of_range_names_the_record() -> None:
    with pytest.raises(DecodeError, match=f"collection_timestamp_ns={ts(1)}"):
        one_column("timestamp_s", [{"x": 1705305600}, {"x": 10**12}])


def test_decimal_transform_with_more_digits_than_the_scale() -> None:
    try:
        got, _ = one_column("decimal(8)", [{"x": "1"}], transform="{v} / 3")
    except DecodeError:
        return  # a named failure is acceptable; an ArrowInvalid is not
    assert got == [Decimal("0.33333333")]
