"""exportJobUpdated over graphql-transport-ws, in process through Starlette's TestClient."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from starlette.testclient import TestClient

from app.config import Settings
from app.domain.auth import authenticate
from app.main import create_app
from tests.api.helpers import (
    CANCEL,
    CREATE,
    DELETE,
    FOLLOW,
    WithoutLifespan,
    export_input,
    receive,
    records_in,
    subscription,
    until_complete,
)
from tests.helpers.inprocess import MINUTE, START, TRADES, Seed, copy_seed, post_data, settings_for
from workers.broker import broker

FIRST_MESSAGE_SECONDS = 30.0
FOLLOW_ALL = "subscription { exportJobsUpdated { id status } }"
REVOKE_KEY = """mutation($id: ID!) { revokeApiKey(input: {id: $id}) {
  apiKey { id revokedAt } userErrors { code field message } } }"""


@pytest.fixture(scope="module")
def live(seed: Seed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app with its lifespan (embedded workers, sweeper), shared by the module: stopping
    the worker threads takes about two seconds."""
    settings = settings_for(copy_seed(seed, tmp_path_factory.mktemp("live")))
    with TestClient(create_app(settings)) as client:
        yield client
    broker.flush_all()


@pytest.fixture
def idle(settings: Settings) -> Iterator[TestClient]:
    """The app without workers: a job stays QUEUED until the test changes it."""
    with TestClient(WithoutLifespan(create_app(settings))) as client:
        yield client
    broker.flush_all()


def new_job(client: TestClient, key: str, **fields: Any) -> str:
    payload = post_data(client, key, CREATE, {"input": export_input(**fields)})["createExport"]
    assert payload["userErrors"] == [], payload
    return str(payload["exportJob"]["id"])


