"""Node compilers: each accepted sqlglot node kind becomes a function of the batch's `Env`.
A node kind or function outside `_COMPILERS` and `FUNCTIONS` is rejected with its position."""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from engine.strict import INT64_MAX, INT64_MIN, is_ascii_digits
from engine.transforms.arrays import (
    DECIMAL,
    VALUE,
    Compiled,
    Env,
    aligned,
    arithmetic,
    broadcast,
    common_type,
    condition,
    numeric,
    to_decimal,
)
from engine.transforms.errors import TransformError
from engine.transforms.functions import FUNCTION_NODES, FUNCTIONS
from engine.transforms.positions import describe, node_start


class Compiler:
    def __init__(self, names: Mapping[str, str], text: str) -> None:
        self.names = names
        self.text = text

    def reject(self, node: exp.Expression, why: str) -> TransformError:
        start = node_start(node, self.text)
        position = start + 1 if start is not None else None
        return TransformError(f"{describe(node, self.names)!r}: {why}", position)

    def compile(self, node: exp.Expression) -> Compiled:
        if isinstance(node, exp.Anonymous) or type(node) in FUNCTION_NODES:
            return self._function(node)
        handler = _COMPILERS.get(type(node))
        if handler is None and isinstance(node, exp.Func):  # a function sqlglot knows
            allowed = ", ".join(sorted(FUNCTIONS))
            name = node.sql_name().lower()
            raise self.reject(node, f"unknown function {name!r}; allowed: {allowed}")
        if handler is None:
            raise self.reject(node, f"{type(node).__name__} is not allowed in transforms")
        return handler(self, node)

    def _function(self, node: exp.Expression) -> Compiled:
        name = node.name.lower() if isinstance(node, exp.Anonymous) else FUNCTION_NODES[type(node)]
        if isinstance(node, exp.Trim):  # sqlglot parses LTRIM/RTRIM as TRIM(LEADING/TRAILING)
            position = str(node.args.get("position") or "").upper()
            name = {"LEADING": "ltrim", "TRAILING": "rtrim"}.get(position, name)
        spec = FUNCTIONS.get(name)
        if spec is None:
            raise self.reject(
                node, f"unknown function {name!r}; allowed: {', '.join(sorted(FUNCTIONS))}"
            )
        args = _function_args(node)
        low, high = spec.arity
        if not low <= len(args) <= high:
            raise self.reject(node, f"{name} takes {_arity_text(spec.arity)} argument(s)")
        kind = "string" if spec.string_literals else "integer"
        for index in spec.literal_args:
            literal = _literal_node(args[index]) if index < len(args) else None
            if index < len(args) and (
                literal is None
                or literal.is_string != spec.string_literals
                or (not literal.is_string and not literal.is_int)
            ):
                raise self.reject(
                    args[index], f"argument {index + 1} of {name} must be {kind} literal"
                )
            if literal is not None and literal.is_int and abs(int(literal.this)) > MAX_ARGUMENT:
                raise self.reject(
                    args[index], f"argument {index + 1} of {name} is at most {MAX_ARGUMENT:,}"
                )
        parts = [self.compile(a) for a in args]
        return lambda env: spec.apply(*[p(env) for p in parts])


def _function_args(node: exp.Expression) -> list[exp.Expression]:
    if isinstance(node, exp.Anonymous):
        return list(node.expressions)
    args = [node.this] if node.this is not None else []
    for key in ("expression", "decimals", "start", "length", "replacement"):
        if node.args.get(key) is not None:
            args.append(node.args[key])
    args.extend(node.expressions)
    # Whatever else sqlglot parsed as an argument (ROUND's third, LENGTH's second, ...) counts
    # too, so that the arity check rejects it rather than it being silently dropped.
    args.extend(
        v for k, v in node.args.items() if k not in _ARG_KEYS and isinstance(v, exp.Expression)
    )
    return args


_ARG_KEYS = ("this", "expression", "decimals", "start", "length", "replacement", "expressions")


def _literal_node(node: exp.Expression) -> exp.Literal | None:
    """The literal `node` is, with a negative number's minus sign folded in; else None."""
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and node.this.is_number:
        return exp.Literal(this=f"-{node.this.this}", is_string=False)
    return node if isinstance(node, exp.Literal) else None


def _arity_text(arity: tuple[int, int]) -> str:
    low, high = arity
    return str(low) if low == high else f"{low} or more" if high > 99 else f"{low} to {high}"


def _column(compiler: Compiler, node: exp.Expression) -> Compiled:
    assert isinstance(node, exp.Column)
    path = compiler.names.get(node.name.lower()) if not node.table else None
    if path is None:
        raise compiler.reject(
            node, "unknown identifier: use {v} for the value or {path} for another field"
        )
    return lambda env: env[path]


