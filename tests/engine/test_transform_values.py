"""Compiled transforms: every node kind and function with NULLs, exact types, runtime errors."""

import math
import re
from typing import Any

import pyarrow as pa
import pytest

from engine.transforms import FUNCTIONS, compile_transform
from tests.engine.transform_helpers import BOOL, DEC, D


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


# ---------------------------------------------------------------------------------------------
# Every node kind and function, each with NULLs in the input: exact values and arrow types.

I64, F64, STR, NULL = pa.int64(), pa.float64(), pa.string(), pa.null()
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
