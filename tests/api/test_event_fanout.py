"""Subscriptions fan out without a query per subscriber: reads of a followed row are shared by
every subscriber of the process, once per change (`SharedReads`), and another workspace's
subscribers learn nothing from them."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.domain.exports import queries
from app.domain.runtime import JobEvent
from app.events import EventBus
from app.main import create_app
from tests.api.helpers import CREATE, FOLLOW, export_input, subscription, until_complete
from tests.helpers.inprocess import Seed, copy_seed, settings_for
from workers.broker import broker

FOLLOWERS = 20
FOLLOW_ALL = """subscription { exportJobsUpdated { id status progress { rowsWritten } } }"""


class Loads:
    """A load function that counts its calls and can be told to fail."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail = False

    async def __call__(self) -> int:
        self.calls += 1
        await asyncio.sleep(0.01)  # the others arrive while the read is under way
        if self.fail:
            raise RuntimeError("the database went away")
        return self.calls


async def test_readers_woken_by_one_event_share_one_read() -> None:
    bus = EventBus(sees_every_change=True)
    load = Loads()
    results = await asyncio.gather(*(bus.reads.read("job:a", "a", load) for _ in range(100)))
    assert load.calls == 1 and set(results) == {1}
    assert await bus.reads.read("job:a", "a", load) == 1  # nothing changed: still shared
    bus.deliver_locally(JobEvent("b", "ws", "RUNNING"))
    assert await bus.reads.read("job:a", "a", load) == 1  # another job's news
    bus.deliver_locally(JobEvent("a", "ws", "RUNNING"))
    results = await asyncio.gather(*(bus.reads.read("job:a", "a", load) for _ in range(100)))
    assert load.calls == 2 and set(results) == {2}
    bus.resync()
    assert await bus.reads.read("job:a", "a", load) == 3


async def test_a_failed_read_is_not_kept_for_the_next_reader() -> None:
    bus = EventBus(sees_every_change=True)
    load = Loads()
    load.fail = True
    outcomes = await asyncio.gather(
        *(bus.reads.read("job:a", "a", load) for _ in range(10)), return_exceptions=True
    )
    assert load.calls == 1 and all(isinstance(o, RuntimeError) for o in outcomes)
    load.fail = False
    assert await bus.reads.read("job:a", "a", load) == 2


async def test_a_resync_reaches_every_subscriber() -> None:
    bus = EventBus(sees_every_change=True)
    async with bus.subscribe() as first, bus.subscribe() as second:
        bus.resync()
        assert (await first.get()).status == (await second.get()).status == "RESYNC"


@pytest.fixture
def live(seed: Seed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = settings_for(copy_seed(seed, tmp_path_factory.mktemp("fanout")))
    with TestClient(create_app(settings)) as client:
        yield client
    broker.flush_all()


def test_many_followers_of_a_job_cost_one_read_per_change(
    live: TestClient, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: Counter[str] = Counter()
    events: Counter[str] = Counter()
    original_read = queries.get_export_any_workspace
    original_deliver = EventBus.deliver_locally

    async def counted_read(session: Any, job_id: str) -> Any:
        reads[job_id] += 1
        return await original_read(session, job_id)

    def counted_deliver(self: EventBus, event: JobEvent) -> None:
        events[event.job_id] += 1
        original_deliver(self, event)

    monkeypatch.setattr(queries, "get_export_any_workspace", counted_read)
    monkeypatch.setattr(EventBus, "deliver_locally", counted_deliver)
    alpha, beta = seed.keys["alpha"], seed.keys["beta"]
    with ExitStack() as stack:
        dashboards = [
            stack.enter_context(subscription(live, key, FOLLOW_ALL, {}))[0] for key in (alpha, beta)
        ]
        response = live.post(
            "/graphql",
            json={"query": CREATE, "variables": {"input": export_input(schema="normalized")}},
            headers={"X-Api-Key": alpha},
        )
        job_id = response.json()["data"]["createExport"]["exportJob"]["id"]
        followers = [
            stack.enter_context(subscription(live, alpha, FOLLOW, {"id": job_id}))[0]
            for _ in range(FOLLOWERS)
        ]
        seen = [until_complete(ws) for ws in followers]
        alpha_board = _dashboard_updates(dashboards[0], job_id, until_terminal=True)
        beta_board = _dashboard_updates(dashboards[1], job_id, until_terminal=False)
    for messages in seen:
        assert messages[-1]["payload"]["data"]["exportJobUpdated"]["status"] == "SUCCEEDED"
    assert alpha_board[-1]["status"] == "SUCCEEDED"
    assert beta_board == []  # another workspace's job: never shown, however it was read
    # One read per change for every follower and dashboard together, plus the first read of
    # followers who subscribed before the first change.
    assert reads[job_id] <= events[job_id] + 2 < FOLLOWERS, (reads, events)


def _dashboard_updates(ws: Any, job_id: str, until_terminal: bool) -> list[dict[str, Any]]:
    """A dashboard's updates of one job: up to its terminal state, or (`until_terminal`
    false) whatever the server sent before answering a ping."""
    updates: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    ws.send_json({"type": "ping"})  # answered after what the server has sent before
    while True:
        message = ws.receive_json()
        if message["type"] == "pong":
            done = updates and updates[-1]["status"] in ("SUCCEEDED", "FAILED")
            if done or not until_terminal:
                return updates
            assert time.monotonic() < deadline, updates
            ws.send_json({"type": "ping"})
        elif message["type"] == "next":
            update = message["payload"]["data"]["exportJobsUpdated"]
            if update["id"] == job_id:
                updates.append(update)
