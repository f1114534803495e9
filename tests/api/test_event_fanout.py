"""Subscriptions fan out without a query per subscriber: reads of a followed row are shared by
every subscriber of the process, once per change (`SharedReads`), and another workspace's
subscribers learn nothing from them. The selection is executed once per change for every
subscriber with the same operation, variables, workspace and role (`shared_events`)."""

from __future__ import annotations

import asyncio
import gc
import time
from collections import Counter
from collections.abc import AsyncGenerator, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import strawberry
from starlette.testclient import TestClient
from strawberry.types import ExecutionResult

from app.domain.auth import Principal, Role
from app.domain.exports import queries
from app.domain.runtime import JobEvent
from app.events import EventBus
from app.graphql import shared_events
from app.graphql.shared_events import SharedEvent, SharedEventExecutor
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


ADMIN_DASHBOARDS = 6
FOLLOW_ALL_NAMED = """subscription Board { exportJobsUpdated { id status } }"""


def test_dashboards_alike_share_one_execution_per_change(
    live: TestClient, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dashboards with the same operation in one workspace and role get each change from one
    execution; another role, another operation or another workspace is its own group."""
    executed: list[tuple[Any, Any]] = []  # (payload, group); payloads kept alive: ids unique
    original = SharedEventExecutor._execute_once

    async def counted(self: SharedEventExecutor, serially: bool | None) -> Any:
        executed.append((self.root_value, self._group()))
        return await original(self, serially)

    monkeypatch.setattr(SharedEventExecutor, "_execute_once", counted)
    alpha, viewer, beta = (seed.keys[k] for k in ("alpha", "alpha-viewer", "beta"))
    boards = [(alpha, FOLLOW_ALL)] * ADMIN_DASHBOARDS + [
        (viewer, FOLLOW_ALL),
        (viewer, FOLLOW_ALL),
        (alpha, FOLLOW_ALL_NAMED),
        (beta, FOLLOW_ALL),
    ]
    with ExitStack() as stack:
        sockets = [stack.enter_context(subscription(live, k, q, {}))[0] for k, q in boards]
        response = live.post(
            "/graphql",
            json={"query": CREATE, "variables": {"input": export_input(schema="normalized")}},
            headers={"X-Api-Key": alpha},
        )
        job_id = response.json()["data"]["createExport"]["exportJob"]["id"]
        updates = [
            _dashboard_updates(ws, job_id, until_terminal=key != beta)
            for ws, (key, _) in zip(sockets, boards, strict=True)
        ]
    for update, (key, _) in zip(updates, boards, strict=True):
        if key == beta:
            assert update == []  # never shown to another workspace
        else:
            assert update[-1]["status"] == "SUCCEEDED"
    groups = Counter((id(payload), group) for payload, group in executed)
    assert groups and max(groups.values()) == 1  # never the same payload twice for a group
    by_scope = Counter((group[0], group[4]) for _, group in executed)
    alpha_ws = seed.principals["alpha"].workspace_id
    admin_runs = by_scope[(FOLLOW_ALL, str(Role.ADMIN))]
    admin_messages = sum(len(u) for u in updates[:ADMIN_DASHBOARDS])
    assert 0 < admin_runs < admin_messages  # six dashboards, about one execution per change
    assert by_scope[(FOLLOW_ALL, str(Role.VIEWER))] > 0  # the viewers' own group
    assert by_scope[(FOLLOW_ALL_NAMED, str(Role.ADMIN))] > 0  # another operation
    assert {group[3] for _, group in executed} == {alpha_ws}  # beta never ran alpha's job


@strawberry.type
class Echo(SharedEvent):
    n: int

    @strawberry.field
    def seen_by(self, info: strawberry.Info) -> str:
        who = info.context.principal
        return f"{who.workspace_id}/{who.role.value}/{self.n}"


class FakeContext:
    def __init__(self, workspace: str, role: Role) -> None:
        self.principal = Principal(workspace, f"key-{workspace}-{role.value}", role)

    def base_url(self) -> str:
        return "http://gateway"


SHARED = [Echo(n=1), Echo(n=2)]


@strawberry.type
class EchoQuery:
    ok: bool = True


@strawberry.type
class EchoSubscription:
    @strawberry.subscription
    async def echoes(self, fresh: bool = False) -> AsyncGenerator[Echo, None]:
        for echo in SHARED:
            yield Echo(n=echo.n) if fresh else echo


ECHO_SCHEMA = strawberry.Schema(
    query=EchoQuery, subscription=EchoSubscription, execution_context_class=SharedEventExecutor
)


async def _echoes(context: FakeContext, query: str) -> list[str]:
    stream = await ECHO_SCHEMA.subscribe(query, context_value=context)
    answers = []
    async for result in stream:
        assert isinstance(result, ExecutionResult) and result.data, result
        answers.append(result.data["echoes"]["seenBy"])
    return answers


async def test_a_shared_payload_runs_once_per_workspace_and_role() -> None:
    before = shared_events.executions
    callers = [
        FakeContext("ws1", Role.ADMIN),
        FakeContext("ws1", Role.ADMIN),
        FakeContext("ws1", Role.ADMIN),
        FakeContext("ws2", Role.ADMIN),
        FakeContext("ws1", Role.VIEWER),
    ]
    seen = await asyncio.gather(
        *(_echoes(c, "subscription { echoes { seenBy } }") for c in callers)
    )
    for caller, answers in zip(callers, seen, strict=True):
        who = caller.principal
        assert answers == [f"{who.workspace_id}/{who.role.value}/{n}" for n in (1, 2)]
    assert shared_events.executions - before == 3 * len(SHARED)  # three groups, two events
    # Another document, or other variables, is another group; fresh payloads share nothing.
    before = shared_events.executions
    await _echoes(callers[0], "subscription { echoes { seenBy n } }")
    await _echoes(callers[0], "subscription { echoes(fresh: false) { seenBy } }")
    assert shared_events.executions - before == 2 * len(SHARED)
    before = shared_events.executions
    await asyncio.gather(
        *(_echoes(callers[0], "subscription { echoes(fresh: true) { seenBy } }") for _ in range(3))
    )
    assert shared_events.executions - before == 3 * len(SHARED)


async def test_results_go_with_their_payload() -> None:
    payload = Echo(n=3)
    key = id(payload)
    SHARED.append(payload)
    try:
        await _echoes(FakeContext("ws1", Role.ADMIN), "subscription Gc { echoes { seenBy } }")
        assert key in shared_events._results
    finally:
        SHARED.remove(payload)
    del payload
    gc.collect()
    assert key not in shared_events._results
