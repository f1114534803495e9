"""Identical queries that arrive while one runs are answered by one execution: the next one,
never the one under way (a client that wrote and then reads sees its write). Each request is
still admitted by its key's rate limits; another key, other variables or an answer with errors
is not shared."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.domain.exports import queries
from app.graphql import shared_events
from tests.api.helpers import CREATE, create_job, export_input, idle_app
from tests.api.test_metrics import samples
from tests.helpers.inprocess import ApiClient, Seed, copy_seed, settings_for

PAGE = "query($first: Int) { exportJobs(first: $first) { edges { node { id status } } } }"
WAITING = 20


class GatedListing:
    """`list_exports`, counted; the first read holds its rows until `release` is set (the
    execution is under way, the database already read); `fail_call`: that call raises."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        self.first_read = asyncio.Event()
        self.release = asyncio.Event()
        self.fail_call: int | None = None
        self._original = queries.list_exports
        monkeypatch.setattr(queries, "list_exports", self)

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        call = self.calls
        rows = await self._original(*args, **kwargs)
        if call == 1:
            self.first_read.set()
            await self.release.wait()
        if call == self.fail_call:
            raise RuntimeError("the database went away")
        return rows


class Parked:
    """Counts the queries parked behind a running execution: the one that starts the next
    execution, and those that wait for its answer (`_usable`)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.waiting = 0
        original = shared_events._usable

        async def counted(shared: Any) -> Any:
            self.waiting += 1
            return await original(shared)

        monkeypatch.setattr(shared_events, "_usable", counted)

    @property
    def next_started(self) -> bool:
        return any(flight.next is not None for flight in shared_events._flights().values())

    async def until(self, waiting: int) -> None:
        """Until the next execution's starter and `waiting` more are parked."""
        await _until(lambda: self.next_started and self.waiting >= waiting)


async def _until(condition: Callable[[], bool], seconds: float = 10) -> None:
    """Polls `condition` (the requests go through the app's middlewares first)."""
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.005)


async def _first_running(
    api: ApiClient, listing: GatedListing, variables: dict[str, Any], key: str = "alpha"
) -> asyncio.Task[httpx.Response]:
    """A page request whose execution has read the database and is held there."""
    first = asyncio.create_task(api.post(PAGE, variables, key=key))
    await asyncio.wait_for(listing.first_read.wait(), 10)
    return first


async def _shared(api: ApiClient) -> float:
    """The answers this gateway shared, as `/metrics` counts them."""
    return (await samples(api))[("gateway_graphql_shared_answers_total", ())]


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return [edge["node"]["id"] for edge in body["data"]["exportJobs"]["edges"]]


async def test_queries_arriving_during_an_execution_share_the_next_one(
    idle_api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    listing, parked = GatedListing(monkeypatch), Parked(monkeypatch)
    first = await _first_running(idle_api, listing, {"first": 5})
    waiting = [asyncio.create_task(idle_api.post(PAGE, {"first": 5})) for _ in range(WAITING)]
    await parked.until(WAITING - 1)
    assert listing.calls == 1  # they wait for the next execution, not one each
    listing.release.set()
    answers = [_ids(r) for r in await asyncio.gather(first, *waiting)]
    assert listing.calls == 2
    assert all(answer == answers[0] for answer in answers)
    # One of them started the next execution; the others were answered by it.
    assert await _shared(idle_api) == WAITING - 1
    assert not shared_events._flights()  # nothing left behind


async def test_a_query_sent_after_a_write_sees_the_write(
    idle_api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    listing, parked = GatedListing(monkeypatch), Parked(monkeypatch)
    first = await _first_running(idle_api, listing, {"first": 5})
    created = await idle_api.execute(CREATE, {"input": export_input()})
    job_id = created["createExport"]["exportJob"]["id"]
    # One starts the next execution, the other joins it: neither gets the held one's answer.
    after_the_write = [asyncio.create_task(idle_api.post(PAGE, {"first": 5})) for _ in range(2)]
    await parked.until(1)
    listing.release.set()
    assert job_id not in _ids(await first)  # read before the write
    for answer in await asyncio.gather(*after_the_write):
        assert job_id in _ids(answer)


async def test_an_execution_cancelled_before_its_turn_leaves_nothing_behind(
    idle_api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The waiting execution cancelled (as when its loop closes): its queries execute on
    their own, and the group does not keep a finished execution as the one to join."""
    listing, parked = GatedListing(monkeypatch), Parked(monkeypatch)
    first = await _first_running(idle_api, listing, {"first": 5})
    waiting = [asyncio.create_task(idle_api.post(PAGE, {"first": 5})) for _ in range(2)]
    await parked.until(1)
    [running] = shared_events._flights().values()
    assert running.next is not None
    running.next.answer.cancel()
    listing.release.set()
    for answer in await asyncio.gather(first, *waiting):
        assert _ids(answer) == []
    await _until(lambda: not shared_events._flights())
    created = await idle_api.execute(CREATE, {"input": export_input()})
    job_id = created["createExport"]["exportJob"]["id"]
    assert job_id in _ids(await idle_api.post(PAGE, {"first": 5}))


async def test_other_keys_and_variables_are_answered_apart(
    idle_api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await create_job(idle_api)
    listing = GatedListing(monkeypatch)
    first = await _first_running(idle_api, listing, {"first": 5})
    others = [
        asyncio.create_task(idle_api.post(PAGE, {"first": 5}, key="alpha-viewer")),
        asyncio.create_task(idle_api.post(PAGE, {"first": 5}, key="beta")),
        asyncio.create_task(idle_api.post(PAGE, {"first": 6})),
    ]
    await _until(lambda: listing.calls == 4)  # none of them waits for the held one
    listing.release.set()
    alpha, viewer, beta, six = [_ids(r) for r in await asyncio.gather(first, *others)]
    assert alpha == viewer == six and len(alpha) == 1
    assert beta == []  # another workspace's jobs are never in its answer
    assert await _shared(idle_api) == 0


async def test_an_answer_with_errors_is_not_shared(
    idle_api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    listing, parked = GatedListing(monkeypatch), Parked(monkeypatch)
    listing.fail_call = 2  # the next execution, the one the waiting queries share
    first = await _first_running(idle_api, listing, {"first": 5})
    waiting = [asyncio.create_task(idle_api.post(PAGE, {"first": 5})) for _ in range(4)]
    await parked.until(3)
    listing.release.set()
    answers = await asyncio.gather(*waiting)
    _ids(await first)
    failed = [r for r in answers if "errors" in r.json()]
    assert len(failed) == 1  # the one whose execution failed
    assert failed[0].json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert all(_ids(r) == [] for r in answers if r not in failed)
    # Its three waiters went through the group once more (one running, two waiting for the
    # next), rather than each executing at once.
    assert listing.calls == 2 + 2
    assert await _shared(idle_api) == 1


async def test_each_waiting_query_is_still_rate_limited(
    seed: Seed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(copy_seed(seed, tmp_path / "data"), rate_limit_requests_per_minute=3)
    async with idle_app(settings, seed.keys) as api:
        listing, parked = GatedListing(monkeypatch), Parked(monkeypatch)
        first = await _first_running(api, listing, {"first": 5})
        waiting = [asyncio.create_task(api.post(PAGE, {"first": 5})) for _ in range(4)]
        await parked.until(1)  # the two admitted; the two refused never get this far
        await _until(lambda: sum(task.done() for task in waiting) == 2)
        listing.release.set()
        answers = await asyncio.gather(first, *waiting)
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 429, 429]
    assert listing.calls == 2