def updates(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert all(m["type"] == "next" for m in messages), messages
    assert all(not m["payload"].get("errors") for m in messages), messages
    return [m["payload"]["data"]["exportJobUpdated"] for m in messages]


def only_error(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The error of a refused subscription: an `error` message, or a `next` without data."""
    [message] = messages
    payload = message["payload"]
    if message["type"] == "error":
        [error] = payload
    else:
        assert message["type"] == "next" and payload["data"] is None, message
        [error] = payload["errors"]
    return dict(error)


def test_the_current_state_comes_first_and_a_cancel_ends_the_stream(
    idle: TestClient, seed: Seed
) -> None:
    key = seed.keys["alpha"]
    job_id = new_job(idle, key)
    with subscription(idle, key, FOLLOW, {"id": job_id}) as (ws, ack):
        assert ack["payload"] == {"authenticated": True}
        first = receive(ws, time.monotonic() + FIRST_MESSAGE_SECONDS)
        assert first["type"] == "next"
        assert first["payload"]["data"]["exportJobUpdated"]["status"] == "QUEUED"  # no worker
        canceled = post_data(idle, key, CANCEL, {"id": job_id})["cancelExport"]
        assert canceled["userErrors"] == []
        rest = updates(until_complete(ws))
    assert [u["status"] for u in rest] == ["CANCELED"]
    assert rest[0]["reason"] == "canceled by request" and rest[0]["artifacts"] == []


def test_a_deleted_job_is_announced_to_its_followers_then_completes(
    idle: TestClient, seed: Seed
) -> None:
    key = seed.keys["alpha"]
    job_id = new_job(idle, key)
    with subscription(idle, key, FOLLOW, {"id": job_id}) as (ws, _):
        first = receive(ws, time.monotonic() + FIRST_MESSAGE_SECONDS)
        assert first["payload"]["data"]["exportJobUpdated"]["id"] == job_id
        deleted = post_data(idle, key, DELETE, {"id": job_id})["deleteExport"]
        assert deleted == {"deletedId": job_id, "userErrors": []}
        rest = updates(until_complete(ws))
    assert [(u["id"], u["status"]) for u in rest] == [(job_id, "DELETED")]


@pytest.mark.parametrize("key", [None, "egw_not-a-key"], ids=["missing", "unknown"])
def test_without_a_valid_key_a_subscription_is_unauthenticated(
    idle: TestClient, seed: Seed, key: str | None
) -> None:
    job_id = new_job(idle, seed.keys["alpha"])
    with subscription(idle, key, FOLLOW, {"id": job_id}) as (ws, ack):
        assert ack["payload"] == {"authenticated": False}
        error = only_error(until_complete(ws))
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["path"] == ["exportJobUpdated"]


def test_connections_of_a_key_seen_a_moment_ago_look_nothing_up(
    seed: Seed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thousand dashboards reconnecting after a restart cost one lookup of their key, as
    polling requests do; a key revoked through this gateway is refused at once all the same."""
    lookups: list[str | None] = []

    async def counted(session: Any, token: str | None, cache: Any = None) -> Any:
        lookups.append(token)
        return await authenticate(session, token, cache)

    monkeypatch.setattr("app.main.authenticate", counted)
    admin, viewer = seed.keys["alpha"], seed.keys["alpha-viewer"]
    # Remembered for longer than the connections take on a loaded machine.
    settings = settings_for(copy_seed(seed, tmp_path / "data"), auth_cache_seconds=60)
    with TestClient(WithoutLifespan(create_app(settings))) as client:
        for _ in range(5):
            with subscription(client, viewer, FOLLOW_ALL, {}) as (_, ack):
                assert ack["payload"] == {"authenticated": True}
        assert lookups == [viewer]
        viewer_key = seed.principals["alpha-viewer"].api_key_id
        revoked = post_data(client, admin, REVOKE_KEY, {"id": viewer_key})["revokeApiKey"]
        assert revoked["userErrors"] == []
        with subscription(client, viewer, FOLLOW_ALL, {}) as (_, ack):
            assert ack["payload"] == {"authenticated": False}
    broker.flush_all()


def test_another_workspace_cannot_follow_a_job(idle: TestClient, seed: Seed) -> None:
    job_id = new_job(idle, seed.keys["alpha"])
    with subscription(idle, seed.keys["beta"], FOLLOW, {"id": job_id}) as (ws, _):
        error = only_error(until_complete(ws))
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert job_id in error["message"]


def test_follow_a_job_to_success_then_complete(live: TestClient, seed: Seed) -> None:
    key = seed.keys["alpha"]
    job_id = new_job(live, key, schema="normalized")
    with subscription(live, key, FOLLOW, {"id": job_id}) as (ws, _):
        followed = updates(until_complete(ws))
    assert followed and all(u["id"] == job_id for u in followed)
    *before, last = followed
    assert all(u["status"] in ("QUEUED", "RUNNING") for u in before), followed
    assert last["status"] == "SUCCEEDED" and last["reason"] is None
    expected = len(records_in(seed, TRADES.id, START, START + MINUTE))  # one row per trade
    assert [int(a["rowCount"]) for a in last["artifacts"]] == [expected]
    assert int(last["progress"]["rowsWritten"]) == expected
    written = [int(u["progress"]["rowsWritten"]) for u in followed]
    assert written == sorted(written)  # progress never goes back
    # A terminal job: its current state, and the stream completes at once.
    with subscription(live, key, FOLLOW, {"id": job_id}) as (ws, _):
        assert [u["status"] for u in updates(until_complete(ws))] == ["SUCCEEDED"]


DASHBOARD = "subscription { exportJobsUpdated { id status } }"


def test_a_dashboard_sees_new_jobs_queued_and_deleted_ones_go(idle: TestClient, seed: Seed) -> None:
    key = seed.keys["alpha"]
    with subscription(idle, key, DASHBOARD, {}) as (ws, _):
        job_id = new_job(idle, key)
        assert receive(ws, time.monotonic() + FIRST_MESSAGE_SECONDS)["payload"]["data"][
            "exportJobsUpdated"
        ] == {"id": job_id, "status": "QUEUED"}
        post_data(idle, key, DELETE, {"id": job_id})
        assert receive(ws, time.monotonic() + FIRST_MESSAGE_SECONDS)["payload"]["data"][
            "exportJobsUpdated"
        ] == {"id": job_id, "status": "DELETED"}


RESUMING_DASHBOARD = """subscription($since: Timestamp) {
  exportJobsUpdated(since: $since) { id status revision updatedAt } }"""
RESUMING_FOLLOW = """subscription($id: ID!, $since: Timestamp) {
  exportJobUpdated(id: $id, since: $since) { id status revision updatedAt } }"""
STATE = """query($id: ID!) { exportJob(id: $id) { id status revision updatedAt } }"""


def _age(settings: Settings, job_id: str, seconds: int) -> None:
    """Make the job's last change `seconds` older, as if it happened long ago."""
    engine = create_engine(settings.sync_database_url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE export_jobs SET updated_at = updated_at - :ns WHERE id = :id"),
            {"ns": seconds * 10**9, "id": job_id},
        )
    engine.dispose()


def test_a_dashboard_resuming_since_its_last_update_misses_no_change(
    idle: TestClient, seed: Seed, settings: Settings
) -> None:
    key = seed.keys["alpha"]
    long_done = new_job(idle, key)
    post_data(idle, key, CANCEL, {"id": long_done})
    _age(settings, long_done, 600)  # finished well before the client's last update
    kept, canceled, deleted = (new_job(idle, key) for _ in range(3))
    seen = {
        j: post_data(idle, key, STATE, {"id": j})["exportJob"] for j in (kept, canceled, deleted)
    }
    since = max(s["updatedAt"] for s in seen.values())  # ISO, nine digits: sorts as time
    # While the client is away: one job ends, one is deleted, one is created.
    post_data(idle, key, CANCEL, {"id": canceled})
    post_data(idle, key, DELETE, {"id": deleted})
    created = new_job(idle, key)
    with subscription(idle, key, RESUMING_DASHBOARD, {"since": since}) as (ws, _):
        deadline = time.monotonic() + FIRST_MESSAGE_SECONDS
        replay = [receive(ws, deadline)["payload"]["data"]["exportJobsUpdated"] for _ in range(4)]
    assert {u["id"]: u["status"] for u in replay} == {
        kept: "QUEUED",  # the current state of what is active, as without `since`
        canceled: "CANCELED",
        deleted: "DELETED",
        created: "QUEUED",
    }
    assert [u["updatedAt"] for u in replay] == sorted(u["updatedAt"] for u in replay)
    by_id = {u["id"]: u for u in replay}
    for job_id in (canceled, deleted):  # each change is newer than what the client had
        assert int(by_id[job_id]["revision"]) > int(seen[job_id]["revision"])
    assert int(by_id[kept]["revision"]) == int(seen[kept]["revision"])


def test_a_follower_resuming_after_a_deletion_hears_of_it(idle: TestClient, seed: Seed) -> None:
    key = seed.keys["alpha"]
    job_id = new_job(idle, key)
    since = post_data(idle, key, STATE, {"id": job_id})["exportJob"]["updatedAt"]
    post_data(idle, key, DELETE, {"id": job_id})
    with subscription(idle, key, RESUMING_FOLLOW, {"id": job_id, "since": since}) as (ws, _):
        followed = [m["payload"]["data"]["exportJobUpdated"] for m in until_complete(ws)]
    assert [(u["id"], u["status"]) for u in followed] == [(job_id, "DELETED")]
    # Without `since`, a deleted job is simply not found.
    with subscription(idle, key, RESUMING_FOLLOW, {"id": job_id}) as (ws, _):
        assert only_error(until_complete(ws))["extensions"]["code"] == "NOT_FOUND"


def test_a_resume_older_than_the_retention_period_is_refused(idle: TestClient, seed: Seed) -> None:
    key = seed.keys["alpha"]
    with subscription(idle, key, RESUMING_DASHBOARD, {"since": "2001-01-01T00:00:00Z"}) as (
        ws,
        _,
    ):
        error = only_error(until_complete(ws))
    assert error["extensions"]["code"] == "INVALID_ARGUMENT"
    assert error["extensions"]["field"] == "since"
