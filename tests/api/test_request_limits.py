"""Bounded requests: headers, body size, JSON depth, query cost and input list sizes are each
refused with a typed error (and the request id) before any expensive work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from app.main import create_app
from tests.api.helpers import CREATE, WithoutLifespan, export_input
from tests.helpers.inprocess import ApiClient, Seed, copy_seed, settings_for

COUNT = "{ exportJobs { totalCount } }"


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body["data"] is None, body
    [error] = body["errors"]
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    return dict(error)


def posted(body: bytes, seed: Seed) -> dict[str, Any]:
    return {
        "content": body,
        "headers": {"X-Api-Key": seed.keys["alpha"], "content-type": "application/json"},
    }


async def test_a_body_nested_deeper_than_the_limit_is_a_400(
    idle_api: ApiClient, seed: Seed
) -> None:
    variables = b"[" * 100_000 + b"]" * 100_000
    body = b'{"query": "' + COUNT.encode() + b'", "variables": {"x": ' + variables + b"}}"
    response = await idle_api.http.post("/graphql", **posted(body, seed))
    assert response.status_code == 400
    error = error_of(response)
    assert error["extensions"]["code"] == "BAD_REQUEST" and "nests" in error["message"]


async def test_a_body_that_is_not_json_is_a_400(idle_api: ApiClient, seed: Seed) -> None:
    response = await idle_api.http.post("/graphql", **posted(b'{"query": ', seed))
    assert response.status_code == 400
    assert "not valid JSON" in error_of(response)["message"]


async def test_a_body_over_the_limit_is_a_413(idle_api: ApiClient, seed: Seed) -> None:
    body = json.dumps({"query": COUNT, "variables": {"pad": "x" * 300_000}}).encode()
    response = await idle_api.http.post("/graphql", **posted(body, seed))
    assert response.status_code == 413
    assert error_of(response)["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_headers_over_the_limit_and_huge_keys_are_a_431(idle_api: ApiClient) -> None:
    many = {f"x-padding-{i}": "y" * 1000 for i in range(20)}
    response = await idle_api.http.post("/graphql", json={"query": COUNT}, headers=many)
    assert response.status_code == 431
    assert error_of(response)["extensions"]["code"] == "HEADERS_TOO_LARGE"
    huge_key = {"X-Api-Key": "k" * 10_000}
    response = await idle_api.http.post("/graphql", json={"query": COUNT}, headers=huge_key)
    assert response.status_code == 431


async def test_a_query_costing_more_than_the_limit_is_refused_before_it_runs(
    idle_api: ApiClient,
) -> None:
    page = "exportJobs(first: 100) { edges { node { id artifacts { url sha256 } } } }"
    query = "{ " + " ".join(f"a{i}: {page}" for i in range(25)) + " }"
    response = await idle_api.post(query)
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["cost"] > error["extensions"]["maxCost"] == 50_000
    # The same page once is fine, and `first` from the variables counts.
    fine = await idle_api.post(f"query($n: Int) {{ {page.replace('100', '$n')} }}", {"n": 100})
    assert "errors" not in fine.json()


async def test_a_document_validated_once_is_still_costed_and_refused_on_every_request(
    idle_api: ApiClient,
) -> None:
    """Valid documents are remembered (a poll is not validated again), but the cost follows
    the variables of each request, and an invalid document is refused every time."""
    page = "exportJobs(first: $n) { edges { node { id artifacts { url sha256 } } } }"
    query = "query($n: Int) { " + " ".join(f"a{i}: {page}" for i in range(25)) + " }"
    for _ in range(2):
        assert "errors" not in (await idle_api.post(query, {"n": 1})).json()
    [error] = (await idle_api.post(query, {"n": 100})).json()["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    for _ in range(2):
        [error] = (await idle_api.post("{ exportJobs { nope } }")).json()["errors"]
        assert "nope" in error["message"]


async def test_input_lists_past_their_bounds_are_user_errors(idle_api: ApiClient) -> None:
    conditions = [{"column": "price", "op": "eq", "value": "1"}] * 1_000
    columns = ["price"] * 300
    in_list = {"column": "price", "op": "in", "value": ["1"] * 2_000}
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"filter": {"or": conditions}}, ["input", "filter"]),
        ({"columns": columns}, ["input", "columns"]),
        ({"filter": in_list}, ["input", "filter", "value"]),
    ]
    for options, field in cases:
        variables = {"input": export_input(schema="normalized", **options)}
        payload = (await idle_api.execute(CREATE, variables))["createExport"]
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("INVALID_ARGUMENT", field)
        ], payload


async def test_a_document_nested_too_deeply_is_a_bad_request(idle_api: ApiClient) -> None:
    nested = "{not: " * 600 + '{column: "x"}' + "}" * 600
    given = f'datastreamId: "601", startTime: 0, endTime: 1, filter: {nested}'
    query = f"{{ estimateExport(input: {{{given}}}) {{ estimatedRows }} }}"
    response = await idle_api.post(query)
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"


def test_a_websocket_message_nested_too_deeply_closes_with_4400(seed: Seed, tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    settings = settings_for(copy_seed(seed, tmp_path / "data"))
    with (
        TestClient(WithoutLifespan(create_app(settings))) as client,
        client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        ws.send_json({"type": "connection_init", "payload": {"apiKey": seed.keys["alpha"]}})
        assert ws.receive_json()["type"] == "connection_ack"
        deep = "[" * 10_000 + "]" * 10_000
        ws.send_text('{"id": "1", "type": "subscribe", "payload": {"variables": ' + deep + "}}")
        closed = ws.receive()
    assert (closed["type"], closed["code"]) == ("websocket.close", 4400)
