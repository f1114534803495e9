"""Compile a column transform (a small SQL scalar expression) to pyarrow.compute.

`{v}` is the column's extracted value; `{path}` (e.g. `{data.m}`, `{type}`) is another value of
the same message, read with JSON types. The expression is parsed with sqlglot and only the node
kinds in `_COMPILERS` (and the functions in `FUNCTIONS`) are accepted; anything else is
rejected with its position in the text. Nothing is ever evaluated as Python or sent to a
database: the result is a chain of pyarrow.compute calls, one per node, per batch.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

VALUE = "v"
# A string literal (kept as it is: braces in it are text) or a `{path}` placeholder.
_PLACEHOLDER_RE = re.compile(r"'(?:[^']|'')*'|\{([^{}]+)\}")
_DECIMAL = pa.decimal128(38, 18)
_ROUND_MODE = "half_towards_infinity"  # SQL rounds halves away from zero

# Everything a transform sees: "v" and the referenced paths, each an array of one batch.
Env = Mapping[str, Any]
Compiled = Callable[[Env], Any]


class TransformError(ValueError):
    """A transform that cannot be parsed or uses something outside the whitelist.

    `position` is the 1-based character offset in the transform text, when known."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message if position is None else f"{message} (at character {position})")
        self.position = position


@dataclass(frozen=True)
class Transform:
    text: str
    inputs: tuple[str, ...]  # the paths referenced besides {v}, in order of appearance
    _build: Compiled

    def __call__(self, value: pa.Array, inputs: Mapping[str, pa.Array] | None = None) -> Any:
        result = self._build({VALUE: value, **(inputs or {})})
        return _broadcast(result, len(value))


def compile_transform(text: str) -> Transform:
    """Parse `text` once; the result maps the extracted value array to the output array."""
    sql, names = _substitute_placeholders(text)
    try:
        tree = sqlglot.parse_one(sql)
    except sqlglot.errors.ParseError as exc:
        error = exc.errors[0] if exc.errors else {}
        column = error.get("col")
        position = _offset(sql, error.get("line") or 1, column) if column else None
        raise TransformError(
            f"cannot parse transform: {error.get('description', exc)}", position
        ) from None
    except sqlglot.errors.TokenError as exc:  # e.g. an unterminated string; no position known
        raise TransformError(f"cannot parse transform: {exc}") from None
    if not isinstance(tree, exp.Expression):
        raise TransformError("empty transform")
    compiler = _Compiler(names, sql)
    build = compiler.compile(tree)
    inputs = tuple(dict.fromkeys(n for n in names.values() if n != VALUE))
    return Transform(text, inputs, build)


def _substitute_placeholders(text: str) -> tuple[str, dict[str, str]]:
    """Replace each `{...}` by an identifier of the same length (when it fits), so sqlglot's
    positions are positions in the user's text."""
    names: dict[str, str] = {}
    by_path: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)
        path = match.group(1).strip()
        if path not in by_path:
            stem = f"_{len(by_path)}_"
            by_path[path] = stem + "_" * max(0, len(match.group(0)) - len(stem))
            names[by_path[path].lower()] = path
        return by_path[path]

    return _PLACEHOLDER_RE.sub(replace, text), names


# Nodes whose first token carries no position in sqlglot: found by looking back from the
# first position inside them.
_LEADING = {exp.Subquery: "(", exp.Paren: "(", exp.Select: "SELECT", exp.Exists: "EXISTS"}


def _start(node: exp.Expression, text: str) -> int | None:
    """0-based offset of the node's first character in the (substituted) text."""
    starts = [node.meta["start"]] if "start" in node.meta else []
    starts += [s for c in node.iter_expressions() if (s := _start(c, text)) is not None]
    if not starts:
        return None
    first = min(starts)
    leading = _LEADING.get(type(node))
    if leading is None and isinstance(node, exp.Func) and not isinstance(node, exp.Anonymous):
        leading = node.sql_name()
    if leading is not None:
        found = text.upper().rfind(leading, 0, first)
        if found >= 0:
            first = found
    return first


def _offset(text: str, line: int, column: int) -> int:
    """sqlglot counts columns per line; positions here count characters of the text."""
    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[: max(0, line - 1)]) + column


