"""The documented function whitelist: each name with its arity, the arguments that must be
literals, and its pyarrow implementation; and sqlglot's own node types mapped back to names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from engine.transforms.arrays import (
    DECIMAL,
    ROUND_MODE,
    aligned,
    common_type,
    numeric,
    text_of,
)


@dataclass(frozen=True)
class Function:
    arity: tuple[int, int]
    apply: Callable[..., Any]
    literal_args: tuple[int, ...] = ()  # positions that must be literals (pyarrow options)
    string_literals: bool = False  # those literals are strings, else integers


def _round(value: Any, digits: Any = None) -> Any:
    ndigits = 0 if digits is None else digits.as_py()
    return pc.round(numeric(value), ndigits=ndigits, round_mode=ROUND_MODE)


def _substr(value: Any, start: Any, length: Any = None) -> Any:
    begin = start.as_py() - 1  # SQL counts from 1; positions before the first are empty
    stop = None if length is None else max(begin + length.as_py(), 0)
    return pc.utf8_slice_codeunits(text_of(value), start=max(begin, 0), stop=stop)


def _concat(*values: Any) -> Any:
    return pc.binary_join_element_wise(*[pc.cast(v, pa.string()) for v in values], "")


def _unified_numbers(values: tuple[Any, ...]) -> list[Any]:
    numbers = [numeric(v) for v in values]
    if any(pa.types.is_floating(v.type) for v in numbers):  # as arithmetic does
        return [pc.cast(v, pa.float64()) for v in numbers]
    if any(pa.types.is_decimal(v.type) for v in numbers):
        return [pc.cast(v, DECIMAL) for v in numbers]
    target = common_type([v.type for v in numbers])  # NULL literals take the others' type
    return [pc.cast(v, target) for v in numbers]


def _nullif(value: Any, other: Any) -> Any:
    equal = pc.fill_null(pc.equal(*aligned(value, other)), False)  # NULLIF(x, NULL) is x
    return pc.if_else(equal, pa.scalar(None, value.type), value)


# The documented function whitelist: name -> (arity, pyarrow implementation).
FUNCTIONS: dict[str, Function] = {
    "lower": Function((1, 1), lambda v: pc.utf8_lower(text_of(v))),
    "upper": Function((1, 1), lambda v: pc.utf8_upper(text_of(v))),
    "trim": Function((1, 1), lambda v: pc.utf8_trim_whitespace(text_of(v))),
    "ltrim": Function((1, 1), lambda v: pc.utf8_ltrim_whitespace(text_of(v))),
    "rtrim": Function((1, 1), lambda v: pc.utf8_rtrim_whitespace(text_of(v))),
    "length": Function((1, 1), lambda v: pc.utf8_length(text_of(v))),
    "substr": Function((2, 3), _substr, literal_args=(1, 2)),
    "replace": Function(
        (3, 3),
        lambda v, a, b: pc.replace_substring(text_of(v), a.as_py(), b.as_py()),
        literal_args=(1, 2),
        string_literals=True,
    ),
    "concat": Function((1, 1000), _concat),
    "abs": Function((1, 1), lambda v: pc.abs_checked(numeric(v))),
    "round": Function((1, 2), _round, literal_args=(1,)),
    "floor": Function((1, 1), lambda v: pc.floor(numeric(v))),
    "ceil": Function((1, 1), lambda v: pc.ceil(numeric(v))),
    "sqrt": Function((1, 1), lambda v: pc.sqrt_checked(pc.cast(v, pa.float64()))),
    "ln": Function((1, 1), lambda v: pc.ln_checked(pc.cast(v, pa.float64()))),
    "power": Function(
        (2, 2), lambda v, p: pc.power_checked(pc.cast(v, pa.float64()), pc.cast(p, pa.float64()))
    ),
    "greatest": Function((1, 1000), lambda *v: pc.max_element_wise(*_unified_numbers(v))),
    "least": Function((1, 1000), lambda *v: pc.min_element_wise(*_unified_numbers(v))),
    "nullif": Function((2, 2), _nullif),
}


# sqlglot parses some functions into their own node types; map them back to their names.
FUNCTION_NODES: dict[type[exp.Expression], str] = {
    exp.Lower: "lower",
    exp.Upper: "upper",
    exp.Trim: "trim",
    exp.Length: "length",
    exp.Substring: "substr",
    exp.Concat: "concat",
    exp.Abs: "abs",
    exp.Round: "round",
    exp.Floor: "floor",
    exp.Ceil: "ceil",
    exp.Sqrt: "sqrt",
    exp.Ln: "ln",
    exp.Pow: "power",
    exp.Greatest: "greatest",
    exp.Least: "least",
    exp.Nullif: "nullif",
    exp.Replace: "replace",
}
