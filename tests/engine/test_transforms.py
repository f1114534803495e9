import decimal
import math
import re
from collections.abc import Callable
from functools import cache
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.transforms import FUNCTIONS, TransformError, compile_transform


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        (
            "CASE WHEN {v} = false THEN 'buy' ELSE 'sell' END",
            [True, False, None],
            ["sell", "buy", "sell"],
        ),
        (
            "CASE WHEN {v} THEN 'sell' WHEN NOT {v} THEN 'buy' END",
            [True, False, None],
            ["sell", "buy", None],
        ),
        ("lower({v})", ["Buy", "SELL", None], ["buy", "sell", None]),
        ("upper(trim({v}))", [" a ", None], ["A", None]),
        ("{v} * 1000", [1, 2, None], [1000, 2000, None]),
        ("({v} + 1) * 2 - 3", [1, None], [1, None]),
        ("coalesce({v}, 0)", [5, None], [5, 0]),
        ("CAST({v} AS VARCHAR)", [12, None], ["12", None]),
        ("{v} IN ('a', 'b')", ["a", "c", None], [True, False, None]),
        ("{v} IS NULL", [1, None], [False, True]),
        ("{v} > 2 AND {v} <= 4", [1, 3, 5], [False, True, False]),
        ("abs({v})", [-3, 3], [3, 3]),
        ("length({v})", ["abc", ""], [3, 0]),
    ],
)
def test_compiled_transforms(text: str, values: list, expected: list) -> None:
    assert compile_transform(text)(pa.array(values)).to_pylist() == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("(SELECT 1)", "Subquery"),
        ("foo({v})", "unknown function .foo."),
        ("other_column", "unknown identifier"),
        ("CASE {v} WHEN 1 THEN 2 END", "searched form"),
        ("{v} +", "cannot parse"),
    ],
)
def test_rejected_transforms(text: str, fragment: str) -> None:
    with pytest.raises(TransformError, match=fragment):
        compile_transform(text)


# ---------------------------------------------------------------------------------------------
# Every node kind and function, each with NULLs in the input: exact values and arrow types.

D = decimal.Decimal
DEC = pa.decimal128(38, 18)  # what arithmetic on decimal text gives
I64, F64, STR, BOOL, NULL = pa.int64(), pa.float64(), pa.string(), pa.bool_(), pa.null()
DECIMALS = ["1.50", None, "-2.5", "0.125"]  # decimals travel as their exact text
TRUTH_V = [True, True, True, False, False, False, None, None, None]
TRUTH_W = [True, False, None] * 3


def case(
    text: str,
    values: list,
    expected: list,
    out_type: pa.DataType,
    *,
    in_type: pa.DataType | None = None,
    inputs: dict[str, list] | None = None,
) -> Any:
    return pytest.param(text, values, in_type, inputs or {}, expected, out_type, id=text)


