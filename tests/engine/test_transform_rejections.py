"""Rejected transforms: TransformError with the reason and the 1-based character position."""

import re
from typing import Any

import pyarrow as pa
import pytest

from engine.transforms import FUNCTIONS, TransformError, compile_transform


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
