"""`/healthz` and `/readyz` check what they name, each within a deadline, and say which
dependency is missing."""

from __future__ import annotations

import time

from app.config import Settings
from tests.api.helpers import idle_app
from tests.helpers.inprocess import ApiClient, Seed


async def test_a_healthy_gateway_says_so_with_each_check(idle_api: ApiClient) -> None:
    health = await idle_api.http.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["checks"]["database"]["ok"]
    ready = await idle_api.http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert set(ready.json()["checks"]) == {"database", "storage"}  # embedded: no broker


async def test_a_missing_broker_makes_the_gateway_unready_naming_it(
    settings: Settings, seed: Seed
) -> None:
    down = settings.model_copy(update={"broker_url": "redis://127.0.0.1:1/0"})
    async with idle_app(down, seed.keys) as api:
        started = time.monotonic()
        ready = await api.http.get("/readyz")
        assert time.monotonic() - started < 5  # refused fast, never hanging
        assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
        checks = ready.json()["checks"]
        assert not checks["broker"]["ok"] and "error" in checks["broker"]
        assert checks["database"]["ok"] and checks["storage"]["ok"]
        assert (await api.http.get("/healthz")).status_code == 200  # alive all the same


async def test_a_missing_database_is_unhealthy(settings: Settings, seed: Seed) -> None:
    gone = settings.model_copy(
        update={"database_url": "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"}
    )
    async with idle_app(gone, seed.keys) as api:
        health = await api.http.get("/healthz")
        assert health.status_code == 503
        assert not health.json()["checks"]["database"]["ok"]
