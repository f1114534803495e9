"""Browsers and every transport: CORS and WebSocket origins from one allow-list, subscriptions
over Server-Sent Events and multipart HTTP, and a clear typed error for an operation sent over
a transport that cannot carry it (never a masked INTERNAL_SERVER_ERROR)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app.config import Settings
from app.main import create_app
from tests.api.helpers import CANCEL, CREATE, WithoutLifespan, export_input
from tests.helpers.inprocess import Seed
from workers.broker import broker

DASHBOARD = "https://dash.example.com"
FOLLOW = 'subscription { exportJobUpdated(id: "%s") { id status } }'


def app_with(settings: Settings, **changes: Any) -> Iterator[TestClient]:
    with TestClient(WithoutLifespan(create_app(settings.model_copy(update=changes)))) as client:
        yield client
    broker.flush_all()


@pytest.fixture
def idle(settings: Settings) -> Iterator[TestClient]:
    yield from app_with(settings)


@pytest.fixture
def open_to_dashboard(settings: Settings) -> Iterator[TestClient]:
    yield from app_with(settings, allowed_origins=[DASHBOARD])


def canceled_job(client: TestClient, key: str) -> str:
    """A job in a terminal state: its subscription sends it, then completes."""
    headers = {"X-Api-Key": key}
    body = {"query": CREATE, "variables": {"input": export_input()}}
    job_id = client.post("/graphql", json=body, headers=headers).json()["data"]["createExport"][
        "exportJob"
    ]["id"]
    client.post("/graphql", json={"query": CANCEL, "variables": {"id": job_id}}, headers=headers)
    return str(job_id)


def preflight(client: TestClient, origin: str) -> Any:
    return client.options(
        "/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-api-key",
        },
    )


def test_an_allowed_origin_passes_the_preflight_and_reads_the_answer(
    open_to_dashboard: TestClient, seed: Seed
) -> None:
    answer = preflight(open_to_dashboard, DASHBOARD)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == DASHBOARD
    assert "x-api-key" in answer.headers["access-control-allow-headers"].lower()
    response = open_to_dashboard.post(
        "/graphql",
        json={"query": "{ viewer { workspace { id } } }"},
        headers={"Origin": DASHBOARD, "X-Api-Key": seed.keys["alpha"]},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == DASHBOARD
    exposed = response.headers["access-control-expose-headers"].lower()
    assert "x-request-id" in exposed and "ratelimit-remaining" in exposed


def test_other_origins_are_refused_by_default(idle: TestClient, seed: Seed) -> None:
    answer = preflight(idle, DASHBOARD)
    assert answer.status_code == 400 and "access-control-allow-origin" not in answer.headers
    with (
        pytest.raises(WebSocketDisconnect),
        idle.websocket_connect(
            "/graphql", subprotocols=["graphql-transport-ws"], headers={"Origin": DASHBOARD}
        ) as ws,
    ):
        ws.receive_json()


def test_an_allowed_origin_may_open_a_websocket(open_to_dashboard: TestClient) -> None:
    with open_to_dashboard.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"], headers={"Origin": DASHBOARD}
    ) as ws:
        ws.send_json({"type": "connection_init", "payload": {}})
        assert ws.receive_json()["type"] == "connection_ack"


def test_a_subscription_over_server_sent_events(idle: TestClient, seed: Seed) -> None:
    key = seed.keys["alpha"]
    job_id = canceled_job(idle, key)
    with idle.stream(
        "POST",
        "/graphql",
        json={"query": FOLLOW % job_id},
        headers={"X-Api-Key": key, "Accept": "text/event-stream"},
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text()).replace("\r\n", "\n")
    events = [block for block in text.split("\n\n") if block.strip()]
    data = [
        json.loads(line[len("data: ") :])
        for e in events
        for line in e.splitlines()
        if line.startswith("data: ") and e.startswith("event: next")
    ]
    assert [d["data"]["exportJobUpdated"] for d in data] == [{"id": job_id, "status": "CANCELED"}]
    assert events[-1].startswith("event: complete")


def test_a_subscription_over_multipart_http(idle: TestClient, seed: Seed) -> None:
    key = seed.keys["alpha"]
    job_id = canceled_job(idle, key)
    response = idle.post(
        "/graphql",
        json={"query": FOLLOW % job_id},
        headers={"X-Api-Key": key, "Accept": 'multipart/mixed;subscriptionSpec="1.0"'},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("multipart/mixed")
    assert '"status":"CANCELED"' in response.text.replace(" ", "")


def test_a_subscription_over_plain_http_is_a_typed_error(idle: TestClient, seed: Seed) -> None:
    response = idle.post(
        "/graphql",
        json={"query": "subscription { exportJobsUpdated { id } }"},
        headers={"X-Api-Key": seed.keys["alpha"]},
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "streaming transport" in error["message"]


def test_a_mutation_over_the_legacy_protocol_is_a_typed_error(idle: TestClient, seed: Seed) -> None:
    mutation = 'mutation { cancelExport(input: {id: "exp_%s"}) { userErrors { code } } }' % (
        "0" * 32
    )
    with idle.websocket_connect("/graphql", subprotocols=["graphql-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"apiKey": seed.keys["alpha"]}})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "start", "payload": {"query": mutation}})
        message = ws.receive_json()
        while message["type"] == "ka":
            message = ws.receive_json()
    assert message["type"] == "error" and message["id"] == "1"
    assert message["payload"]["extensions"]["code"] == "BAD_REQUEST"
    assert "subscriptions only" in message["payload"]["message"]
