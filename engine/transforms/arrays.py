"""Array helpers shared by the node compilers and the function whitelist: what a transform
sees (`Env`), SQL's numeric and NULL rules over pyarrow arrays, and broadcasting of literals."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

VALUE = "v"


DECIMAL = pa.decimal128(38, 18)


ROUND_MODE = "half_towards_infinity"  # SQL rounds halves away from zero


# Everything a transform sees: "v" and the referenced paths, each an array of one batch.
Env = Mapping[str, Any]


Compiled = Callable[[Env], Any]


def numeric(value: Any) -> Any:
    """Decimals travel as their exact text; arithmetic needs the number."""
    if pa.types.is_string(value.type) or pa.types.is_large_string(value.type):
        return pc.cast(value, pa.decimal128(38, 18))
    return value


def arithmetic(function: str, left: Any, right: Any) -> Any:
    operands = [numeric(left), numeric(right)]
    types = [x.type for x in operands]
    if any(pa.types.is_decimal(t) for t in types) and not any(
        pa.types.is_floating(t) for t in types
    ):
        # pyarrow's decimal results need more than decimal128's 38 digits (e.g. (38,18) + (38,18)
        # is (39,18)): compute in decimal256, then round back to (38, 18).
        wide = [pc.cast(x, pa.decimal256(37, 18)) for x in operands]
        result = pc.call_function(function, wide)
        return pc.cast(pc.round(result, ndigits=18, round_mode=ROUND_MODE), DECIMAL)
    return pc.call_function(function, operands)


def aligned(left: Any, right: Any) -> list[Any]:
    """Compare a decimal's text with a number as numbers, like SQL would."""
    if pa.types.is_null(left.type) or pa.types.is_null(right.type):  # a NULL literal
        target = right.type if pa.types.is_null(left.type) else left.type
        target = pa.bool_() if pa.types.is_null(target) else target
        return [pc.cast(left, target), pc.cast(right, target)]
    numbers = (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)
    if any(t(right.type) for t in numbers) and pa.types.is_string(left.type):
        return [numeric(left), right]
    if any(t(left.type) for t in numbers) and pa.types.is_string(right.type):
        return [left, numeric(right)]
    return [left, right]


def condition(value: Any) -> Any:
    """A NULL literal where a condition is expected is an unknown boolean."""
    return pc.cast(value, pa.bool_()) if pa.types.is_null(value.type) else value


def common_type(types: list[pa.DataType]) -> pa.DataType:
    known = [t for t in types if not pa.types.is_null(t)]
    if not known:
        return pa.null()
    if all(pa.types.is_integer(t) for t in known):
        return pa.int64()
    if all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in known):
        return pa.float64()
    numbers = (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)
    if len(set(known)) > 1 and all(any(n(t) for n in numbers) for t in known):
        # integers and decimals, or decimals of different scales; with a float: a float
        return pa.float64() if any(pa.types.is_floating(t) for t in known) else DECIMAL
    return known[0]


def broadcast(value: Any, length: int) -> Any:
    if isinstance(value, pa.Scalar):
        return pa.repeat(value, length)  # one allocation, no Python list per row
    return value


def to_decimal(value: Any, target: pa.Decimal128Type) -> Any:
    """CAST(... AS DECIMAL(p, s)): integers of any size are allowed (pyarrow wants p >= 19 + s)
    and extra digits are rounded away, like SQL does; a value too big for p still fails."""
    number = numeric(value)
    if pa.types.is_integer(number.type):
        number = pc.cast(number, DECIMAL)
    if pa.types.is_decimal(number.type) or pa.types.is_floating(number.type):
        number = pc.round(number, ndigits=target.scale, round_mode=ROUND_MODE)
    return pc.cast(number, target)


def text_of(value: Any) -> Any:
    """A NULL literal given to a string function is a NULL string."""
    return pc.cast(value, pa.string()) if pa.types.is_null(value.type) else value