def _describe(node: exp.Expression, names: Mapping[str, str]) -> str:
    sql = node.sql()
    for identifier, path in names.items():
        sql = re.sub(re.escape(identifier), "{" + path + "}", sql, flags=re.IGNORECASE)
    return sql


class _Compiler:
    def __init__(self, names: Mapping[str, str], text: str) -> None:
        self.names = names
        self.text = text

    def reject(self, node: exp.Expression, why: str) -> TransformError:
        start = _start(node, self.text)
        position = start + 1 if start is not None else None
        return TransformError(f"{_describe(node, self.names)!r}: {why}", position)

    def compile(self, node: exp.Expression) -> Compiled:
        if isinstance(node, exp.Anonymous) or type(node) in _FUNCTION_NODES:
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
        name = node.name.lower() if isinstance(node, exp.Anonymous) else _FUNCTION_NODES[type(node)]
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


def _column(compiler: _Compiler, node: exp.Expression) -> Compiled:
    assert isinstance(node, exp.Column)
    path = compiler.names.get(node.name.lower()) if not node.table else None
    if path is None:
        raise compiler.reject(
            node, "unknown identifier: use {v} for the value or {path} for another field"
        )
    return lambda env: env[path]


def _literal(_compiler: _Compiler, node: exp.Expression) -> Compiled:
    assert isinstance(node, exp.Literal)
    if node.is_string:
        scalar = pa.scalar(node.this, pa.string())
    elif "." in node.this or "e" in node.this.lower():
        scalar = pa.scalar(float(node.this), pa.float64())
    else:
        scalar = pa.scalar(int(node.this), pa.int64())
    return lambda _env: scalar


def _boolean(_compiler: _Compiler, node: exp.Expression) -> Compiled:
    scalar = pa.scalar(bool(node.this), pa.bool_())
    return lambda _env: scalar


def _null(_compiler: _Compiler, _node: exp.Expression) -> Compiled:
    return lambda _env: pa.scalar(None, pa.null())


def _binary(function: str, numeric: bool) -> Callable[[_Compiler, exp.Expression], Compiled]:
    def handler(compiler: _Compiler, node: exp.Expression) -> Compiled:
        left, right = compiler.compile(node.args["this"]), compiler.compile(node.args["expression"])
        if numeric:
            return lambda env: _arithmetic(function, left(env), right(env))
        return lambda env: pc.call_function(function, _aligned(left(env), right(env)))

    return handler


def _arithmetic(function: str, left: Any, right: Any) -> Any:
    operands = [_numeric(left), _numeric(right)]
    types = [x.type for x in operands]
    if any(pa.types.is_decimal(t) for t in types) and not any(
        pa.types.is_floating(t) for t in types
    ):
        # pyarrow's decimal results need more than decimal128's 38 digits (e.g. (38,18) + (38,18)
        # is (39,18)): compute in decimal256, then round back to (38, 18).
        wide = [pc.cast(x, pa.decimal256(37, 18)) for x in operands]
        result = pc.call_function(function, wide)
        return pc.cast(pc.round(result, ndigits=18, round_mode=_ROUND_MODE), _DECIMAL)
    return pc.call_function(function, operands)


def _numeric(value: Any) -> Any:
    """Decimals travel as their exact text; arithmetic needs the number."""
    if pa.types.is_string(value.type) or pa.types.is_large_string(value.type):
        return pc.cast(value, pa.decimal128(38, 18))
    return value


def _aligned(left: Any, right: Any) -> list[Any]:
    """Compare a decimal's text with a number as numbers, like SQL would."""
    if pa.types.is_null(left.type) or pa.types.is_null(right.type):  # a NULL literal
        target = right.type if pa.types.is_null(left.type) else left.type
        target = pa.bool_() if pa.types.is_null(target) else target
        return [pc.cast(left, target), pc.cast(right, target)]
    numbers = (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)
    if any(t(right.type) for t in numbers) and pa.types.is_string(left.type):
        return [_numeric(left), right]
    if any(t(left.type) for t in numbers) and pa.types.is_string(right.type):
        return [left, _numeric(right)]
    return [left, right]


