"""Degraded, not broken: with the database down a request answers a typed UNAVAILABLE at
once (never a 500 or a hang); with the broker down a created job is still recorded, and the
sweeper wakes it later."""

from __future__ import annotations

import time

import pytest

from app.config import Settings
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