# Literal arguments of functions (ROUND's digits, SUBSTR's start and length) are small.
MAX_ARGUMENT = 1_000_000


def _literal(compiler: Compiler, node: exp.Expression) -> Compiled:
    assert isinstance(node, exp.Literal)
    if node.is_string:
        scalar = pa.scalar(node.this, pa.string())
    elif "." in node.this or "e" in node.this.lower():
        scalar = pa.scalar(_finite(compiler, node), pa.float64())
    else:
        scalar = pa.scalar(_int64(compiler, node), pa.int64())
    return lambda _env: scalar


def _int64(compiler: Compiler, node: exp.Literal) -> int:
    if len(node.this) > 19 or not INT64_MIN <= int(node.this) <= INT64_MAX:
        raise compiler.reject(node, "an integer literal must fit in 64 bits")
    return int(node.this)


def _finite(compiler: Compiler, node: exp.Literal) -> float:
    value = float(node.this)
    if not math.isfinite(value):
        raise compiler.reject(node, "a number literal must be finite")
    return value


def _boolean(_compiler: Compiler, node: exp.Expression) -> Compiled:
    scalar = pa.scalar(bool(node.this), pa.bool_())
    return lambda _env: scalar


def _null(_compiler: Compiler, _node: exp.Expression) -> Compiled:
    return lambda _env: pa.scalar(None, pa.null())


def _binary(function: str, numeric: bool) -> Callable[[Compiler, exp.Expression], Compiled]:
    def handler(compiler: Compiler, node: exp.Expression) -> Compiled:
        left, right = compiler.compile(node.args["this"]), compiler.compile(node.args["expression"])
        if numeric:
            return lambda env: arithmetic(function, left(env), right(env))
        return lambda env: pc.call_function(function, aligned(left(env), right(env)))

    return handler


def _not(compiler: Compiler, node: exp.Expression) -> Compiled:
    inner = compiler.compile(node.this)
    return lambda env: pc.invert(condition(inner(env)))


def _neg(compiler: Compiler, node: exp.Expression) -> Compiled:
    inner = compiler.compile(node.this)
    return lambda env: pc.negate_checked(numeric(inner(env)))


def _paren(compiler: Compiler, node: exp.Expression) -> Compiled:
    return compiler.compile(node.this)


def _is(compiler: Compiler, node: exp.Expression) -> Compiled:
    if not isinstance(node.expression, exp.Null):
        raise compiler.reject(node, "only IS NULL / IS NOT NULL are supported")
    inner = compiler.compile(node.this)
    return lambda env: pc.is_null(inner(env))


def _in(compiler: Compiler, node: exp.Expression) -> Compiled:
    inner = compiler.compile(node.this)
    options = [o if isinstance(o, exp.Boolean) else _literal_node(o) for o in node.expressions]
    if not options or any(o is None for o in options):
        raise compiler.reject(node, "IN takes a list of literals")
    for option in options:
        if isinstance(option, exp.Literal) and option.is_number:
            _int64(compiler, option) if option.is_int else _finite(compiler, option)
    try:
        values = pa.array([_literal_value(o) for o in options if o is not None])
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        raise compiler.reject(node, "the values in an IN list must have one type") from None

    def apply(env: Env) -> Any:
        operand = broadcast(inner(env), len(env[VALUE]))
        if pa.types.is_null(operand.type):
            return pa.nulls(len(operand), pa.bool_())
        value_set = values
        numbers = (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)
        if any(t(values.type) for t in numbers) and (
            pa.types.is_string(operand.type)
            or pa.types.is_decimal(operand.type)
            or (pa.types.is_decimal(values.type) and pa.types.is_integer(operand.type))
        ):  # compare as numbers: a decimal's text, or an integer with a decimal like 1.5
            operand, value_set = pc.cast(numeric(operand), DECIMAL), values.cast(DECIMAL)
        elif pa.types.is_decimal(operand.type):
            operand, value_set = pc.cast(operand, DECIMAL), numeric(values)
        else:
            value_set = values.cast(operand.type)
        found = pc.is_in(operand, value_set=value_set)
        return pc.if_else(pc.is_null(operand), pa.scalar(None, pa.bool_()), found)

    return apply


def _literal_value(node: exp.Expression) -> Any:
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if node.is_string:
        return node.this
    return decimal.Decimal(node.this) if not node.is_int else int(node.this)


