"""The lenient decoder: per record in Python, on purpose, for the batches the strict
pyarrow.json reader rejects (values without the declared JSON types). It converts what it can
and names the first value it cannot; and the exact parsers `json` columns need."""

from __future__ import annotations

import decimal
import json
import re
from typing import Any

import orjson
import pyarrow as pa

from engine.export_schema.decode_tree import Leaf, ListNode, Struct
from engine.export_schema.errors import DecodeError


class NumberText(str):
    """A JSON number kept as its exact text (the lenient decoder never goes through float)."""


def parse_exactly(raw: pa.Array, timestamps: pa.Array) -> list[Any]:
    messages = []
    for index, text in enumerate(raw.to_pylist()):
        try:
            messages.append(json.loads(text, parse_float=NumberText))
        except (json.JSONDecodeError, TypeError) as exc:
            raise DecodeError(
                f"the record at collection_timestamp_ns={timestamps[index]} "
                f"is not valid JSON: {exc}"
            ) from None
    return messages


def parse_documents(raw: pa.Array, timestamps: pa.Array) -> list[Any]:
    messages = []
    for index, text in enumerate(raw.to_pylist()):
        try:
            messages.append(orjson.loads(text))
        except orjson.JSONDecodeError as exc:
            raise DecodeError(
                f"the record at collection_timestamp_ns={timestamps[index]} "
                f"is not valid JSON: {exc}"
            ) from None
    return messages


def fits_decimal(text: str | None, scale: int) -> bool:
    if text is None:
        return True
    try:
        number = decimal.Decimal(text)
    except decimal.InvalidOperation:
        return False
    if not number.is_finite():
        return False
    # Trailing zeros beyond the scale are fine ("1.120" is a decimal(2)), like pyarrow's cast.
    with decimal.localcontext(decimal.Context(prec=100)):
        exact = number == number.quantize(decimal.Decimal(1).scaleb(-scale), decimal.ROUND_DOWN)
    return exact and (number.is_zero() or number.adjusted() < 38 - scale)


def shown(value: Any) -> str:
    return str(value) if isinstance(value, NumberText) else repr(value)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def json_text(value: Any) -> str | None:
    """Compact JSON of a sub-document (numbers as doubles: orjson's shortest round trip)."""
    return None if value is None else orjson.dumps(value).decode()


class CannotCoerce(Exception):
    def __init__(self, leaf: Leaf, value: Any) -> None:
        self.leaf, self.value = leaf, value


def coerce(node: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(node, Struct):
        if not isinstance(value, dict):
            return None  # the path is not there: nulls, like a missing field
        return {k: coerce(child, value.get(k)) for k, child in node.fields.items()}
    if isinstance(node, ListNode):
        if not isinstance(value, list):
            return None
        return [coerce(node.item, v) for v in value] if node.item is not None else [{}] * len(value)
    try:
        return _coerce_scalar(node.arrow_type, value)
    except (ValueError, TypeError):
        if node.null_on_error:
            return None
        raise CannotCoerce(node, value) from None


_INT64 = range(-(2**63), 2**63)


def _coerce_scalar(arrow_type: pa.DataType, value: Any) -> Any:
    if pa.types.is_string(arrow_type):
        if isinstance(value, str):
            return str(value)
        if isinstance(value, bool | int):
            return orjson.dumps(value).decode()
    elif pa.types.is_int64(arrow_type):
        number = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and re.fullmatch(
            r"[+-]?\d+(\.0*)?([eE]\+?\d+)?", value.strip()
        ):
            exact = decimal.Decimal(value)
            number = int(exact) if exact == exact.to_integral_value() else None
        if number is not None and number in _INT64:
            return number
    elif pa.types.is_float64(arrow_type):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            return float(value)
    elif pa.types.is_boolean(arrow_type):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    raise ValueError(value)


def type_label(arrow_type: pa.DataType) -> str:
    return {"int64": "int", "double": "float"}.get(str(arrow_type), str(arrow_type))


def contiguous(values: Any) -> pa.Array:
    """One array of `values` (an array or a chunked one), copied only when it has several
    chunks: Arrow's concatenation copies even a single chunk, and a column read from a row
    group nearly always has one."""
    if not isinstance(values, pa.ChunkedArray):
        return values
    return values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