def _not(compiler: _Compiler, node: exp.Expression) -> Compiled:
    inner = compiler.compile(node.this)
    return lambda env: pc.invert(_condition(inner(env)))


def _condition(value: Any) -> Any:
    """A NULL literal where a condition is expected is an unknown boolean."""
    return pc.cast(value, pa.bool_()) if pa.types.is_null(value.type) else value


def _neg(compiler: _Compiler, node: exp.Expression) -> Compiled:
    inner = compiler.compile(node.this)
    return lambda env: pc.negate_checked(_numeric(inner(env)))


def _paren(compiler: _Compiler, node: exp.Expression) -> Compiled:
    return compiler.compile(node.this)


def _is(compiler: _Compiler, node: exp.Expression) -> Compiled:
    if not isinstance(node.expression, exp.Null):
        raise compiler.reject(node, "only IS NULL / IS NOT NULL are supported")
    inner = compiler.compile(node.this)
    return lambda env: pc.is_null(inner(env))


def _in(compiler: _Compiler, node: exp.Expression) -> Compiled:
    inner = compiler.compile(node.this)
    options = [o if isinstance(o, exp.Boolean) else _literal_node(o) for o in node.expressions]
    if not options or any(o is None for o in options):
        raise compiler.reject(node, "IN takes a list of literals")
    try:
        values = pa.array([_literal_value(o) for o in options if o is not None])
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise compiler.reject(node, "the values in an IN list must have one type") from None

    def apply(env: Env) -> Any:
        operand = _broadcast(inner(env), len(env[VALUE]))
        if pa.types.is_null(operand.type):
            return pa.nulls(len(operand), pa.bool_())
        value_set = values
        numbers = (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)
        if any(t(values.type) for t in numbers) and (
            pa.types.is_string(operand.type)
            or pa.types.is_decimal(operand.type)
            or (pa.types.is_decimal(values.type) and pa.types.is_integer(operand.type))
        ):  # compare as numbers: a decimal's text, or an integer with a decimal like 1.5
            operand, value_set = pc.cast(_numeric(operand), _DECIMAL), values.cast(_DECIMAL)
        elif pa.types.is_decimal(operand.type):
            operand, value_set = pc.cast(operand, _DECIMAL), _numeric(values)
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


def _case(compiler: _Compiler, node: exp.Expression) -> Compiled:
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
            _broadcast(pc.fill_null(_condition(cond(env)), False), length) for cond, _ in branches
        ]
        values = [_broadcast(value(env), length) for _, value in branches]
        values.append(_broadcast(default(env), length))
        target = _common_type([x.type for x in values])
        values = [x.cast(target) for x in values]
        names = [f"c{i}" for i in range(len(conditions))]
        return pc.case_when(pa.StructArray.from_arrays(conditions, names), *values)

    return apply


def _if(compiler: _Compiler, node: exp.Expression) -> Compiled:
    return _case(compiler, exp.Case(ifs=[node], default=node.args.get("false")))


def _common_type(types: list[pa.DataType]) -> pa.DataType:
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
        return pa.float64() if any(pa.types.is_floating(t) for t in known) else _DECIMAL
    return known[0]


def _broadcast(value: Any, length: int) -> Any:
    if isinstance(value, pa.Scalar):
        return pa.repeat(value, length)  # one allocation, no Python list per row
    return value


def _coalesce(compiler: _Compiler, node: exp.Expression) -> Compiled:
    parts = [compiler.compile(node.this)] + [compiler.compile(e) for e in node.expressions]

    def apply(env: Env) -> Any:
        length = len(env[VALUE])
        values = [_broadcast(p(env), length) for p in parts]
        target = _common_type([x.type for x in values])
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


def _cast(compiler: _Compiler, node: exp.Expression) -> Compiled:
    inner = compiler.compile(node.this)
    to = node.args["to"]
    if to.this == exp.DataType.Type.DECIMAL:
        params = [int(p.this.this) for p in to.expressions]
        precision, scale = [*params, 38, 18][:2] if len(params) != 1 else (params[0], 0)
        target = pa.decimal128(precision, scale)
    else:
        target = _CAST_TYPES.get(to.this)
    if target is None:
        raise compiler.reject(node, f"cannot CAST to {to.sql()}")
    if pa.types.is_decimal(target):
        return lambda env: _to_decimal(inner(env), target)
    return lambda env: pc.cast(inner(env), target)


