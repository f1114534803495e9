"""Property-based transform tests: random expression trees against a plain-Python SQL evaluator."""

from collections.abc import Callable
from functools import cache
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.transforms import compile_transform
from tests.engine.transform_helpers import DEC, D

# Property-based: random expression trees, rendered to SQL and evaluated in plain Python with
# SQL's NULL semantics, must agree with the compiled transform row by row.


Node = tuple[Any, ...]
SMALL_INTS = st.integers(-10, 10)
TEXTS = st.text(alphabet="aAbB é'", max_size=4)


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return _sql_string(value)


@cache
def expressions(kind: str, depth: int, value_kind: str) -> st.SearchStrategy[Node]:
    """Expressions of `kind` (int, str or bool) over {v} of `value_kind`, at most `depth` deep."""
    literals = {"int": SMALL_INTS, "str": TEXTS, "bool": st.booleans()}[kind]
    literal = literals.map(lambda x: ("lit", x))
    # NULL one leaf in three (or five, when {v} can be one: then {v} is two of them)
    leaves = [literal, literal, st.just(("null",))]
    if kind == value_kind:
        leaves += [st.just(("v",))] * 2
    if depth == 0:
        return st.one_of(leaves)

    def sub(k: str) -> st.SearchStrategy[Node]:
        return expressions(k, depth - 1, value_kind)

    same, condition = sub(kind), sub("bool")
    compound: list[st.SearchStrategy[Any]] = [
        st.tuples(
            st.just("case"),
            st.lists(st.tuples(condition, same), min_size=1, max_size=3).map(tuple),
            st.none() | same,
        ),
        st.tuples(st.just("if"), condition, same, same),
        st.tuples(st.just("coalesce"), st.lists(same, min_size=1, max_size=3).map(tuple)),
    ]
    if kind == "int":
        compound += [
            st.tuples(st.just("arith"), st.sampled_from("+-*"), same, same),
            st.tuples(st.just("neg"), same),
            st.tuples(st.just("length"), sub("str")),
        ]
    elif kind == "str":
        compound += [
            st.tuples(st.sampled_from(["lower", "upper"]), same),
            st.tuples(st.just("concat"), same, same),
        ]
    else:
        ordered = st.sampled_from(["=", "<>", "!=", "<", "<=", ">", ">="])
        compound += [
            st.tuples(st.just("cmp"), ordered, sub("int"), sub("int")),
            st.tuples(st.just("cmp"), ordered, sub("str"), sub("str")),
            st.tuples(st.just("cmp"), st.sampled_from(["=", "<>"]), same, same),
            st.tuples(st.sampled_from(["and", "or"]), same, same),
            st.tuples(st.just("not"), same),
            st.tuples(st.just("isnull"), st.booleans(), sub("int") | sub("str") | same),
        ]
        for k, values in (("int", SMALL_INTS), ("str", TEXTS), ("bool", st.booleans())):
            compound.append(
                st.tuples(
                    st.just("in"),
                    st.booleans(),
                    sub(k),
                    st.lists(values, min_size=1, max_size=3).map(tuple),
                )
            )
    return st.one_of(*leaves, *compound)


def render(node: Node) -> str:
    op, *args = node

    def r(child: Node) -> str:
        return f"({render(child)})"

    if op == "v":
        return "{v}"
    if op == "null":
        return "NULL"
    if op == "lit":
        text = _sql_literal(args[0])
        return f"({text})" if text.startswith("-") else text  # a minus binds to the literal
    if op == "case":
        branches, default = args
        whens = " ".join(f"WHEN {r(c)} THEN {r(v)}" for c, v in branches)
        return f"CASE {whens}" + ("" if default is None else f" ELSE {r(default)}") + " END"
    if op == "if":
        return f"IF({r(args[0])}, {r(args[1])}, {r(args[2])})"
    if op == "coalesce":
        return "coalesce(" + ", ".join(r(a) for a in args[0]) + ")"
    if op in ("arith", "cmp"):
        return f"{r(args[1])} {args[0]} {r(args[2])}"
    if op == "neg":
        return f"-{r(args[0])}"
    if op in ("length", "lower", "upper"):
        return f"{op}({r(args[0])})"
    if op == "concat":
        return f"{r(args[0])} || {r(args[1])}"
    if op in ("and", "or"):
        return f"{r(args[0])} {op.upper()} {r(args[1])}"
    if op == "not":
        return f"NOT {r(args[0])}"
    if op == "isnull":
        return f"{r(args[1])} IS {'NOT ' if args[0] else ''}NULL"
    if op == "in":
        negated, operand, values = args
        items = ", ".join(_sql_literal(x) for x in values)
        return f"{r(operand)} {'NOT ' if negated else ''}IN ({items})"
    raise AssertionError(op)


COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
}


