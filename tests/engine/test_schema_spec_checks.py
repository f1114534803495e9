"""load_spec issues and compile_schema errors for invalid or unsupported schemas."""

from __future__ import annotations

import re
from typing import Any

import pytest

from engine.export_schema import (
    CompiledSchema,
    SchemaError,
    SpecInvalid,
    compile_schema,
    load_spec,
)
from tests.engine.schema_helpers import (
    BINANCE,
    BYBIT_LINEAR,
    UNFOLD_DATA,
    column,
    mapping,
    meta,
    schema,
)

TS = meta("ts", "collection_timestamp_ns")


def issues_of(*columns: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(SpecInvalid) as info:
        load_spec(schema(*columns))
    assert str(info.value) == "; ".join(f"{i.field}: {i.message}" for i in info.value.issues)
    return [(i.field, i.code) for i in info.value.issues]


def price(type_name: str = "string", transform: str | None = None, path: str = "data.p") -> dict:
    return column("price", binance=mapping(path, type_name, transform))


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ([TS, meta("m", "nope")], [("columns[1].meta", "INVALID_SCHEMA")]),
        (
            [meta("t", "collection_timestamp_ns", "seconds")],
            [("columns[0].format", "INVALID_SCHEMA")],
        ),
        ([TS, meta("m", "exchange", "iso")], [("columns[1]", "INVALID_SCHEMA")]),
        ([TS, {**price(), "format": "iso"}], [("columns[1]", "INVALID_SCHEMA")]),
        ([TS, {**price(), "meta": "exchange"}], [("columns[1]", "INVALID_SCHEMA")]),
        ([TS, {"outputColumn": "m"}], [("columns[1]", "INVALID_SCHEMA")]),
        ([TS, price(), price()], [("columns[2].outputColumn", "INVALID_SCHEMA")]),
        ([TS, meta("ts", "exchange")], [("columns[1].outputColumn", "INVALID_SCHEMA")]),
        ([TS, price(path="data..p")], [("columns[1].data.binance.path", "INVALID_PATH")]),
        ([TS, price(path="data[x]")], [("columns[1].data.binance.path", "INVALID_PATH")]),
        ([TS, price(path="data.p[-1]")], [("columns[1].data.binance.path", "INVALID_PATH")]),
        ([TS, price(path="")], [("columns[1].data.binance.path", "INVALID_PATH")]),
        ([TS, price("integer")], [("columns[1].data.binance.type", "INVALID_TYPE")]),
        ([TS, price("decimal(31)")], [("columns[1].data.binance.type", "INVALID_TYPE")]),
        ([TS, price("decimal(100)")], [("columns[1].data.binance.type", "INVALID_TYPE")]),
        ([TS, price("decimal")], [("columns[1].data.binance.type", "INVALID_TYPE")]),
        (
            [TS, price(path="a..b", type_name="nope")],
            [
                ("columns[1].data.binance.path", "INVALID_PATH"),
                ("columns[1].data.binance.type", "INVALID_TYPE"),
            ],
        ),
        (
            [TS, meta("m", "nope"), price(), price(path="p[")],
            [
                ("columns[1].meta", "INVALID_SCHEMA"),
                ("columns[3].outputColumn", "INVALID_SCHEMA"),
                ("columns[3].data.binance.path", "INVALID_PATH"),
            ],
        ),
        ([], [("columns", "INVALID_SCHEMA")]),
        ([{**TS, "extra": 1}], [("columns[0].extra", "INVALID_SCHEMA")]),
        (
            [TS, column("p", binance={**mapping("p", "int"), "onError": "skip"})],
            [("columns[1].data.binance.onError", "INVALID_SCHEMA")],
        ),
    ],
)
def test_load_spec_issues(columns: list[dict], expected: list[tuple[str, str]]) -> None:
    assert issues_of(*columns) == expected


