"""Validation of export requests: every problem at once, each with its input field, options
problems mapped from the engine's option model, and nothing recorded for a refused request."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.errors import DomainError, ErrorCode
from app.domain.exports import commands
from app.domain.exports.requests import OptionsRequest, parse_datastream_id
from app.domain.runtime import Runtime
from tests.domain.helpers import export_request, job_row, problems_of
from tests.helpers.inprocess import BOOK, TRADES, RecordingEffects, Seed

INVALID, NOT_FOUND = ErrorCode.INVALID_ARGUMENT, ErrorCode.NOT_FOUND


async def refused(
    runtime: Runtime, effects: RecordingEffects, seed: Seed, **fields: Any
) -> dict[tuple[str, ...], tuple[ErrorCode, str]]:
    """The problems of a create that must be refused, by field; it records and wakes nothing."""
    problems = await problems_of(
        commands.create_export(runtime, seed.principals["alpha"], export_request(**fields))
    )
    by_field = {field: (code, message) for code, field, message in problems}
    assert len(by_field) == len(problems), problems  # one problem per field here
    assert effects.woken == []
    return by_field


async def test_every_problem_is_reported_at_once_with_its_field(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    found = await refused(
        runtime,
        effects,
        seed,
        datastream_id="424242",
        start_time="2024-03-01T01:00:00Z",
        end_time="2024-03-01T00:00:00Z",
        schema="nope",
        format="XLSX",
        idempotency_key="k" * 201,
    )
    assert {field: code for field, (code, _) in found.items()} == {
        ("input", "datastreamId"): NOT_FOUND,
        ("input", "schema"): NOT_FOUND,
        ("input", "endTime"): INVALID,
        ("input", "format"): INVALID,
        ("input", "idempotencyKey"): INVALID,
    }
    assert "datastream 424242 does not exist" in found[("input", "datastreamId")][1]
    assert "endTime must be after startTime" in found[("input", "endTime")][1]


async def test_unreadable_times_are_reported_each_at_its_field(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    found = await refused(
        runtime, effects, seed, start_time="yesterday", end_time="2024-13-01T00:00:00Z"
    )
    assert set(found) == {("input", "startTime"), ("input", "endTime")}
    assert {code for code, _ in found.values()} == {INVALID}


async def test_an_empty_range_is_refused(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    same = "2024-03-01T00:01:00Z"
    found = await refused(runtime, effects, seed, start_time=same, end_time=same)
    assert list(found) == [("input", "endTime")]


async def test_bad_datastream_id_and_parquet_compression_together(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    found = await refused(
        runtime, effects, seed, datastream_id="not-a-number", format="PARQUET", compression="GZIP"
    )
    assert {field: code for field, (code, _) in found.items()} == {
        ("input", "datastreamId"): INVALID,
        ("input", "compression"): INVALID,
    }
    assert "formatOptions.compression" in found[("input", "compression")][1]


async def test_an_unknown_compression_is_refused(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    found = await refused(runtime, effects, seed, compression="BROTLI")
    assert list(found) == [("input", "compression")]


def test_datastream_ids_are_digits_with_an_optional_prefix() -> None:
    assert parse_datastream_id("ds_601", "input.datastreamId") == 601
    assert parse_datastream_id(601, "input.datastreamId") == 601
    for bad in (True, "-1", "6.01", "ds_", str(2**63), "ds_ds_1"):
        with pytest.raises(DomainError) as raised:
            parse_datastream_id(bad, "input.datastreamId")
        [problem] = raised.value.errors
        assert (problem.code, problem.field) == (INVALID, ("input", "datastreamId")), bad


async def test_a_prefixed_datastream_id_is_accepted(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    job, created = await commands.create_export(
        runtime, seed.principals["alpha"], export_request(datastream_id=f"ds_{TRADES.id}")
    )
    assert created and job.datastream_id == TRADES.id


async def test_schema_and_inline_schema_are_exclusive(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    inline = {"streamCategory": "any", "columns": [{"outputColumn": "d", "meta": "data"}]}
    found = await refused(runtime, effects, seed, schema="raw", inline_schema=inline)
    assert list(found) == [("input", "schema")]
    assert "exactly one of schema and inlineSchema" in found[("input", "schema")][1]


async def test_a_schema_for_another_kind_of_data_is_refused(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    book_only = {
        "streamCategory": "book",
        "columns": [{"outputColumn": "ts", "meta": "collection_timestamp_ns"}],
    }
    found = await refused(runtime, effects, seed, inline_schema=book_only)
    [(code, message)] = found.values()
    assert (list(found), code) == ([("input", "schema")], INVALID)
    assert "is for book data" in message and "has trades" in message


async def test_an_invalid_inline_schema_names_the_exact_place(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    inline = {
        "streamCategory": "trade",
        "columns": [
            {"outputColumn": "p", "data": {"binance": {"path": "data.p", "type": "money"}}}
        ],
    }
    found = await refused(runtime, effects, seed, inline_schema=inline)
    [field] = found
    assert field[:2] == ("input", "inlineSchema") and len(field) > 2, field
    assert "unknown type 'money'" in found[field][1]


async def test_the_normalized_schema_resolves_per_datastream_kind(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    """`normalized` names a trade and a book schema: each datastream gets its own."""
    who = seed.principals["alpha"]
    trades, _ = await commands.create_export(runtime, who, export_request(schema="normalized"))
    book, _ = await commands.create_export(
        runtime, who, export_request(schema="normalized", datastream_id=str(BOOK.id))
    )
    assert trades.schema_snapshot["streamCategory"] == "trade"
    assert book.schema_snapshot["streamCategory"] == "book"


OPTION_PROBLEMS: list[tuple[dict[str, Any], tuple[str, ...], str]] = [
    (
        {"options": OptionsRequest(columns=["price", "colour"])},
        ("input", "columns"),
        "unknown column(s) 'colour'; valid: collection_timestamp_ns, exchange_timestamp_ns",
    ),
    ({"options": OptionsRequest(columns=[])}, ("input", "columns"), "at least one column"),
    (
        {"options": OptionsRequest(columns=["price", "price"])},
        ("input", "columns"),
        "selected twice",
    ),
    ({"options": OptionsRequest(limit=0)}, ("input", "limit"), "at least 1"),
    (
        {"options": OptionsRequest(format_options={"compression": "zstd"})},
        ("input", "formatOptions", "compression"),
        "'compression' is a PARQUET option, not a CSV one",
    ),
    (
        {
            "format": "PARQUET",
            "compression": "NONE",
            "options": OptionsRequest(format_options={"delimiter": ";"}),
        },
        ("input", "formatOptions", "delimiter"),
        "'delimiter' is a CSV option, not a PARQUET one",
    ),
    (
        {"options": OptionsRequest(format_options={"colour": "red"})},
        ("input", "formatOptions", "colour"),
        "unknown CSV option 'colour'; known: delimiter, header",
    ),
    (
        {
            "format": "PARQUET",
            "options": OptionsRequest(format_options={"compression": "lz4", "compressionLevel": 3}),
        },
        ("input", "formatOptions"),
        "lz4 has no compression level",
    ),
    (
        {"options": OptionsRequest(format_options={"delimiter": "é"})},
        ("input", "formatOptions"),
        "printable ASCII",
    ),
    (
        {"options": OptionsRequest(filter={"column": "price", "op": "gt", "value": "cheap"})},
        ("input", "filter", "value"),
        "'cheap' is not a decimal(18) value",
    ),
    (
        {"options": OptionsRequest(filter={"and": [{"column": "nope", "op": "eq", "value": 1}]})},
        ("input", "filter", "and", "0", "column"),
        "unknown column 'nope'",
    ),
    (
        {"options": OptionsRequest(filter={"column": "price", "op": "contains", "value": "1"})},
        ("input", "filter", "value"),
        "contains applies to string columns",
    ),
    (
        {
            "options": OptionsRequest(
                decimation={"interval": "15x", "aggregations": [{"column": "price", "fn": "max"}]}
            )
        },
        ("input", "decimation", "interval"),
        "e.g. 15m",
    ),
    (
        {
            "options": OptionsRequest(
                decimation={"interval": "400d", "aggregations": [{"column": "price", "fn": "max"}]}
            )
        },
        ("input", "decimation", "interval"),
        "at most 366d",
    ),
    (
        {
            "end_time": "2024-03-01T01:00:00Z",  # 3.6 million buckets of 1 ms
            "options": OptionsRequest(
                decimation={
                    "interval": "1ms",
                    "fill": "previous",
                    "aggregations": [{"column": "price", "fn": "last"}],
                }
            ),
        },
        ("input", "decimation", "interval"),
        "more than the 1,000,000 allowed",
    ),
    (
        {
            "options": OptionsRequest(
                decimation={"interval": "1m", "aggregations": [{"column": "side", "fn": "sum"}]}
            )
        },
        ("input", "decimation", "aggregations", "0", "fn"),
        "sum needs a numeric column",
    ),
    ({"options": OptionsRequest(split={})}, ("input", "split"), "give by, maxRowsPerFile"),
    (
        {"options": OptionsRequest(split={"maxBytesPerFile": 10})},
        ("input", "split", "maxBytesPerFile"),
        "at least 1024",
    ),
]


@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    OPTION_PROBLEMS,
    ids=[".".join(field[1:]) + f"-{i}" for i, (_, field, _) in enumerate(OPTION_PROBLEMS)],
)
async def test_options_problems_name_their_input_field(
    runtime: Runtime,
    effects: RecordingEffects,
    seed: Seed,
    fields: dict[str, Any],
    field: tuple[str, ...],
    fragment: str,
) -> None:
    found = await refused(runtime, effects, seed, schema="normalized", **fields)
    assert field in found, found
    code, message = found[field]
    assert code == INVALID and fragment in message, message


async def test_several_options_problems_come_together(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    options = OptionsRequest(
        columns=["colour"],
        limit=-5,
        split={"by": "FORTNIGHT"},
        format_options={"header": "perhaps"},
    )
    found = await refused(
        runtime, effects, seed, schema="normalized", options=options, start_time="soon"
    )
    assert set(found) == {
        ("input", "startTime"),
        ("input", "columns"),
        ("input", "limit"),
        ("input", "split", "by"),
        ("input", "formatOptions", "header"),
    }


async def test_options_problems_are_reported_with_a_bad_datastream(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    options = OptionsRequest(limit=0, format_options={"colour": "red"})
    found = await refused(runtime, effects, seed, datastream_id="424242", options=options)
    assert set(found) == {
        ("input", "datastreamId"),
        ("input", "limit"),
        ("input", "formatOptions", "colour"),
    }


async def test_valid_options_are_resolved_and_stored_with_the_job(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    options = OptionsRequest(
        columns=["price", "side"],
        limit=10**9,
        filter={"column": "collection_timestamp_ns", "op": "lt", "value": "2024-03-01T00:01:00Z"},
        format_options={"delimiter": ";"},
    )
    job, _ = await commands.create_export(
        runtime, seed.principals["alpha"], export_request(schema="normalized", options=options)
    )
    stored = await job_row(runtime, job.id)
    assert stored is not None and stored.options is not None
    assert stored.options["columns"] == ["price", "side"]
    assert stored.options["limit"] == runtime.settings.max_export_rows  # clamped
    assert stored.options["filter"]["value"] == 1709251260 * 10**9  # as nanoseconds
    assert stored.options["formatOptions"] == {
        "delimiter": ";",
        "header": True,
        "quoting": "needed",
        "nullString": "",
        "lineTerminator": "\n",
        "timestampFormat": "ns",
    }
    assert effects.woken == [job.id]