NODE_CASES = [
    # {v}, parentheses and literals (a literal is broadcast to the batch's length)
    case("{v}", [1, None], [1, None], I64),
    case("({v})", ["a", None], ["a", None], STR),
    case("'x'", [1, None], ["x", "x"], STR),
    case("'it''s'", [1, None], ["it's", "it's"], STR),
    case("'{v} {type}'", [1, None], ["{v} {type}", "{v} {type}"], STR),
    case("42", [1, None], [42, 42], I64),
    case("-5", [1, None], [-5, -5], I64),
    case("1.5", [1, None], [1.5, 1.5], F64),
    case("1e3", [1, None], [1000.0, 1000.0], F64),
    case("true", [1, None], [True, True], BOOL),
    case("false", [1, None], [False, False], BOOL),
    case("NULL", [1, None], [None, None], NULL),
    case("{v} -- a comment", [1, None], [1, None], I64),
    # arithmetic on integers stays int64 (division truncates toward zero) and is checked
    case("{v} + 1", [1, None, -3], [2, None, -2], I64),
    case("{v} - 1", [1, None, -3], [0, None, -4], I64),
    case("{v} * 3", [1, None, -3], [3, None, -9], I64),
    case("{v} / 2", [7, -7, None, 1], [3, -3, None, 0], I64),
    case("-{v}", [1, None, -3], [-1, None, 3], I64),
    case("- -{v}", [1, None], [1, None], I64),
    case("2 + 3 * {v}", [1, None], [5, None], I64),
    case("(2 + 3) * {v}", [1, None], [5, None], I64),
    case("{v} + NULL", [1, None], [None, None], I64),
    case("NULL * {v}", [1, None], [None, None], I64),
    case("{v} + {w}", [1, None, 3], [11, None, None], I64, inputs={"w": [10, 20, None]}),
    # ... with a float it is float64
    case("{v} + 1.5", [1, None], [2.5, None], F64),
    case("{v} / 2.0", [7, None], [3.5, None], F64),
    case("{v} * 0.5", [3.0, None], [1.5, None], F64),
    case("{v} - {v}", [2.5, None], [0.0, None], F64),
    # ... and on decimal text it is decimal128(38, 18)
    case("{v} + 1", DECIMALS, [D("2.5"), None, D("-1.5"), D("1.125")], DEC),
    case("1 + {v}", DECIMALS, [D("2.5"), None, D("-1.5"), D("1.125")], DEC),
    case("{v} - 1", DECIMALS, [D("0.5"), None, D("-3.5"), D("-0.875")], DEC),
    case("{v} * 2", DECIMALS, [D("3"), None, D("-5"), D("0.25")], DEC),
    case("{v} * {v}", DECIMALS, [D("2.25"), None, D("6.25"), D("0.015625")], DEC),
    case("{v} / 2", DECIMALS, [D("0.75"), None, D("-1.25"), D("0.0625")], DEC),
    case(
        "{v} / 3",
        DECIMALS,
        [D("0.5"), None, D("-0.833333333333333333"), D("0.041666666666666667")],
        DEC,
    ),
    case("({v} * 2) * 3 + {v}", DECIMALS, [D("10.5"), None, D("-17.5"), D("0.875")], DEC),
    case("-{v}", DECIMALS, [D("-1.5"), None, D("2.5"), D("-0.125")], DEC),
    case("{v} + NULL", DECIMALS, [None] * 4, DEC),
    case("{v} + 0.5", DECIMALS, [2.0, None, -2.0, 0.625], F64),
    case(
        "{v} * {w}",
        ["1.1", "2", None],
        [D("3.63"), None, None],
        DEC,
        inputs={"w": ["3.3", None, "1"]},
    ),
    case(
        "CAST({v} AS DECIMAL(10,2)) + 1",
        ["1.25", None],
        [D("2.25"), None],
        DEC,
    ),
    # comparisons
    case("{v} = 2", [1, 2, 3, None], [False, True, False, None], BOOL),
    case("{v} != 2", [1, 2, 3, None], [True, False, True, None], BOOL),
    case("{v} <> 2", [1, 2, 3, None], [True, False, True, None], BOOL),
    case("{v} < 2", [1, 2, 3, None], [True, False, False, None], BOOL),
    case("{v} <= 2", [1, 2, 3, None], [True, True, False, None], BOOL),
    case("{v} > 2", [1, 2, 3, None], [False, False, True, None], BOOL),
    case("{v} >= 2", [1, 2, 3, None], [False, True, True, None], BOOL),
    case("2 > {v}", [1, 2, 3, None], [True, False, False, None], BOOL),
    case("{v} >= 2", [1.5, 2.0, None], [False, True, None], BOOL),
    case("{v} < 'b'", ["a", "b", "c", None], [True, False, False, None], BOOL),
    case("{v} = 'b'", ["a", "b", "c", None], [False, True, False, None], BOOL),
    case("{v} = true", [True, False, None], [True, False, None], BOOL),
    case("{v} = NULL", [1, None], [None, None], BOOL),
    case("NULL <> {v}", ["a", None], [None, None], BOOL),
    case("NULL = NULL", [1, None], [None, None], BOOL),
    case("{v} = {w}", [1, 2, None], [True, False, None], BOOL, inputs={"w": [1, 3, 4]}),
    # ... a decimal's text compared with a number compares as numbers
    case("{v} = 1.5", ["1.50", "1.5", "2", None], [True, True, False, None], BOOL),
    case("{v} = 2", ["1.50", "1.5", "2.0", None], [False, False, True, None], BOOL),
    case("{v} > 1", ["1.50", "0.9", "-3", None], [True, False, False, None], BOOL),
    case("2 <= {v}", ["1.50", "2", "10", None], [False, True, True, None], BOOL),
    case("{v} = '1.5'", ["1.50", "1.5", None], [False, True, None], BOOL),  # two strings
    # AND / OR / NOT: three-valued logic
    case(
        "{v} AND {w}",
        TRUTH_V,
        [True, False, None, False, False, False, None, False, None],
        BOOL,
        inputs={"w": TRUTH_W},
    ),
    case(
        "{v} OR {w}",
        TRUTH_V,
        [True, True, True, True, False, None, True, None, None],
        BOOL,
        inputs={"w": TRUTH_W},
    ),
    case("NOT {v}", [True, False, None], [False, True, None], BOOL),
    case("NOT NOT {v}", [True, False, None], [True, False, None], BOOL),
    case("{v} AND NULL", [True, False, None], [None, False, None], BOOL),
    case("NULL OR {v}", [True, False, None], [True, None, None], BOOL),
    case("NOT NULL", [1, None], [None, None], BOOL),
    case("NULL AND NULL", [1, None], [None, None], BOOL),
    case("{v} > 0 OR {v} IS NULL", [1, -1, None], [True, False, True], BOOL),
    case("{v} > 0 AND {v} < 10 OR {v} = -1", [5, 50, -1, None], [True, False, True, None], BOOL),
    case("NOT ({v} > 0)", [1, -1, None], [False, True, None], BOOL),
    # searched CASE: first true branch wins; no match -> ELSE or NULL; NULL condition is false
    case(
        "CASE WHEN {v} > 0 THEN 'pos' WHEN {v} > -10 THEN 'small' ELSE 'neg' END",
        [5, -5, -50, None],
        ["pos", "small", "neg", "neg"],
        STR,
    ),
    case(
        "CASE WHEN {v} > 0 THEN 'a' WHEN {v} > 1 THEN 'b' END", [2, 0, None], ["a", None, None], STR
    ),
    case("CASE WHEN {v} THEN 1 END", [True, False, None], [1, None, None], I64),
    case("CASE WHEN {v} > 0 THEN 1 ELSE 0 END", [1, -1, None], [1, 0, 0], I64),
    case(
        "CASE WHEN {v} > 0 THEN 1 WHEN {v} < 0 THEN 2.5 END",
        [1, -1, 0, None],
        [1.0, 2.5, None, None],
        F64,
    ),
    case("CASE WHEN {v} > 0 THEN {v} ELSE NULL END", [3, -3, None], [3, None, None], I64),
    case("CASE WHEN NULL THEN 1 ELSE 2 END", [1, None], [2, 2], I64),
    case("CASE WHEN {v} > 0 THEN NULL END", [1, None], [None, None], NULL),
    case(
        "CASE WHEN {v} > 0 THEN CAST({v} AS DECIMAL(10,2)) ELSE 0 END",
        [3, -3, None],
        [D("3"), D("0"), D("0")],
        DEC,
    ),
    case(
        "CASE WHEN {v} > 0 THEN CAST({v} AS DECIMAL(10,2)) END",
        [3, -3, None],
        [D("3"), None, None],
        pa.decimal128(10, 2),
    ),
    # IF(c, a, b) is CASE WHEN c THEN a ELSE b END
    case("IF({v} > 0, 'p', 'n')", [1, -1, None], ["p", "n", "n"], STR),
    case("IF({v} > 0, {v})", [1, -1, None], [1, None, None], I64),
    case("IF({v}, 1, 2.5)", [True, False, None], [1.0, 2.5, 2.5], F64),
    case("IF(NULL, 1, 2)", [1, None], [2, 2], I64),
    # IN (a list of literals); a NULL operand gives NULL
    case("{v} IN (1, 3)", [1, 2, 3, None], [True, False, True, None], BOOL),
    case("{v} NOT IN (1, 3)", [1, 2, 3, None], [False, True, False, None], BOOL),
    case("{v} IN ('a')", ["a", "b", None], [True, False, None], BOOL),
    case("{v} IN (-1, 0)", [-1, 1, None], [True, False, None], BOOL),
    case("{v} IN (1.5, 2)", [2, 1, None], [True, False, None], BOOL),
    case("{v} IN (2.5, 3)", [2.5, 3.0, 1.0, None], [True, True, False, None], BOOL),
    case("{v} IN (1e1)", [10, 1, None], [True, False, None], BOOL),
    case("{v} IN (1.5, 2)", ["1.50", "2", "2.5", None], [True, True, False, None], BOOL),
    case("{v} IN (true)", [True, False, None], [True, False, None], BOOL),
    case("({v} + 1) IN (2)", [1, 2, None], [True, False, None], BOOL),
    case("1 IN (1, 2)", [7, 8, 9], [True, True, True], BOOL),
    case("NULL IN (1)", [7, 8], [None, None], BOOL),
    case("CAST({v} AS DECIMAL(10,2)) IN (1.5)", ["1.5", "2", None], [True, False, None], BOOL),
    # IS NULL / IS NOT NULL
    case("{v} IS NULL", ["a", None], [False, True], BOOL),
    case("{v} IS NOT NULL", ["a", None], [True, False], BOOL),
    case("({v} + 1) IS NULL", [1, None], [False, True], BOOL),
    case("NULL IS NULL", [1, None], [True, True], BOOL),
    case("NOT {v} IS NULL", [1, None], [True, False], BOOL),
    # CAST
    case("CAST({v} AS VARCHAR)", [True, False, None], ["true", "false", None], STR),
    case("CAST({v} AS TEXT)", [1.5, None], ["1.5", None], STR),
    case("{v}::VARCHAR", [1, None], ["1", None], STR),
    case("CAST({v} AS INT)", ["12", "-3", None], [12, -3, None], I64),
    case("CAST({v} AS BIGINT)", [True, False, None], [1, 0, None], I64),
    case("CAST({v} AS DOUBLE)", [1, None], [1.0, None], F64),
    case("CAST({v} AS FLOAT)", ["2.5", None], [2.5, None], F64),
    case("CAST({v} AS BOOLEAN)", [0, 2, None], [False, True, None], BOOL),
    case("CAST({v} AS BOOLEAN)", ["true", "false", None], [True, False, None], BOOL),
    case(
        "CAST({v} AS DECIMAL(10,2))",
        ["1.5", "0.125", "-0.125", None],
        [D("1.5"), D("0.13"), D("-0.13"), None],
        pa.decimal128(10, 2),
    ),
    case("CAST({v} AS DECIMAL(10,2))", [7, None], [D("7"), None], pa.decimal128(10, 2)),
    case("CAST({v} AS DECIMAL(10,2))", [0.5, None], [D("0.5"), None], pa.decimal128(10, 2)),
    case("CAST({v} AS DECIMAL)", ["1.5", None], [D("1.5"), None], DEC),
    case("CAST({v} AS DECIMAL(5))", [7, None], [D("7"), None], pa.decimal128(5, 0)),
    case("CAST(NULL AS INT)", [1, None], [None, None], I64),
    # COALESCE
    case("coalesce({v}, 1.5)", [2, None], [2.0, 1.5], F64),
    case("coalesce({v}, NULL, 'd')", ["a", None], ["a", "d"], STR),
    case("COALESCE(NULL, {v})", [1, None], [1, None], I64),
    case("coalesce(NULL, NULL)", [1, None], [None, None], NULL),
    case(
        "coalesce({v}, {w}, 'z')",
        ["a", None, None],
        ["a", "w", "z"],
        STR,
        inputs={"w": ["x", "w", None]},
    ),
]

