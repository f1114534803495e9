"""Transform {path} inputs: other values of the same record."""

import pyarrow as pa
import pytest

from engine.transforms import compile_transform
from tests.engine.transform_helpers import BOOL, DEC, D


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