def test_load_spec_issue_messages() -> None:
    with pytest.raises(SpecInvalid) as info:
        load_spec(schema(TS, meta("m", "nope"), {**meta("x", "exchange"), "format": "iso"}))
    assert [i.message for i in info.value.issues] == [
        "Value error, format applies to meta collection_timestamp_ns only"
    ]
    with pytest.raises(SpecInvalid) as info:
        load_spec(schema(meta("t", "collection_timestamp_ns", "sec"), meta("m", "nope")))
    assert [i.message for i in info.value.issues] == [
        "unknown format 'sec'; use one of timestamp, ns, us, ms, iso",
        "unknown meta field 'nope'; use one of collection_timestamp_ns, data, exchange, "
        "market, symbol, datastream_id, unfold_tag",
    ]
    with pytest.raises(SpecInvalid, match=r"decimal scale S at most 30"):
        load_spec(schema(TS, price("decimal(31)")))
    load_spec(schema(TS, price("decimal(30)")))  # the largest scale is fine


def test_load_spec_checks_unfold_paths_and_name() -> None:
    spec = {
        **schema(TS),
        "name": "bad name",
        "sources": {
            "bybit": {"unfold": "$.data"},
            "okx": {"unfold": [{"path": "data.b", "tag": "bid"}, {"path": "data..a"}]},
        },
    }
    with pytest.raises(SpecInvalid) as info:
        load_spec(spec)
    assert [(i.field, i.code) for i in info.value.issues] == [
        ("name", "INVALID_SCHEMA"),
        ("sources.bybit.unfold", "INVALID_PATH"),
        ("sources.okx.unfold[1].path", "INVALID_PATH"),
    ]


@pytest.mark.parametrize(
    ("transform", "fragment"),
    [
        ("upper(foo({v}))", r"unknown function 'foo'.* \(at character 7\)$"),
        ("{v} || other", r"'other': unknown identifier.* \(at character 8\)$"),
        ("(SELECT 1)", r"Subquery is not allowed in transforms \(at character \d+\)$"),
        ("{v} +", r"cannot parse transform"),
        ("CASE {v} WHEN 'a' THEN 1 END", r"searched form.* \(at character \d+\)$"),
    ],
)
def test_load_spec_rejects_transforms(transform: str, fragment: str) -> None:
    with pytest.raises(SpecInvalid) as info:
        load_spec(schema(TS, price(transform=transform)))
    [issue] = info.value.issues
    assert (issue.field, issue.code) == ("columns[1].data.binance.transform", "INVALID_TRANSFORM")
    assert re.search(fragment, issue.message), issue.message


@pytest.mark.parametrize(
    ("type_name", "transform", "fragment"),
    [
        ("int", "lower({v})", "cannot apply to a int value"),
        ("bool", "{v} * 2", "cannot apply to a bool value"),
        ("string", "concat({v}, {data..x})", "unsupported path 'data..x'"),
        ("string", "concat({v}, {data.x:integer})", "unknown type 'integer'"),
    ],
)
def test_load_spec_rejects_transforms_that_cannot_apply(
    type_name: str, transform: str, fragment: str
) -> None:
    with pytest.raises(SpecInvalid) as info:
        load_spec(schema(TS, price(type_name, transform)))
    assert [(i.field, i.code) for i in info.value.issues] == [
        ("columns[1].data.binance.transform", "INVALID_TRANSFORM")
    ]
    assert fragment in info.value.issues[0].message


def test_transform_checked_only_once_path_and_type_are_valid() -> None:
    assert issues_of(TS, price("nope", "foo({v})")) == [
        ("columns[1].data.binance.type", "INVALID_TYPE")
    ]


def test_compile_schema_errors() -> None:
    with pytest.raises(SchemaError, match=r"has no mapping for 'bybit' \(column 'price'\)"):
        compile_schema(schema(TS, price()), BYBIT_LINEAR)
    with pytest.raises(SchemaError, match=r"path '\$\.p' starts at \$, but this source does not"):
        compile_schema(schema(TS, column("p", binance=mapping("$.p", "string"))), BINANCE)
    # ...while a source that unfolds accepts the same schema
    spec = schema(TS, column("p", bybit=mapping("$.p", "string")), sources=UNFOLD_DATA)
    assert isinstance(compile_schema(spec, BYBIT_LINEAR), CompiledSchema)
    with pytest.raises(SchemaError, match="no mapping"):
        compile_schema(spec, BINANCE)
    # an invalid spec given to compile_schema is a SchemaError too
    with pytest.raises(SchemaError, match="duplicate name"):
        compile_schema(schema(TS, TS), BINANCE)
