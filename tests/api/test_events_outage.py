"""With the events Redis down the gateway degrades rather than breaks: subscriptions re-read the
jobs they follow at a short interval and go back to pushed events when Redis returns, without
being dropped; requests are still answered, rate limited by the gateway alone, and createExport
still queues jobs. Each test starts and kills its own Redis on a spare port."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import update
from starlette.testclient import TestClient

from app import events
from app.config import Settings
from app.db.models import ExportJobRow
from app.domain.runtime import JobEvent, Runtime
from app.events import RESYNC, EventBus
from app.main import create_app
from app.web import rate_limits
from engine.timestamps import now_ns
from tests.api.helpers import (
    CREATE,
    FOLLOW,
    WithoutLifespan,
    create_payload,
    export_input,
    idle_app,
    receive,
    subscription,
    until_complete,
)
from tests.helpers.inprocess import Seed, copy_seed, post_data, settings_for
from tests.helpers.own_services import RedisServer
from workers.broker import broker

COUNT = "{ exportJobs { totalCount } }"


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.02)


async def next_event(queue: asyncio.Queue[JobEvent], timeout: float = 30) -> JobEvent:
    return await asyncio.wait_for(queue.get(), timeout)


async def test_the_bus_re_reads_while_its_redis_is_down_and_is_pushed_to_again_after(
    own_redis: RedisServer,
) -> None:
    bus = EventBus(
        own_redis.url, uuid.uuid4().hex, sees_every_change=True, fallback_poll_seconds=0.25
    )
    bridge = asyncio.create_task(bus.bridge_forever())
    try:
        async with bus.subscribe() as queue:
            assert await next_event(queue) is RESYNC  # connected: re-read, then wait for pushes
            assert bus.bridged and bus.recheck_seconds == events.SAFETY_RECHECK_SECONDS
            own_redis.kill()
            # Lost: every subscriber is told at once, and re-reads at the short interval.
            assert await next_event(queue) is RESYNC
            assert not bus.bridged and bus.recheck_seconds == 0.25
            await asyncio.to_thread(own_redis.start)  # a new, empty Redis
            assert await next_event(queue) is RESYNC  # what passed meanwhile is re-read
            assert bus.bridged and bus.recheck_seconds == events.SAFETY_RECHECK_SECONDS
            # Another process's event is pushed again.
            news = JobEvent("exp_elsewhere", "wsp_x", "RUNNING")
            redis.Redis.from_url(own_redis.url).publish(bus.channel, json.dumps(asdict(news)))
            assert await next_event(queue) == news
    finally:
        bridge.cancel()
        await asyncio.gather(bridge, return_exceptions=True)


def changed_elsewhere(runtime: Runtime, job_id: str) -> None:
    """What another process does to a job when no event of it can reach this gateway."""
    with runtime.sync_sessions() as session:
        session.execute(
            update(ExportJobRow)
            .where(ExportJobRow.id == job_id)
            .values(status="CANCELED", reason="canceled elsewhere", finished_at=now_ns())
        )
        session.commit()


def followed(ws: Any) -> dict[str, Any]:
    message = receive(ws, time.monotonic() + 60)
    assert message["type"] == "next", message
    return dict(message["payload"]["data"]["exportJobUpdated"])


def test_a_subscription_follows_other_processes_changes_through_a_redis_outage(
    settings: Settings, seed: Seed, own_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only a pushed event or the outage's re-reads can bring news within this test.
    monkeypatch.setattr(events, "SAFETY_RECHECK_SECONDS", 3600.0)
    settings = settings.model_copy(
        update={
            "events_url": own_redis.url,
            "events_fallback_poll_seconds": 0.2,
            "queue_name": uuid.uuid4().hex,
        }
    )
    app = create_app(settings)
    bus, runtime, key = app.state.bus, app.state.runtime, seed.keys["alpha"]
    with TestClient(WithoutLifespan(app, [bus.bridge_forever])) as client:
        wait_until(lambda: bus.bridged)
        created = [post_data(client, key, CREATE, {"input": export_input()}) for _ in range(2)]
        first, second = (c["createExport"]["exportJob"]["id"] for c in created)
        with (
            subscription(client, key, FOLLOW, {"id": first}) as (before, _),
            subscription(client, key, FOLLOW, {"id": second}) as (through, _),
        ):
            assert followed(before)["status"] == followed(through)["status"] == "QUEUED"
            own_redis.kill()
            wait_until(lambda: not bus.bridged)
            changed_elsewhere(runtime, first)
            update_seen = followed(before)
            assert (update_seen["status"], update_seen["reason"]) == (
                "CANCELED",
                "canceled elsewhere",
            )
            assert until_complete(before) == []
            # Redis returns: the other subscription, open all along, is pushed to again.
            own_redis.start()
            wait_until(lambda: bus.bridged)
            changed_elsewhere(runtime, second)
            announcement = JobEvent(second, "wsp_alpha", "CANCELED")
            redis.Redis.from_url(own_redis.url).publish(
                bus.channel, json.dumps(asdict(announcement))
            )
            assert followed(through)["status"] == "CANCELED"
            assert until_complete(through) == []
    broker.flush_all()


async def test_with_the_rate_limit_redis_down_each_gateway_counts_alone(
    seed: Seed, tmp_path: Path, own_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rate_limits, "SHARED_RETRY_SECONDS", 0.0)  # try Redis every request
    shared = redis.Redis.from_url(own_redis.url)
    settings = settings_for(
        copy_seed(seed, tmp_path / "data"),
        queue_name=uuid.uuid4().hex,
        events_url=own_redis.url,  # the rate limits' store too
        rate_limit_requests_per_minute=5,
    )
    async with idle_app(settings, seed.keys) as api:
        assert (await api.post(COUNT)).status_code == 200
        assert shared.keys("*")  # counted in Redis
        own_redis.kill()
        answers = [await api.post(COUNT) for _ in range(6)]
        # Answered, and still limited: by this gateway's own count, from zero.
        assert [a.status_code for a in answers] == [200, 200, 200, 200, 200, 429]
        assert int(answers[0].json()["data"]["exportJobs"]["totalCount"]) >= 0
        assert answers[-1].json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        # createExport still queues (its announcement stays in this process).
        created = await create_payload(api, key="alpha-member")
        assert created["userErrors"] == [] and created["exportJob"]["status"] == "QUEUED"
        await asyncio.to_thread(own_redis.start)  # empty
        assert (await api.post(COUNT, key="alpha-viewer")).status_code == 200
        assert shared.keys("*")  # shared again