def _case(compiler: Compiler, node: exp.Expression) -> Compiled:
    if node.this is not None:
        raise compiler.reject(node, "use the searched form: CASE WHEN condition THEN ... END")
    branches = [
        (compiler.compile(i.this), compiler.compile(i.args["true"])) for i in node.args["ifs"]
    ]
    default = (
        compiler.compile(node.args["default"])
        if node.args.get("default")
        else _null(compiler, node)
    )

    def apply(env: Env) -> Any:
        length = len(env[VALUE])
        conditions = [
            broadcast(pc.fill_null(condition(cond(env)), False), length) for cond, _ in branches
        ]
        values = [value(env) for _, value in branches] + [default(env)]
        target = common_type([x.type for x in values])
        names = [f"c{i}" for i in range(len(conditions))]
        chosen = pa.StructArray.from_arrays(conditions, names)
        if all(isinstance(x, pa.Scalar) for x in values):
            # Constant results (CASE WHEN m THEN 'sell' ELSE 'buy' END): choose each row's
            # branch by number, then take its value, rather than select among columns of
            # repeated text (half the time for a batch of trades).
            numbers = [pa.scalar(i, pa.int16()) for i in range(len(values))]
            constants = pa.concat_arrays([pa.repeat(x.cast(target), 1) for x in values])
            return constants.take(pc.case_when(chosen, *numbers))
        values = [broadcast(x, length).cast(target) for x in values]
        return pc.case_when(chosen, *values)

    return apply


def _if(compiler: Compiler, node: exp.Expression) -> Compiled:
    return _case(compiler, exp.Case(ifs=[node], default=node.args.get("false")))


def _coalesce(compiler: Compiler, node: exp.Expression) -> Compiled:
    parts = [compiler.compile(node.this)] + [compiler.compile(e) for e in node.expressions]

    def apply(env: Env) -> Any:
        length = len(env[VALUE])
        values = [broadcast(p(env), length) for p in parts]
        target = common_type([x.type for x in values])
        return pc.coalesce(*[x.cast(target) for x in values])

    return apply


_CAST_TYPES = {
    exp.DataType.Type.VARCHAR: pa.string(),
    exp.DataType.Type.TEXT: pa.string(),
    exp.DataType.Type.INT: pa.int64(),
    exp.DataType.Type.BIGINT: pa.int64(),
    exp.DataType.Type.DOUBLE: pa.float64(),
    exp.DataType.Type.FLOAT: pa.float64(),
    exp.DataType.Type.BOOLEAN: pa.bool_(),
}


def _cast(compiler: Compiler, node: exp.Expression) -> Compiled:
    inner = compiler.compile(node.this)
    to = node.args["to"]
    if to.this == exp.DataType.Type.DECIMAL:
        texts = [str(p.this.this) for p in to.expressions]
        if not all(is_ascii_digits(text, max_length=2) for text in texts) or len(texts) > 2:
            raise compiler.reject(node, "DECIMAL takes a precision of 1 to 38 and a scale")
        params = [int(text) for text in texts]
        precision, scale = [*params, 38, 18][:2] if len(params) != 1 else (params[0], 0)
        if not 1 <= precision <= 38 or scale > precision:
            raise compiler.reject(node, "DECIMAL(p, s) needs 1 <= p <= 38 and s <= p")
        target = pa.decimal128(precision, scale)
    else:
        target = _CAST_TYPES.get(to.this)
    if target is None:
        raise compiler.reject(node, f"cannot CAST to {to.sql()}")
    if pa.types.is_decimal(target):
        return lambda env: to_decimal(inner(env), target)
    return lambda env: pc.cast(inner(env), target)


_COMPILERS: dict[type[exp.Expression], Callable[[Compiler, exp.Expression], Compiled]] = {
    exp.Column: _column,
    exp.Literal: _literal,
    exp.Boolean: _boolean,
    exp.Null: _null,
    exp.Paren: _paren,
    exp.Add: _binary("add_checked", numeric=True),
    exp.Sub: _binary("subtract_checked", numeric=True),
    exp.Mul: _binary("multiply_checked", numeric=True),
    exp.Div: _binary("divide_checked", numeric=True),
    exp.EQ: _binary("equal", numeric=False),
    exp.NEQ: _binary("not_equal", numeric=False),
    exp.GT: _binary("greater", numeric=False),
    exp.GTE: _binary("greater_equal", numeric=False),
    exp.LT: _binary("less", numeric=False),
    exp.LTE: _binary("less_equal", numeric=False),
    exp.And: _binary("and_kleene", numeric=False),
    exp.Or: _binary("or_kleene", numeric=False),
    exp.DPipe: lambda c, n: c._function(
        exp.Anonymous(this="concat", expressions=[n.this, n.expression])
    ),
    exp.Not: _not,
    exp.Neg: _neg,
    exp.Is: _is,
    exp.In: _in,
    exp.Case: _case,
    exp.If: _if,
    exp.Coalesce: _coalesce,
    exp.Cast: _cast,
}