FUNCTION_CASES = [
    case("lower({v})", ["Buy", None, "ÉtÉ"], ["buy", None, "été"], STR),
    case("upper({v})", ["Buy", None, "ÉtÉ"], ["BUY", None, "ÉTÉ"], STR),
    case("trim({v})", ["  a b  ", None, "\tx\n"], ["a b", None, "x"], STR),
    case("ltrim({v})", ["  a b  ", None, "\tx\n"], ["a b  ", None, "x\n"], STR),
    case("rtrim({v})", ["  a b  ", None, "\tx\n"], ["  a b", None, "\tx"], STR),
    case("TRIM(LEADING FROM {v})", [" a ", None], ["a ", None], STR),
    case("length({v})", ["abc", "", "été", None], [3, 0, 3, None], pa.int32()),
    case("char_length({v})", ["abc", None], [3, None], pa.int32()),
    case("substr({v}, 2)", ["hello", "h", None], ["ello", "", None], STR),
    case("substr({v}, 2, 3)", ["hello", "h", None], ["ell", "", None], STR),
    case("substring({v}, 1, 1)", ["hello", "h", None], ["h", "h", None], STR),
    case("substring({v} FROM 2 FOR 2)", ["hello", "h", None], ["el", "", None], STR),
    case("substr({v}, 10)", ["hello", None], ["", None], STR),
    case("substr({v}, 2, 0)", ["hello", None], ["", None], STR),
    case("substr({v}, 2)", ["été", None], ["té", None], STR),
    # positions before the first character are empty (SQL), not counted from the end
    case("substr({v}, 0)", ["hello", "h", None], ["hello", "h", None], STR),
    case("substr({v}, 0, 2)", ["hello", "h", None], ["h", "h", None], STR),
    case("substr({v}, -1, 3)", ["hello", None], ["h", None], STR),
    case("replace({v}, 'a', 'XY')", ["banana", "", None], ["bXYnXYnXY", "", None], STR),
    case("replace({v}, 'an', '')", ["banana", None], ["ba", None], STR),
    case("concat({v}, '-', {v})", ["a", None], ["a-a", None], STR),
    case("concat({v}, 1, 1.5, true)", ["a", None], ["a11.5true", None], STR),
    case("concat({v})", [1, None], ["1", None], STR),
    case("{v} || '!'", ["a", None], ["a!", None], STR),
    case("'<' || {v} || '>'", ["a", None], ["<a>", None], STR),
    case("{v} || NULL", ["a", None], [None, None], STR),
    case("abs({v})", [-3, 3, None], [3, 3, None], I64),
    case("abs({v})", [-2.5, None], [2.5, None], F64),
    case("abs({v})", ["-1.50", None], [D("1.5"), None], DEC),
    # ROUND rounds halves away from zero, like SQL
    case("round({v})", [2.5, -2.5, 0.4, None], [3.0, -3.0, 0.0, None], F64),
    case("round({v}, 1)", [0.25, -0.25, None], [0.3, -0.3, None], F64),
    case(
        "round({v}, 2)",
        ["0.125", "-0.125", "2", None],
        [D("0.13"), D("-0.13"), D("2"), None],
        DEC,
    ),
    case("round({v})", ["2.5", "-2.5", None], [D("3"), D("-3"), None], DEC),
    case("round({v})", [7, None], [7, None], I64),
    case("round({v}, -1)", [15, -15, 14, None], [20, -20, 10, None], I64),
    case("floor({v})", [2.5, -2.5, None], [2.0, -3.0, None], F64),
    case("floor({v})", [3, None], [3.0, None], F64),
    case("floor({v})", ["1.5", "-1.5", None], [D("1"), D("-2"), None], DEC),
    case("ceil({v})", [2.5, -2.5, None], [3.0, -2.0, None], F64),
    case("ceiling({v})", ["1.5", "-1.5", None], [D("2"), D("-1"), None], DEC),
    case("sqrt({v})", [4, None], [2.0, None], F64),
    case("sqrt({v})", [2.25, None], [1.5, None], F64),
    case("ln({v})", [1, None], [0.0, None], F64),
    case("power({v}, 2)", [3, None, -2], [9.0, None, 4.0], F64),
    case("power(2, {v})", [10, None], [1024.0, None], F64),
    case("pow({v}, 0.5)", [4, None], [2.0, None], F64),
    # GREATEST / LEAST ignore NULLs (NULL only when all are NULL)
    case("greatest({v}, 1)", [0, 5, None], [1, 5, 1], I64),
    case("least({v}, 1)", [0, 5, None], [0, 1, 1], I64),
    case("greatest({v}, 1.5)", [1, 2, None], [1.5, 2.0, 1.5], F64),
    case("greatest({v}, 1)", ["1.50", "0.5", None], [D("1.5"), D("1"), D("1")], DEC),
    case("least({v}, 0.1)", ["1.50", None], [0.1, 0.1], F64),
    case("greatest({v}, NULL)", [1, None], [1, None], I64),
    case("greatest({v}, {w}, 3)", [1, None, 5], [4, 3, 5], I64, inputs={"w": [4, None, None]}),
    # NULLIF(a, b) is CASE WHEN a = b THEN NULL ELSE a END
    case("nullif({v}, 0)", [0, 5, None], [None, 5, None], I64),
    case("nullif({v}, '')", ["", "a", None], [None, "a", None], STR),
    case("nullif({v}, NULL)", [1, None], [1, None], I64),
    case("nullif({v}, 1.5)", ["1.50", "2", None], [None, "2", None], STR),
    case("nullif(1, {v})", [1, 2, None], [None, 1, 1], I64),
    # a NULL literal given to a function is a NULL of the function's type
    case("lower(NULL)", [1, None], [None, None], STR),
    case("length(NULL)", [1, None], [None, None], pa.int32()),
    case("substr(NULL, 2)", [1, None], [None, None], STR),
    case("sqrt(NULL)", [1, None], [None, None], F64),
]


