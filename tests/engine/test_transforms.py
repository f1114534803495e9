import pyarrow as pa
import pytest

from workers.engine.transforms import TransformError, compile_transform


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
        ("foo({v})", "not allowed"),
        ("other_column", "unknown identifier"),
        ("CASE {v} WHEN 1 THEN 2 END", "searched form"),
        ("{v} +", "cannot parse"),
    ],
)
def test_rejected_transforms(text: str, fragment: str) -> None:
    with pytest.raises(TransformError, match=fragment):
        compile_transform(text)
