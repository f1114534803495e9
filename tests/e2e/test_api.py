"""The API's contract around exports: errors, auth, isolation, idempotency, cancel, timestamps."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.helpers.clients import subscribe
from tests.helpers.environments import GatewayHandle
from tests.helpers.operations import CANCEL, CREATE, FOLLOW, JOB, LONG_EXPORT, create

pytestmark = pytest.mark.e2e


def first_error(messages: list[dict]) -> dict:
    """An `error` message carries a list; a `next` carries {data, errors}."""
    payload = messages[0]["payload"]
    assert messages[0]["type"] == "error" or payload.get("data") is None, messages
    return payload[0] if isinstance(payload, list) else payload["errors"][0]


def test_validation_failures_are_typed_user_errors(gateway: GatewayHandle) -> None:
    payload = create(
        gateway,
        datastreamId="424242",
        startTime="2024-03-01T01:00:00Z",
        endTime="2024-03-01T00:00:00Z",
        schema="nope",
    )
    assert payload["exportJob"] is None
    errors = {tuple(e["field"]): e["code"] for e in payload["userErrors"]}
    assert errors == {
        ("input", "datastreamId"): "NOT_FOUND",
        ("input", "schema"): "NOT_FOUND",
        ("input", "endTime"): "INVALID_ARGUMENT",
    }
    payload = create(gateway, startTime="2024-03-01T01:00:00Z", endTime="2024-03-01T00:00:00Z")
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID_ARGUMENT", ["input", "endTime"])
    ]
    payload = create(gateway, startTime="yesterday", endTime="2024-13-01T00:00:00Z")
    assert {tuple(e["field"]) for e in payload["userErrors"]} == {
        ("input", "startTime"),
        ("input", "endTime"),
    }
    assert all(e["code"] == "INVALID_ARGUMENT" for e in payload["userErrors"])
    payload = create(gateway, datastreamId="not-a-number", format="PARQUET", compression="GZIP")
    assert {(e["code"], tuple(e["field"])) for e in payload["userErrors"]} == {
        ("INVALID_ARGUMENT", ("input", "datastreamId")),
        ("INVALID_ARGUMENT", ("input", "compression")),
    }


def test_unknown_enum_is_a_graphql_error_with_a_code_not_a_500(gateway: GatewayHandle) -> None:
    response = gateway.client().post(
        CREATE, {"input": {"datastreamId": "501", "startTime": 0, "endTime": 1, "format": "XLSX"}}
    )
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert (
        error["extensions"]["code"]
        and error["extensions"]["requestId"] == response.headers["x-request-id"]
    )


def test_timestamps_round_trip_nanoseconds_in_every_input_form(gateway: GatewayHandle) -> None:
    forms = [
        ("2024-03-01T00:00:00.123456789Z", "2024-03-01T00:00:00.123456789Z"),
        (1709251200123456789, "2024-03-01T00:00:00.123456789Z"),
        ("1709251200123456789", "2024-03-01T00:00:00.123456789Z"),
        ("2024-03-01T01:00:00.5+01:00", "2024-03-01T00:00:00.500000000Z"),
    ]
    for given, normalized in forms:
        job = create(gateway, startTime=given, endTime="2024-03-01T00:00:01Z")["exportJob"]
        assert job["startTime"] == normalized, given


def test_missing_or_unknown_api_key_is_unauthenticated(gateway: GatewayHandle) -> None:
    for key in (None, "egw_not-a-key"):
        response = gateway.client(key).post("{ datastreams { totalCount } }")
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
    messages = list(subscribe(gateway.gateway.url, "egw_wrong", FOLLOW, {"id": "exp_" + "0" * 32}))
    assert first_error(messages)["extensions"]["code"] == "UNAUTHENTICATED"


def test_other_workspaces_cannot_see_cancel_or_follow_a_job(gateway: GatewayHandle) -> None:
    job = create(gateway)["exportJob"]
    other = gateway.client("b")
    assert other.execute(JOB, {"id": job["id"]})["exportJob"] is None
    assert (
        other.execute("query($id: ID!) { node(id: $id) { id } }", {"id": job["id"]})["node"] is None
    )
    listed = other.execute("{ exportJobs { edges { node { id } } } }")["exportJobs"]["edges"]
    assert job["id"] not in [e["node"]["id"] for e in listed]
    cancel = other.execute(CANCEL, {"id": job["id"]})["cancelExport"]
    assert cancel["userErrors"][0]["code"] == "NOT_FOUND"
    messages = list(subscribe(gateway.gateway.url, gateway.key_b, FOLLOW, {"id": job["id"]}))
    assert first_error(messages)["extensions"]["code"] == "NOT_FOUND"
    assert gateway.client().execute(JOB, {"id": job["id"]})["exportJob"]["id"] == job["id"]


def test_idempotency_key_returns_one_job_and_conflicts_on_other_parameters(
    gateway: GatewayHandle,
) -> None:
    key = f"idem-{time.time_ns()}"
    with ThreadPoolExecutor(8) as pool:
        payloads = list(pool.map(lambda _: create(gateway, idempotencyKey=key), range(8)))
    assert {p["exportJob"]["id"] for p in payloads} == {payloads[0]["exportJob"]["id"]}
    conflict = create(gateway, idempotencyKey=key, format="JSONL")
    assert conflict["exportJob"] is None
    assert conflict["userErrors"][0]["code"] == "CONFLICT"
    assert conflict["userErrors"][0]["field"] == ["input", "idempotencyKey"]
    # The other workspace may use the same key for its own job.
    assert (
        create(gateway, key="b", idempotencyKey=key)["exportJob"]["id"]
        != payloads[0]["exportJob"]["id"]
    )


def test_cancel_a_running_export_stops_it_and_leaves_no_files(gateway: GatewayHandle) -> None:
    job = create(gateway, **LONG_EXPORT)["exportJob"]
    client = gateway.client()
    statuses = []
    canceled_at = None
    for message in subscribe(gateway.gateway.url, gateway.key_a, FOLLOW, {"id": job["id"]}):
        update = message["payload"]["data"]["exportJobUpdated"]
        statuses.append(update["status"])
        if (
            update["status"] == "RUNNING"
            and int(update["progress"]["rowsWritten"]) > 0
            and canceled_at is None
        ):
            result = client.execute(CANCEL, {"id": job["id"]})["cancelExport"]
            assert result["userErrors"] == [] and result["exportJob"]["status"] == "CANCELED"
            canceled_at = time.monotonic()
    assert statuses[-1] == "CANCELED" and canceled_at is not None
    deadline = time.monotonic() + 5
    artifacts_dir = gateway.data_dir / "storage" / "artifacts" / job["id"]
    while artifacts_dir.exists() and any(artifacts_dir.rglob("*")) and time.monotonic() < deadline:
        time.sleep(0.1)  # the worker notices at its next progress update
    assert not artifacts_dir.exists() or not any(p.is_file() for p in artifacts_dir.rglob("*"))
    final = client.execute(JOB, {"id": job["id"]})["exportJob"]
    assert final["status"] == "CANCELED" and final["artifacts"] == []
    again = client.execute(CANCEL, {"id": job["id"]})["cancelExport"]
    assert again["userErrors"][0]["code"] == "FAILED_PRECONDITION"


def test_queries_list_catalog_availability_and_jobs(gateway: GatewayHandle) -> None:
    client = gateway.client()
    data = client.execute("""{
      datastreams(exchange: "bybit", streamType: "trades") {
        totalCount edges { node { id datastreamId instrument { symbol type } } } }
      first: datastreams(first: 1) {
        edges { cursor node { datastreamId } } pageInfo { hasNextPage endCursor } }
      availability(datastreamId: "501") { ranges { fromTime toTime rowCount } updatedAt }
      exportSchemas { totalCount edges { node { name streamCategory columns builtin } } }
    }""")
    assert int(data["datastreams"]["totalCount"]) == 1
    assert data["datastreams"]["edges"][0]["node"]["id"] == "ds_502"
    page = data["first"]
    assert page["pageInfo"]["hasNextPage"] is True
    after = client.execute(
        "query($c: String) { datastreams(first: 3, after: $c) {"
        " edges { node { datastreamId } } } }",
        {"c": page["pageInfo"]["endCursor"]},
    )
    assert [int(e["node"]["datastreamId"]) for e in after["datastreams"]["edges"]] == [
        502,
        503,
        504,
    ]
    [window] = data["availability"]["ranges"]
    assert window["fromTime"].startswith("2024-03-01T00:00") and int(window["rowCount"]) > 1000
    schemas = [e["node"] for e in data["exportSchemas"]["edges"]]
    assert {(s["name"], s["streamCategory"]) for s in schemas} >= {
        ("raw", "any"),
        ("normalized", "trade"),
        ("normalized", "book"),
    }
    job = create(gateway)["exportJob"]
    listed = client.execute("""query { exportJobs(first: 2, datastreamId: "501") {
        totalCount edges { node { id createdAt } } } }""")["exportJobs"]
    assert listed["edges"][0]["node"]["id"] == job["id"]  # newest first
    node = client.execute(
        "query($id: ID!) { node(id: $id) { id ... on ExportJob { status } } }", {"id": job["id"]}
    )["node"]
    assert node["id"] == job["id"]


def test_page_size_and_depth_limits(gateway: GatewayHandle) -> None:
    response = gateway.client().post("{ datastreams(first: 100000) { totalCount } }")
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"
    aliases = " ".join(f"a{i}: exportSchemas {{ totalCount }}" for i in range(100))
    response = gateway.client().post("{ " + aliases + " }")
    assert response.status_code in (200, 400) and response.json()["errors"]


def test_graphiql_is_served_without_internet(gateway: GatewayHandle) -> None:
    page = httpx.get(gateway.gateway.url + "/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "GraphiQL" in page.text
    sources = re.findall(r'(?:src|href)="(?!data:)([^"]+)"', page.text)  # data: is inline
    assert sources and all(s.startswith("/ui/assets/") for s in sources), sources
    for source in sources:
        assert httpx.get(gateway.gateway.url + source).status_code == 200, source