@pytest.mark.parametrize(
    ("text", "values", "in_type", "inputs", "expected", "out_type"),
    NODE_CASES + FUNCTION_CASES,
)
def test_transform_values_and_types(
    text: str,
    values: list,
    in_type: pa.DataType | None,
    inputs: dict[str, list],
    expected: list,
    out_type: pa.DataType,
) -> None:
    transform = compile_transform(text)
    result = transform(pa.array(values, in_type), {k: pa.array(v) for k, v in inputs.items()})
    assert isinstance(result, pa.Array)
    assert result.type == out_type
    actual = result.to_pylist()
    assert actual == expected
    # == would accept 1 == 1.0 == True: the Python types must match too
    assert [type(x) for x in actual] == [type(x) for x in expected]


def test_every_function_has_a_value_case() -> None:
    texts = " ".join(p.values[0] for p in FUNCTION_CASES).lower()
    for name in FUNCTIONS:
        assert f"{name}(" in texts, name
    assert "||" in texts


def test_transcendental_functions() -> None:
    result = compile_transform("ln({v})")(pa.array([math.e, None]))
    assert result.to_pylist() == [pytest.approx(1.0), None]
    result = compile_transform("sqrt({v})")(pa.array([2, None]))
    assert result.to_pylist() == [pytest.approx(math.sqrt(2)), None]


