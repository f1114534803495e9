"""Degraded, not broken: with the database down a request answers a typed UNAVAILABLE at
once (never a 500 or a hang); with the broker down a created job is still recorded, and the
sweeper wakes it later."""

from __future__ import annotations

import time
from collections.abc import Callable

import asyncpg
import psycopg
import pytest
from sqlalchemy import exc as sa_exc

from app.config import Settings
from app.db.engine import is_unavailable
from tests.api.helpers import create_payload, idle_app
from tests.helpers.inprocess import ApiClient, Seed
from workers import broker as broker_module


async def test_with_the_database_down_requests_are_unavailable_not_errors(
    settings: Settings, seed: Seed
) -> None:
    gone = settings.model_copy(
        update={"database_url": "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"}
    )
    async with idle_app(gone, seed.keys) as api:
        started = time.monotonic()
        response = await api.http.post(
            "/graphql",
            json={"query": "{ viewer { workspace { id } } }"},
            headers={"X-Api-Key": seed.keys["alpha"]},
        )
        assert time.monotonic() - started < settings.database_timeout_seconds + 2
        assert response.status_code == 503 and response.headers["retry-after"] == "5"
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "UNAVAILABLE" and error["extensions"]["requestId"]


async def test_with_the_broker_down_a_job_is_still_created(
    idle_api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(_message: object) -> None:
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(broker_module.broker, "enqueue", refuse)
    payload = await create_payload(idle_api)
    assert payload["userErrors"] == [] and payload["exportJob"]["status"] == "QUEUED"


def test_a_websocket_opened_while_the_database_is_down_answers_unavailable(
    settings: Settings, seed: Seed
) -> None:
    """The key cannot be checked at connection_init: the connection is acknowledged (the
    check is unknown, not failed), and each operation answers a typed UNAVAILABLE until the
    database is back, instead of the socket breaking with an internal error."""
    from starlette.testclient import TestClient

    from app.main import create_app
    from tests.api.helpers import FOLLOW, WithoutLifespan, receive, subscription

    gone = settings.model_copy(
        update={"database_url": "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"}
    )
    with (
        TestClient(WithoutLifespan(create_app(gone))) as client,
        subscription(client, seed.keys["alpha"], FOLLOW, {"id": "exp_x"}) as (ws, ack),
    ):
        assert ack.get("payload") == {"authenticated": None}
        message = receive(ws, time.monotonic() + 30)
        assert message["type"] in ("error", "next"), message
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["UNAVAILABLE"], errors


@pytest.mark.parametrize(
    "driver_error",
    [
        lambda: asyncpg.exceptions.CannotConnectNowError(STARTING),
        lambda: psycopg.errors.CannotConnectNow(STARTING),
        lambda: psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
    ],
    ids=["asyncpg", "psycopg", "shutting-down"],
)
def test_a_database_starting_up_or_shutting_down_is_unavailable_not_a_bug(
    driver_error: Callable[[], Exception],
) -> None:
    """What a request meets while PostgreSQL recovers after a crash: retry shortly (503),
    never an internal error."""
    original = driver_error()
    wrapped = sa_exc.DBAPIError("SELECT 1", None, original)
    assert is_unavailable(wrapped) and is_unavailable(original)
    assert not is_unavailable(sa_exc.DBAPIError("SELECT 1", None, ValueError("a bug")))


STARTING = "the database system is not yet accepting connections"
