"""Compile a column transform (a small SQL scalar expression over `{v}`) to pyarrow.compute.

The expression is parsed with sqlglot and only the node kinds listed in `_COMPILERS` are
accepted; everything else is rejected with the offending node's text. Nothing is ever
evaluated as Python or sent to a database.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

PLACEHOLDER = "{v}"
_VALUE_IDENTIFIER = "__v"


class TransformError(ValueError):
    """A transform that cannot be parsed or uses something outside the whitelist."""


Compiled = Callable[[pa.Array], Any]


def compile_transform(text: str) -> Compiled:
    """Parse `text` once; the result maps the extracted value array to the output array."""
    try:
        tree = sqlglot.parse_one(text.replace(PLACEHOLDER, _VALUE_IDENTIFIER))
    except sqlglot.errors.ParseError as exc:
        raise TransformError(f"cannot parse transform {text!r}: {exc}") from None
    build = _compile(tree)  # type: ignore[arg-type]

    def apply(values: pa.Array) -> Any:
        result = build(values)
        if isinstance(result, pa.Scalar):
            return pa.array([result.as_py()] * len(values), type=result.type)
        return result

    return apply


def _compile(node: exp.Expression) -> Compiled:
    compiler = _COMPILERS.get(type(node))
    if compiler is None:
        sql = (
            node.sql()
            .replace(_VALUE_IDENTIFIER.upper(), PLACEHOLDER)
            .replace(_VALUE_IDENTIFIER, PLACEHOLDER)
        )
        raise TransformError(f"{sql!r} ({type(node).__name__}) is not allowed in transforms")
    return compiler(node)


def _column(node: exp.Expression) -> Compiled:
    if isinstance(node, exp.Column) and node.name == _VALUE_IDENTIFIER and not node.table:
        return lambda v: v
    raise TransformError(f"unknown identifier {node.sql()!r}: only {PLACEHOLDER} may be used")


def _literal(node: exp.Expression) -> Compiled:
    assert isinstance(node, exp.Literal)
    if node.is_string:
        scalar = pa.scalar(node.this, pa.string())
    elif "." in node.this or "e" in node.this.lower():
        scalar = pa.scalar(float(node.this), pa.float64())
    else:
        scalar = pa.scalar(int(node.this), pa.int64())
    return lambda _v: scalar


def _boolean(node: exp.Expression) -> Compiled:
    scalar = pa.scalar(bool(node.this), pa.bool_())
    return lambda _v: scalar


def _null(_node: exp.Expression) -> Compiled:
    return lambda _v: pa.scalar(None, pa.null())


def _binary(function: str) -> Callable[[exp.Expression], Compiled]:
    def compiler(node: exp.Expression) -> Compiled:
        left, right = _compile(node.args["this"]), _compile(node.args["expression"])
        return lambda v: pc.call_function(function, [_numeric(left(v)), _numeric(right(v))])

    return compiler


def _comparison(function: str) -> Callable[[exp.Expression], Compiled]:
    def compiler(node: exp.Expression) -> Compiled:
        left, right = _compile(node.args["this"]), _compile(node.args["expression"])
        return lambda v: pc.call_function(function, [left(v), right(v)])

    return compiler


def _numeric(value: Any) -> Any:
    """Decimals travel as their exact text; arithmetic needs the number."""
    if getattr(value, "type", None) is not None and pa.types.is_string(value.type):
        return pc.cast(value, pa.decimal128(38, 18))
    return value


def _not(node: exp.Expression) -> Compiled:
    inner = _compile(node.this)
    return lambda v: pc.invert(inner(v))


def _neg(node: exp.Expression) -> Compiled:
    inner = _compile(node.this)
    return lambda v: pc.negate(_numeric(inner(v)))


def _paren(node: exp.Expression) -> Compiled:
    return _compile(node.this)


def _is(node: exp.Expression) -> Compiled:
    if not isinstance(node.expression, exp.Null):
        raise TransformError(f"{node.sql()!r}: only IS NULL / IS NOT NULL are supported")
    inner = _compile(node.this)
    return lambda v: pc.is_null(inner(v))


def _in(node: exp.Expression) -> Compiled:
    inner = _compile(node.this)
    options = node.expressions
    if not options or not all(isinstance(o, exp.Literal | exp.Boolean) for o in options):
        raise TransformError(f"{node.sql()!r}: IN takes a list of literals")
    values = pa.array([_literal_value(o) for o in options])

    def apply(v: pa.Array) -> Any:
        operand = inner(v)
        found = pc.is_in(operand, value_set=values.cast(operand.type))
        return pc.if_else(
            pc.is_null(operand), pa.scalar(None, pa.bool_()), found
        )  # SQL: NULL IN (...) is NULL

    return apply


def _literal_value(node: exp.Expression) -> Any:
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if node.is_string:
        return node.this
    return decimal.Decimal(node.this) if "." in node.this else int(node.this)


def _case(node: exp.Expression) -> Compiled:
    if node.this is not None:
        raise TransformError("use the searched form: CASE WHEN condition THEN ... END")
    branches = [(_compile(i.this), _compile(i.args["true"])) for i in node.args["ifs"]]
    default = _compile(node.args["default"]) if node.args.get("default") else _null(node)

    def apply(v: pa.Array) -> Any:
        conditions = [pc.fill_null(cond(v), False) for cond, _ in branches]
        values = [_broadcast(value(v), len(v)) for _, value in branches]
        values.append(_broadcast(default(v), len(v)))
        target = next((x.type for x in values if not pa.types.is_null(x.type)), pa.null())
        values = [x.cast(target) for x in values]
        struct = pa.StructArray.from_arrays(conditions, [f"c{i}" for i in range(len(conditions))])
        return pc.case_when(struct, *values)

    return apply


def _if(node: exp.Expression) -> Compiled:
    return _case(exp.Case(ifs=[node], default=node.args.get("false")))


def _broadcast(value: Any, length: int) -> pa.Array:
    if isinstance(value, pa.Scalar):
        return pa.array([value.as_py()] * length, type=value.type)
    return value


def _coalesce(node: exp.Expression) -> Compiled:
    parts = [_compile(node.this)] + [_compile(e) for e in node.expressions]

    def apply(v: pa.Array) -> Any:
        values = [p(v) for p in parts]
        target = values[0].type
        return pc.coalesce(
            *[
                x.cast(target) if not isinstance(x, pa.Scalar) else pa.scalar(x.as_py(), target)
                for x in values
            ]
        )

    return apply


def _unary_function(function: str) -> Callable[[exp.Expression], Compiled]:
    def compiler(node: exp.Expression) -> Compiled:
        inner = _compile(node.this)
        return lambda v: pc.call_function(function, [inner(v)])

    return compiler


_CAST_TYPES = {
    exp.DataType.Type.VARCHAR: pa.string(),
    exp.DataType.Type.TEXT: pa.string(),
    exp.DataType.Type.INT: pa.int64(),
    exp.DataType.Type.BIGINT: pa.int64(),
    exp.DataType.Type.DOUBLE: pa.float64(),
    exp.DataType.Type.FLOAT: pa.float64(),
    exp.DataType.Type.BOOLEAN: pa.bool_(),
}


def _cast(node: exp.Expression) -> Compiled:
    inner = _compile(node.this)
    to = node.args["to"]
    target = _CAST_TYPES.get(to.this)
    if target is None:
        raise TransformError(f"cannot CAST to {to.sql()!r}")
    return lambda v: pc.cast(inner(v), target)


_COMPILERS: dict[type[exp.Expression], Callable[[exp.Expression], Compiled]] = {
    exp.Column: _column,
    exp.Literal: _literal,
    exp.Boolean: _boolean,
    exp.Null: _null,
    exp.Paren: _paren,
    exp.Add: _binary("add_checked"),
    exp.Sub: _binary("subtract_checked"),
    exp.Mul: _binary("multiply_checked"),
    exp.Div: _binary("divide_checked"),
    exp.EQ: _comparison("equal"),
    exp.NEQ: _comparison("not_equal"),
    exp.GT: _comparison("greater"),
    exp.GTE: _comparison("greater_equal"),
    exp.LT: _comparison("less"),
    exp.LTE: _comparison("less_equal"),
    exp.And: _comparison("and_kleene"),
    exp.Or: _comparison("or_kleene"),
    exp.Not: _not,
    exp.Neg: _neg,
    exp.Is: _is,
    exp.In: _in,
    exp.Case: _case,
    exp.If: _if,
    exp.Coalesce: _coalesce,
    exp.Cast: _cast,
    exp.Lower: _unary_function("utf8_lower"),
    exp.Upper: _unary_function("utf8_upper"),
    exp.Trim: _unary_function("utf8_trim_whitespace"),
    exp.Length: _unary_function("utf8_length"),
    exp.Abs: _unary_function("abs_checked"),
}