def test_empty_batch() -> None:
    transform = compile_transform("CASE WHEN {v} > 0 THEN 'a' ELSE lower({w}) END")
    result = transform(pa.array([], pa.int64()), {"w": pa.array([], pa.string())})
    assert result.type == STR
    assert len(result) == 0


@pytest.mark.parametrize(
    ("text", "values", "message"),
    [
        ("{v} / 0", [1, None], "divide by zero"),
        ("{v} / 0", ["1.5", None], "Divide by zero"),
        ("{v} / ({v} - 1)", [1, None], "divide by zero"),
        ("sqrt({v})", [-1, None], "square root of negative number"),
        ("ln({v})", [0, None], "logarithm of zero"),
        ("{v} + 1", [2**63 - 1, None], "overflow"),
        ("{v} - 1", [-(2**63), None], "overflow"),
        ("{v} * {v}", [2**32, None], "overflow"),
        ("-{v}", [-(2**63), None], "overflow"),
        ("abs({v})", [-(2**63), None], "overflow"),
        ("{v} * 2", ["99999999999999999999", None], "does not fit"),
        ("CAST({v} AS DECIMAL(5,2))", [1000, None], "does not fit in precision 5"),
        ("CAST({v} AS INT)", ["abc", None], "Failed to parse"),
        ("{v} = 1", ["abc", None], "not a valid decimal128"),
    ],
)
def test_runtime_errors_raise(text: str, values: list, message: str) -> None:
    """Overflow and invalid input raise; they never wrap around or go quietly NULL."""
    transform = compile_transform(text)
    with pytest.raises(pa.ArrowInvalid, match=re.escape(message)):
        transform(pa.array(values))