def evaluate(node: Node, v: Any) -> Any:
    """The SQL value of `node` for one row whose {v} is `v` (None is NULL)."""
    op, *args = node
    if op == "v":
        return v
    if op == "null":
        return None
    if op == "lit":
        return args[0]
    if op == "case":
        for condition, value in args[0]:
            if evaluate(condition, v) is True:  # a NULL condition counts as false
                return evaluate(value, v)
        return None if args[1] is None else evaluate(args[1], v)
    if op == "if":
        return evaluate(args[1] if evaluate(args[0], v) is True else args[2], v)
    if op == "coalesce":
        return next((x for x in (evaluate(a, v) for a in args[0]) if x is not None), None)
    if op == "not":
        x = evaluate(args[0], v)
        return None if x is None else not x
    if op == "and":
        a, b = evaluate(args[0], v), evaluate(args[1], v)
        return False if a is False or b is False else None if a is None or b is None else True
    if op == "or":
        a, b = evaluate(args[0], v), evaluate(args[1], v)
        return True if a is True or b is True else None if a is None or b is None else False
    if op == "isnull":
        return (evaluate(args[1], v) is None) != args[0]
    if op == "in":
        negated, operand, values = args
        x = evaluate(operand, v)
        return None if x is None else (x in values) != negated
    if op in ("neg", "length", "lower", "upper"):
        x = evaluate(args[0], v)
        functions: dict[str, Callable[[Any], Any]] = {
            "neg": lambda x: -x,
            "length": len,
            "lower": str.lower,
            "upper": str.upper,
        }
        return None if x is None else functions[op](x)
    if op == "concat":
        a, b = evaluate(args[0], v), evaluate(args[1], v)
        return None if a is None or b is None else a + b
    if op in ("arith", "cmp"):
        a, b = evaluate(args[1], v), evaluate(args[2], v)
        if a is None or b is None:
            return None
        return (ARITH if op == "arith" else COMPARE)[args[0]](a, b)
    raise AssertionError(op)


def _expected_type_ok(kind: str, arrow_type: pa.DataType) -> bool:
    if pa.types.is_null(arrow_type):  # every branch was a NULL literal
        return True
    return {"int": pa.types.is_integer, "str": pa.types.is_string, "bool": pa.types.is_boolean}[
        kind
    ](arrow_type)


def check_against_python(node: Node, kind: str, values: list, arrow_type: pa.DataType) -> None:
    text = render(node)
    result = compile_transform(text)(pa.array(values, arrow_type))
    expected = [evaluate(node, v) for v in values]
    assert result.to_pylist() == expected, text
    assert _expected_type_ok(kind, result.type), (text, result.type)


VALUE_ARRAYS = {
    "int": (st.lists(st.none() | SMALL_INTS, max_size=8), pa.int64()),
    "str": (st.lists(st.none() | TEXTS, max_size=8), pa.string()),
    "bool": (st.lists(st.none() | st.booleans(), max_size=8), pa.bool_()),
}


def _property(value_kind: str) -> Callable[..., None]:
    values, arrow_type = VALUE_ARRAYS[value_kind]
    kinds = st.sampled_from(["int", "str", "bool"])

    @settings(max_examples=200, deadline=None)
    @given(data=st.data(), values=values, kind=kinds)
    def test(data: st.DataObject, values: list, kind: str) -> None:
        node = data.draw(expressions(kind, 3, value_kind), label="expression")
        check_against_python(node, kind, values, arrow_type)

    return test


test_random_expressions_over_ints = _property("int")
test_random_expressions_over_strings = _property("str")
test_random_expressions_over_booleans = _property("bool")


INT64 = st.integers(-(2**63), 2**63 - 1)


@settings(max_examples=200, deadline=None)
@given(
    op=st.sampled_from("+-*"),
    left=st.lists(st.none() | INT64, min_size=1, max_size=4),
    right=st.lists(st.none() | INT64, min_size=1, max_size=4),
)
def test_integer_overflow_raises_instead_of_wrapping(
    op: str, left: list[int | None], right: list[int | None]
) -> None:
    right = (right * len(left))[: len(left)]
    transform = compile_transform(f"{{v}} {op} {{w}}")
    exact = [
        None if a is None or b is None else ARITH[op](a, b)
        for a, b in zip(left, right, strict=True)
    ]
    inputs = {"w": pa.array(right, pa.int64())}
    if all(x is None or -(2**63) <= x < 2**63 for x in exact):
        assert transform(pa.array(left, pa.int64()), inputs).to_pylist() == exact
    else:
        with pytest.raises(pa.ArrowInvalid, match="overflow"):
            transform(pa.array(left, pa.int64()), inputs)


DECIMAL_TEXT = st.decimals(
    min_value=-(10**6), max_value=10**6, places=4, allow_nan=False, allow_infinity=False
).map(str)


@settings(max_examples=200, deadline=None)
@given(
    op=st.sampled_from("+-*"),
    pairs=st.lists(st.tuples(st.none() | DECIMAL_TEXT, st.none() | DECIMAL_TEXT), max_size=6),
)
def test_decimal_text_arithmetic_is_exact(op: str, pairs: list[tuple[Any, Any]]) -> None:
    left, right = [p[0] for p in pairs], [p[1] for p in pairs]
    transform = compile_transform(f"{{v}} {op} {{w}}")
    result = transform(pa.array(left, pa.string()), {"w": pa.array(right, pa.string())})
    assert result.type == DEC
    expected = [
        None if a is None or b is None else ARITH[op](D(a), D(b))
        for a, b in zip(left, right, strict=True)
    ]
    assert result.to_pylist() == expected


@settings(max_examples=200, deadline=None)
@given(
    op=st.sampled_from(sorted(COMPARE)),
    values=st.lists(st.none() | DECIMAL_TEXT, max_size=6),
    number=st.integers(-5, 5) | st.sampled_from([0.5, -1.25, 2.75]),
)
def test_decimal_text_compares_as_a_number(op: str, values: list, number: float) -> None:
    literal = f"({number})" if number < 0 else str(number)
    result = compile_transform(f"{{v}} {op} {literal}")(pa.array(values, pa.string()))
    expected = [None if x is None else COMPARE[op](D(x), D(str(number))) for x in values]
    assert result.to_pylist() == expected
