"""Typed errors, masking, request ids and API keys, checked through the app in this process."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from app.domain.exports import queries
from tests.api.helpers import CREATE, JOB, create_payload, export_input, graphql_error, idle_app
from tests.helpers.inprocess import START, ApiClient, Seed, copy_seed, settings_for

HOUR_ISO = "2024-03-01T01:00:00Z"
START_ISO = "2024-03-01T00:00:00Z"


def codes_by_field(errors: list[dict[str, Any]]) -> dict[tuple[str, ...], str]:
    return {tuple(e["field"]): e["code"] for e in errors}


async def test_bad_input_gives_every_problem_as_user_errors_not_a_graphql_error(
    idle_api: ApiClient,
) -> None:
    # `execute` insists on a response without GraphQL errors: refusals are data.
    payload = await create_payload(
        idle_api, datastreamId="424242", startTime=HOUR_ISO, endTime=START_ISO, schema="nope"
    )
    assert payload["exportJob"] is None
    assert codes_by_field(payload["userErrors"]) == {
        ("input", "datastreamId"): "NOT_FOUND",
        ("input", "schema"): "NOT_FOUND",
        ("input", "endTime"): "INVALID_ARGUMENT",
    }
    assert all(e["message"] and e["retryAfter"] is None for e in payload["userErrors"])
    [reversed_range] = (await create_payload(idle_api, startTime=HOUR_ISO, endTime=START_ISO))[
        "userErrors"
    ]
    assert (reversed_range["code"], reversed_range["field"]) == (
        "INVALID_ARGUMENT",
        ["input", "endTime"],
    )
    assert "endTime must be after startTime" in reversed_range["message"]
    # Malformed timestamps reach the domain (the scalar lets them through) and name the field.
    times = await create_payload(idle_api, startTime="yesterday", endTime="2024-13-01T00:00:00Z")
    assert codes_by_field(times["userErrors"]) == {
        ("input", "startTime"): "INVALID_ARGUMENT",
        ("input", "endTime"): "INVALID_ARGUMENT",
    }
    mixed = await create_payload(
        idle_api, datastreamId="not-a-number", format="PARQUET", compression="GZIP"
    )
    assert codes_by_field(mixed["userErrors"]) == {
        ("input", "datastreamId"): "INVALID_ARGUMENT",
        ("input", "compression"): "INVALID_ARGUMENT",
    }


async def test_several_option_problems_are_reported_together(idle_api: ApiClient) -> None:
    payload = await create_payload(
        idle_api,
        schema="normalized",
        columns=["price", "colour"],
        limit=0,
        split={},
        idempotencyKey="",
    )
    assert payload["exportJob"] is None
    assert codes_by_field(payload["userErrors"]) == {
        ("input", "columns"): "INVALID_ARGUMENT",
        ("input", "limit"): "INVALID_ARGUMENT",
        ("input", "split"): "INVALID_ARGUMENT",
        ("input", "idempotencyKey"): "INVALID_ARGUMENT",
    }


@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    [
        (
            {"formatOptions": {"compression": "zstd"}},
            ["input", "formatOptions", "compression"],
            "is a PARQUET option, not a CSV one",
        ),
        (
            {"formatOptions": {"colour": "red"}},
            ["input", "formatOptions", "colour"],
            "known: delimiter, header",
        ),
        (
            {"format": "PARQUET", "formatOptions": {"compression": "lz4", "compressionLevel": 3}},
            ["input", "formatOptions"],
            "lz4 has no compression level",
        ),
        (
            {"format": "PARQUET", "compression": "GZIP"},
            ["input", "compression"],
            "formatOptions.compression",
        ),
        (
            {"columns": ["price", "colour"]},
            ["input", "columns"],
            "valid: collection_timestamp_ns, exchange_timestamp_ns",
        ),
        ({"limit": 0}, ["input", "limit"], "at least 1"),
        (
            {"filter": {"column": "price", "op": "gt", "value": "cheap"}},
            ["input", "filter", "value"],
            "is not a decimal(18) value",
        ),
        (
            {"filter": {"and": [{"column": "nope", "op": "eq", "value": 1}]}},
            ["input", "filter", "and", "0", "column"],
            "unknown column 'nope'",
        ),
        (
            {"filter": {"column": "side", "op": "eq", "value": "buy", "not": {"column": "side"}}},
            ["input", "filter"],
            "exactly one of",
        ),
        (
            {
                "decimation": {
                    "interval": "15x",
                    "aggregations": [{"column": "price", "fn": "OHLC"}],
                }
            },
            ["input", "decimation", "interval"],
            "e.g. 15m",
        ),
        (
            {"decimation": {"interval": "1m", "aggregations": [{"column": "side", "fn": "SUM"}]}},
            ["input", "decimation", "aggregations", "0", "fn"],
            "sum needs a numeric column",
        ),
        ({"split": {}}, ["input", "split"], "give by, maxRowsPerFile"),
        (
            {"split": {"maxBytesPerFile": 10}},
            ["input", "split", "maxBytesPerFile"],
            "at least 1024",
        ),
        ({"idempotencyKey": "k" * 201}, ["input", "idempotencyKey"], "1 to 200 characters"),
    ],
)
async def test_each_invalid_option_names_its_field(
    idle_api: ApiClient, fields: dict[str, Any], field: list[str], fragment: str
) -> None:
    payload = await create_payload(idle_api, schema="normalized", **fields)
    assert payload["exportJob"] is None
    assert any(
        e["code"] == "INVALID_ARGUMENT" and e["field"] == field and fragment in e["message"]
        for e in payload["userErrors"]
    ), payload["userErrors"]


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (CREATE, {"input": export_input(format="XLSX")}),
        (CREATE, {"input": export_input(limit="many")}),
        (CREATE, {"input": export_input(split={"maxBytesPerFile": "abc"})}),
        (CREATE, {"input": {"datastreamId": "601", "endTime": START + 1}}),
        (
            'mutation { createExport(input: {datastreamId: "601", startTime: 0, endTime: 1,'
            " format: XLSX}) { exportJob { id } } }",
            {},
        ),
        ("{ exportJobs(orderBy: SIDEWAYS) { totalCount } }", {}),
        ("{ exportJobs { noSuchField } }", {}),
    ],
    ids=[
        "enum-variable",
        "int-variable",
        "long-variable",
        "missing-required",
        "enum-literal",
        "enum-argument",
        "unknown-field",
    ],
)
async def test_a_malformed_request_is_a_coded_graphql_error_with_the_request_id(
    idle_api: ApiClient, query: str, variables: dict[str, Any]
) -> None:
    response = await idle_api.post(query, variables)
    error = graphql_error(response)
    extensions = error["extensions"]
    assert extensions["code"] == "BAD_REQUEST"  # the client's mistake, not ours
    assert extensions["requestId"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize("key", [None, "egw_not-a-key"], ids=["missing", "unknown"])
@pytest.mark.parametrize(
    "query",
    [
        "{ datastreams { totalCount } }",
        '{ exportJob(id: "exp_00000000000000000000000000000000") { id } }',
        'mutation { cancelExport(input: {id: "exp_0"}) { userErrors { code } } }',
    ],
    ids=["catalog", "job", "mutation"],
)
async def test_a_missing_or_unknown_api_key_is_unauthenticated(
    idle_api: ApiClient, key: str | None, query: str
) -> None:
    response = await idle_api.post(query, key=key)
    error = graphql_error(response)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert (await idle_api.post(query)).json().get("errors") is None  # a valid key passes


async def test_the_estimate_needs_a_key_too(idle_api: ApiClient) -> None:
    response = await idle_api.post(
        "query($input: CreateExportInput!) { estimateExport(input: $input) { estimatedRows } }",
        {"input": export_input()},
        key=None,
    )
    assert graphql_error(response)["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_client_request_id_is_echoed_and_a_bad_one_replaced(idle_api: ApiClient) -> None:
    headers = {"X-Api-Key": idle_api.keys["alpha"], "X-Request-Id": "trace-4711"}
    ok = await idle_api.http.post(
        "/graphql", json={"query": "{ datastreams { totalCount } }"}, headers=headers
    )
    assert ok.headers["x-request-id"] == "trace-4711"
    failed = await idle_api.http.post(
        "/graphql", json={"query": "{ datastreams(first: -1) { totalCount } }"}, headers=headers
    )
    assert failed.headers["x-request-id"] == "trace-4711"
    assert graphql_error(failed)["extensions"]["requestId"] == "trace-4711"
    for insane in ("x" * 129, "tab\there"):
        response = await idle_api.http.post(
            "/graphql",
            json={"query": "{ datastreams { totalCount } }"},
            headers={**headers, "X-Request-Id": insane},
        )
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"]), insane
    # Every HTTP response carries one, not only GraphQL's.
    assert re.fullmatch(
        r"[0-9a-f]{32}", (await idle_api.http.get("/healthz")).headers["x-request-id"]
    )


async def test_an_unexpected_failure_is_masked_with_a_request_id(
    idle_api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(queries, "get_export", broken)
    response = await idle_api.post(JOB, {"id": "exp_" + "0" * 32})
    error = graphql_error(response)
    assert error["message"] == "Internal server error"
    assert error["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": response.headers["x-request-id"],
    }
    assert "hunter2" not in response.text and "Traceback" not in response.text


async def test_depth_and_alias_limits_are_coded_graphql_errors(seed: Seed, tmp_path: Path) -> None:
    settings = settings_for(copy_seed(seed, tmp_path / "d"), max_query_depth=3, max_aliases=5)
    async with idle_app(settings, seed.keys) as api:
        deep = await api.post("{ exportJobs { edges { node { progress { rowsWritten } } } } }")
        errors = deep.json()["errors"]
        assert deep.json().get("data") is None
        assert {e["extensions"]["code"] for e in errors} == {"BAD_REQUEST"}
        assert "exceeds maximum operation depth of 3" in errors[0]["message"]
        shallow = await api.execute("{ exportJobs { totalCount } }")
        assert int(shallow["exportJobs"]["totalCount"]) == 0
        aliases = " ".join(f"a{i}: datastreams {{ totalCount }}" for i in range(6))
        error = graphql_error(await api.post("{ " + aliases + " }"))
        assert error["extensions"]["code"] == "BAD_REQUEST" and "Allowed: 5" in error["message"]


async def test_graphiql_is_served_from_the_package_and_get_cannot_mutate(
    idle_api: ApiClient,
) -> None:
    page = await idle_api.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "GraphiQL" in page.text
    sources = re.findall(r'(?:src|href)="(?!data:)([^"]+)"', page.text)  # data: is inline
    assert sources and all(s.startswith("/ui/assets/") for s in sources), sources
    for source in sources:
        assert (await idle_api.http.get(source)).status_code == 200, source
    key = {"X-Api-Key": idle_api.keys["alpha"]}
    query = await idle_api.http.get(
        "/graphql", params={"query": "{ datastreams { totalCount } }"}, headers=key
    )
    assert query.json() == {"data": {"datastreams": {"totalCount": "3"}}}
    mutation = await idle_api.http.get(
        "/graphql",
        params={"query": 'mutation { cancelExport(input: {id: "x"}) { userErrors { code } } }'},
        headers=key,
    )
    assert mutation.status_code == 400