# ---------------------------------------------------------------------------------------------
# {path}: another value of the same record


def test_path_reference_in_case() -> None:
    transform = compile_transform("CASE WHEN {type} = 'snapshot' THEN true ELSE false END")
    assert transform.inputs == ("type",)
    result = transform(
        pa.array([1, 2, 3, 4]), {"type": pa.array(["snapshot", "delta", None, "SNAPSHOT"])}
    )
    assert result.type == BOOL
    assert result.to_pylist() == [True, False, False, False]


def test_path_references_are_listed_once_in_order() -> None:
    transform = compile_transform("concat({b}, {v}, {a.x}, {b}, { a.x }, {v})")
    assert transform.inputs == ("b", "a.x")
    inputs = {"b": pa.array(["B", None]), "a.x": pa.array(["X", "Y"])}
    assert transform(pa.array(["v", "w"]), inputs).to_pylist() == ["BvXBXv", None]


def test_path_references_with_the_value() -> None:
    transform = compile_transform("{data.m} * {v} + {data.m}")
    assert transform.inputs == ("data.m",)
    result = transform(pa.array([2, 3, None]), {"data.m": pa.array(["1.5", None, "2"])})
    assert result.type == DEC
    assert result.to_pylist() == [D("4.5"), None, None]


@pytest.mark.parametrize(
    ("text", "inputs"),
    [
        ("{v}", ()),
        ("lower({v}) || upper({v})", ()),
        ("'{type}' || {v}", ()),  # braces in a string literal are text
        ("{x} IS NULL", ("x",)),
        ("{ x } = {x}", ("x",)),
        ("coalesce({c}, {b}, {a}, {v})", ("c", "b", "a")),
    ],
)
def test_transform_inputs(text: str, inputs: tuple[str, ...]) -> None:
    assert compile_transform(text).inputs == inputs


def test_braces_in_string_literals_are_text() -> None:
    transform = compile_transform("{v} = '{v}' OR {v} = '{type}'")
    assert transform.inputs == ()
    assert transform(pa.array(["{v}", "{type}", "x", None])).to_pylist() == [
        True,
        True,
        False,
        None,
    ]


# ---------------------------------------------------------------------------------------------
# Rejections: TransformError with the reason and the 1-based character position

ALLOWED = ", ".join(sorted(FUNCTIONS))


def rejection(text: str, fragment: str, position: int | None, *marks: Any) -> Any:
    return pytest.param(text, fragment, position, id=text, marks=marks)


def wrong_position(reason: str) -> Any:
    return pytest.mark.xfail(strict=True, reason=reason)


INSIDE = "the position is that of the first token inside the node, not of the node's start"

