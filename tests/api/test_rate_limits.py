"""Rate limits per key: requests and query cost per minute, RateLimit-* headers on every
answer, HTTP 429 with Retry-After and a typed RATE_LIMITED error beyond; a workspace's own
limits; and with Redis, one count shared by every gateway."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from app.config import Settings
from app.domain.exports import queries
from tests.api.helpers import idle_app
from tests.helpers.inprocess import ApiClient, Seed, copy_seed, settings_for
from tests.helpers.services import REDIS_URL, require

COUNT = "{ exportJobs { totalCount } }"
SETTINGS = """mutation($n: Int) { updateWorkspaceSettings(input: {requestsPerMinute: $n}) {
  workspace { requestsPerMinute } userErrors { code field message } } }"""


def limited(seed: Seed, tmp_path: Path, **overrides: Any) -> Settings:
    return settings_for(
        copy_seed(seed, tmp_path / "data"), queue_name=uuid.uuid4().hex, **overrides
    )


async def test_requests_beyond_the_limit_are_429_with_retry_after(
    seed: Seed, tmp_path: Path
) -> None:
    settings = limited(seed, tmp_path, rate_limit_requests_per_minute=3)
    async with idle_app(settings, seed.keys) as api:
        answers = [await api.post(COUNT) for _ in range(4)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        assert [r.headers["ratelimit-remaining"] for r in answers[:3]] == ["2", "1", "0"]
        assert all(r.headers["ratelimit-limit"] == "3" for r in answers)
        assert all(r.headers["ratelimit-policy"] == "3;w=60" for r in answers)
        assert all(1 <= int(r.headers["ratelimit-reset"]) <= 60 for r in answers)
        assert "retry-after" not in answers[0].headers
        refused = answers[-1]
        [error] = refused.json()["errors"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert 1 <= error["extensions"]["retryAfter"] <= 60
        assert refused.headers["retry-after"] == str(error["extensions"]["retryAfter"])
        # Per key: another key of the same workspace has its own count.
        assert (await api.post(COUNT, key="alpha-viewer")).status_code == 200


async def test_query_cost_is_spent_from_its_own_window(seed: Seed, tmp_path: Path) -> None:
    settings = limited(seed, tmp_path, rate_limit_query_cost_per_minute=2_600)
    # exportJobs 1 + 100 x (edges 1 + node 1 + 3 fields) = 501: five fit in 2,600, not six.
    page = "{ exportJobs(first: 100) { edges { node { id status createdAt } } } }"
    async with idle_app(settings, seed.keys) as api:
        answers = [await api.post(page) for _ in range(6)]
        assert [r.status_code for r in answers] == [200] * 5 + [429]
        # The headers speak of the limit that applies: cost, once requests are not the tightest.
        assert answers[-1].headers["ratelimit-limit"] == "2600"
        assert answers[-1].headers["ratelimit-remaining"] == "95"  # 2,600 - 5 x 501
        assert 1 <= int(answers[-1].headers["retry-after"]) <= 60


async def test_a_workspace_sets_its_own_limit(idle_api: ApiClient) -> None:
    payload = (await idle_api.execute(SETTINGS, {"n": 2}))["updateWorkspaceSettings"]
    assert payload["workspace"]["requestsPerMinute"] == 2
    codes = [(await idle_api.post(COUNT, key="alpha-member")).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    refused = (await idle_api.execute(SETTINGS, {"n": -1}))["updateWorkspaceSettings"]
    assert refused["userErrors"][0]["field"] == ["input", "requestsPerMinute"]


async def test_gateways_sharing_redis_share_the_count(seed: Seed, tmp_path: Path) -> None:
    require("Redis", "127.0.0.1", 6379)
    namespace = uuid.uuid4().hex
    first = settings_for(
        copy_seed(seed, tmp_path / "a"),
        queue_name=namespace,
        rate_limit_url=REDIS_URL,
        rate_limit_requests_per_minute=4,
    )
    second = first.model_copy(update={"data_dir": copy_seed(seed, tmp_path / "b")})
    async with idle_app(first, seed.keys) as one, idle_app(second, seed.keys) as two:
        codes = [(await gateway.post(COUNT)).status_code for gateway in (one, two) * 3]
    assert codes == [200, 200, 200, 200, 429, 429]


async def test_unavailable_mid_request_says_when_to_retry(
    idle_api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database went away after the key was checked: the operation's UNAVAILABLE error
    comes with Retry-After, as the 503 of a request refused outright does."""

    async def gone(*args: object, **kwargs: object) -> None:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(queries, "get_export", gone)
    response = await idle_api.post(
        "query($id: ID!) { exportJob(id: $id) { id } }", {"id": "exp_" + "0" * 32}
    )
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAVAILABLE"
    assert error["extensions"]["retryAfter"] == 5
    assert response.headers["retry-after"] == "5"
    healthy = await idle_api.post(COUNT)
    assert healthy.status_code == 200 and "retry-after" not in healthy.headers