def _to_decimal(value: Any, target: pa.Decimal128Type) -> Any:
    """CAST(... AS DECIMAL(p, s)): integers of any size are allowed (pyarrow wants p >= 19 + s)
    and extra digits are rounded away, like SQL does; a value too big for p still fails."""
    number = _numeric(value)
    if pa.types.is_integer(number.type):
        number = pc.cast(number, _DECIMAL)
    if pa.types.is_decimal(number.type) or pa.types.is_floating(number.type):
        number = pc.round(number, ndigits=target.scale, round_mode=_ROUND_MODE)
    return pc.cast(number, target)


@dataclass(frozen=True)
class Function:
    arity: tuple[int, int]
    apply: Callable[..., Any]
    literal_args: tuple[int, ...] = ()  # positions that must be literals (pyarrow options)
    string_literals: bool = False  # those literals are strings, else integers


def _round(value: Any, digits: Any = None) -> Any:
    ndigits = 0 if digits is None else digits.as_py()
    return pc.round(_numeric(value), ndigits=ndigits, round_mode=_ROUND_MODE)


def _substr(value: Any, start: Any, length: Any = None) -> Any:
    begin = start.as_py() - 1  # SQL counts from 1; positions before the first are empty
    stop = None if length is None else max(begin + length.as_py(), 0)
    return pc.utf8_slice_codeunits(_text(value), start=max(begin, 0), stop=stop)


def _text(value: Any) -> Any:
    """A NULL literal given to a string function is a NULL string."""
    return pc.cast(value, pa.string()) if pa.types.is_null(value.type) else value


def _concat(*values: Any) -> Any:
    return pc.binary_join_element_wise(*[pc.cast(v, pa.string()) for v in values], "")


def _unified_numbers(values: tuple[Any, ...]) -> list[Any]:
    numbers = [_numeric(v) for v in values]
    if any(pa.types.is_floating(v.type) for v in numbers):  # as arithmetic does
        return [pc.cast(v, pa.float64()) for v in numbers]
    if any(pa.types.is_decimal(v.type) for v in numbers):
        return [pc.cast(v, _DECIMAL) for v in numbers]
    target = _common_type([v.type for v in numbers])  # NULL literals take the others' type
    return [pc.cast(v, target) for v in numbers]


def _nullif(value: Any, other: Any) -> Any:
    equal = pc.fill_null(pc.equal(*_aligned(value, other)), False)  # NULLIF(x, NULL) is x
    return pc.if_else(equal, pa.scalar(None, value.type), value)


# The documented function whitelist: name -> (arity, pyarrow implementation).
FUNCTIONS: dict[str, Function] = {
    "lower": Function((1, 1), lambda v: pc.utf8_lower(_text(v))),
    "upper": Function((1, 1), lambda v: pc.utf8_upper(_text(v))),
    "trim": Function((1, 1), lambda v: pc.utf8_trim_whitespace(_text(v))),
    "ltrim": Function((1, 1), lambda v: pc.utf8_ltrim_whitespace(_text(v))),
    "rtrim": Function((1, 1), lambda v: pc.utf8_rtrim_whitespace(_text(v))),
    "length": Function((1, 1), lambda v: pc.utf8_length(_text(v))),
    "substr": Function((2, 3), _substr, literal_args=(1, 2)),
    "replace": Function(
        (3, 3),
        lambda v, a, b: pc.replace_substring(_text(v), a.as_py(), b.as_py()),
        literal_args=(1, 2),
        string_literals=True,
    ),
    "concat": Function((1, 1000), _concat),
    "abs": Function((1, 1), lambda v: pc.abs_checked(_numeric(v))),
    "round": Function((1, 2), _round, literal_args=(1,)),
    "floor": Function((1, 1), lambda v: pc.floor(_numeric(v))),
    "ceil": Function((1, 1), lambda v: pc.ceil(_numeric(v))),
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
_FUNCTION_NODES: dict[type[exp.Expression], str] = {
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

_COMPILERS: dict[type[exp.Expression], Callable[[_Compiler, exp.Expression], Compiled]] = {
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