REJECTIONS = [
    # subqueries and statements
    rejection("{v} IN (SELECT 1)", "IN takes a list of literals", 1),
    rejection("{v} IN (SELECT {v})", "IN takes a list of literals", 1),
    rejection("(SELECT 1)", "Subquery is not allowed in transforms", 1),
    rejection("{v} + (SELECT 1)", "Subquery is not allowed in transforms", 7),
    rejection("EXISTS(SELECT 1)", "unknown function 'exists'; allowed:", 1),
    rejection("SELECT 1", "Select is not allowed in transforms", 1),
    rejection("{v}; DROP TABLE x", "Block is not allowed in transforms", 1),
    # unknown functions: the message lists the allowed ones
    rejection("foo({v})", f"unknown function 'foo'; allowed: {ALLOWED}", 1),
    rejection("{v} + foo(1)", f"unknown function 'foo'; allowed: {ALLOWED}", 7),
    rejection("  frobnicate({v})", f"unknown function 'frobnicate'; allowed: {ALLOWED}", 3),
    rejection(
        "log({v})",
        f"unknown function 'log'; allowed: {ALLOWED}",
        1,
    ),
    rejection(
        "max({v})",
        f"unknown function 'max'; allowed: {ALLOWED}",
        1,
    ),
    rejection("{v} % 2", "Mod is not allowed in transforms", 1),
    # unknown identifiers
    rejection("other_column", "'other_column': unknown identifier: use {v} for the value", 1),
    rejection("{v} + other", "'other': unknown identifier", 7),
    rejection("{data.m} > nope", "'nope': unknown identifier", 12),
    rejection("{type} = 1 AND nope", "'nope': unknown identifier", 16),
    rejection("a.b", "'a.b': unknown identifier", 1),
    rejection('"quoted"', "unknown identifier", 1),
    # LIKE and other operators outside the whitelist
    rejection("{v} LIKE 'a%'", "Like is not allowed in transforms", 1),
    rejection("{v} = 'x' OR {v} LIKE 'a%'", "\"{v} LIKE 'a%'\": Like is not allowed", 14),
    rejection("{v} NOT LIKE 'a'", "Like is not allowed in transforms", 1),
    rejection("{v} ILIKE 'a'", "ILike is not allowed in transforms", 1),
    rejection("{v} BETWEEN 1 AND 2", "Between is not allowed in transforms", 1),
    rejection("{v} IS 1", "only IS NULL / IS NOT NULL are supported", 1),
    # IN takes literals of one type
    rejection("{v} IN ({v}, 1)", "IN takes a list of literals", 1),
    rejection("{v} IN (1, 2 + 3)", "IN takes a list of literals", 1),
    rejection("{v} IN (1, NULL)", "IN takes a list of literals", 1),
    rejection("1 + ({v} IN (-{v}))", "IN takes a list of literals", 6),
    rejection("{v} IN (1, 'a')", "the values in an IN list must have one type", 1),
    rejection("{v} IN (true, 1)", "the values in an IN list must have one type", 1),
    # CASE x WHEN ...: the position is the operand that makes it the simple form
    rejection("CASE {v} WHEN 1 THEN 2 END", "use the searched form: CASE WHEN condition", 1),
    rejection("1 + CASE {v} WHEN 1 THEN 2 END", "use the searched form", 5),
    # CAST to a type outside the list
    rejection("CAST({v} AS DATE)", "cannot CAST to DATE", 1),
    rejection("1 + CAST({v} AS DATE)", "cannot CAST to DATE", 5),
    # unparsable text: the position is sqlglot's, the last token it read
    rejection("{v} +", "cannot parse transform: Required keyword: 'expression' missing", 5),
    rejection("{v} + + ", "cannot parse transform", 7),
    rejection("{v} = = 1", "cannot parse transform", 7),
    rejection("((", "cannot parse transform", 2),
    rejection("1 2", "cannot parse transform: Invalid expression / Unexpected token", 3),
    rejection("{v} ~ 'a'", "cannot parse transform: Invalid expression / Unexpected token", 5),
    rejection("CASE WHEN {v} THEN 1", "cannot parse transform: Expected END after CASE", 20),
    rejection("", "cannot parse transform: No expression was parsed", None),
    rejection("   ", "cannot parse transform: No expression was parsed", None),
    rejection("'abc", "cannot parse transform: Error tokenizing", None),
    rejection("{v} || 'abc", "cannot parse transform: Error tokenizing", None),
    rejection(
        "{v} +\n+",
        "cannot parse transform",
        7,
    ),
    rejection(
        "1 +\n\n)",
        "cannot parse transform",
        6,
    ),
    # wrong number of arguments: checked by the compiler ...
    rejection("substr({v})", "'SUBSTRING({v})': substr takes 2 to 3 argument(s)", 1),
    rejection("{v} + substr({v})", "substr takes 2 to 3 argument(s)", 7),
    rejection("substr({v}, 1, 2, 3)", "substr takes 2 to 3 argument(s)", 1),
    rejection("replace({v}, 'a')", "replace takes 3 argument(s)", 1),
    rejection("round({v}, 1, 2)", "round takes 1 to 2 argument(s)", 1),
    rejection("length({v}, 2)", "length takes 1 argument(s)", 1),
    rejection("ltrim({v}, 'x')", "ltrim takes 1 argument(s)", 1),
    rejection("rtrim({v}, 'x')", "rtrim takes 1 argument(s)", 1),
    rejection("floor({v}, 2)", "floor takes 1 argument(s)", 1),
    rejection("{v} + ceil({v}, 2)", "ceil takes 1 argument(s)", 7),
    rejection("trim({v}, 'x')", "trim takes 1 argument(s)", 1),
    # ... or by sqlglot, at the closing parenthesis or the missing argument
    rejection(
        "lower({v}, 1)",
        "cannot parse transform: The number of provided arguments (2) is greater than the "
        "maximum number of supported arguments (1)",
        13,
    ),
    rejection("{v} + upper({v}, 1)", "number of provided arguments (2)", 19),
    rejection("nullif({v}, 1, 2)", "number of provided arguments (3)", 17),
    rejection("sqrt()", "Required keyword: 'this' missing", 6),
    rejection("abs()", "Required keyword: 'this' missing", 5),
    rejection("nullif({v})", "Required keyword: 'expression' missing", 11),
    rejection("power({v})", "Required keyword: 'expression' missing", 10),
    rejection("concat()", "Required keyword: 'expressions' missing", 8),
    rejection("coalesce()", "Required keyword: 'this' missing", 10),
    rejection("greatest()", "Required keyword: 'this' missing", 10),
    rejection("IF({v})", "Required keyword: 'true' missing", 7),
    # arguments that must be literals (they become pyarrow options)
    rejection("substr({v}, {v})", "'{v}': argument 2 of substr must be integer literal", 13),
    rejection("substr({v}, 1, {v})", "argument 3 of substr must be integer literal", 16),
    rejection("substr({v}, 'a' || 'b')", "argument 2 of substr must be integer literal", 13),
    rejection("substr({v}, '1')", "argument 2 of substr must be integer literal", 13),
    rejection("substr({v}, 1.5)", "argument 2 of substr must be integer literal", 13),
    rejection("replace({v}, {v}, 'a')", "argument 2 of replace must be string literal", 14),
    rejection("replace({v}, 'a', {v})", "argument 3 of replace must be string literal", 19),
    rejection("replace({v}, 1, 'a')", "argument 2 of replace must be string literal", 14),
    rejection("round({v}, {v})", "argument 2 of round must be integer literal", 12),
    rejection("round({v}, 1 + 1)", "'1 + 1': argument 2 of round must be integer literal", 12),
    rejection("round({v}, 1.5)", "argument 2 of round must be integer literal", 12),
    # positions count in the user's text, whatever the placeholders' lengths
    rejection("{a.long.path} + {v} + nope", "unknown identifier", 23),
    rejection(
        "{a}+{b}+{c}+{d}+{e}+{f}+{g}+{h}+{i}+{j}+{k}+nope",
        "unknown identifier",
        45,
        wrong_position(
            "from the 11th distinct placeholder on, the identifier replacing a 3-character "
            "{x} is 4 characters long and shifts later positions"
        ),
    ),
]


@pytest.mark.parametrize(("text", "fragment", "position"), REJECTIONS)
def test_rejections(text: str, fragment: str, position: int | None) -> None:
    with pytest.raises(TransformError, match=re.escape(fragment)) as info:
        compile_transform(text)
    assert info.value.position == position
    if position is not None:
        assert str(info.value).endswith(f"(at character {position})")


@pytest.mark.xfail(
    strict=True, reason="tokenizer errors have no position; it should be the opening quote"
)
def test_unterminated_string_position() -> None:
    with pytest.raises(TransformError) as info:
        compile_transform("{v} || 'abc")
    assert info.value.position == 8


def test_accepted_literal_arguments() -> None:
    """Negative numbers are literals too."""
    assert compile_transform("round({v}, -2)")(pa.array([1250, None])).to_pylist() == [1300, None]
    assert compile_transform("substr({v}, -1)")(pa.array(["ab", None])).to_pylist() == ["ab", None]
    assert compile_transform("{v} IN (-1.5)")(pa.array([-1.5, 1.5])).to_pylist() == [True, False]


# ---------------------------------------------------------------------------------------------
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
