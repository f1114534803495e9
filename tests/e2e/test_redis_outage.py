"""Distributed mode through an outage of its Redis (broker and events: one server this test
starts and kills on a spare port), with two gateways: both keep answering, createExport
queues jobs, a change made through one gateway reaches a subscriber of the other by re-reads,
and once Redis is back (empty: every queued wake-up lost) the queued jobs run and their
subscribers, open all along or opened during the outage, see them finish without
reconnecting."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.clients import GraphQLClient, subscribe
from tests.helpers.data import BINANCE, Dataset
from tests.helpers.environments import environment
from tests.helpers.operations import CANCEL, CREATE, FOLLOW
from tests.helpers.own_services import RedisServer
from tests.helpers.processes import Gateway, WorkerProcess

pytestmark = pytest.mark.e2e

EXPORT = {"datastreamId": str(BINANCE.id), "startTime": 0, "endTime": "2100-01-01"}


class Follower:
    """One subscription to a job, on its own thread, from its start to its completion."""

    def __init__(self, url: str, key: str, job_id: str) -> None:
        self.messages: list[dict[str, Any]] = []
        self.ended = threading.Event()
        self.failure: BaseException | None = None
        self._thread = threading.Thread(target=self._follow, args=(url, key, job_id), daemon=True)
        self._thread.start()

    def _follow(self, url: str, key: str, job_id: str) -> None:
        try:
            for message in subscribe(url, key, FOLLOW, {"id": job_id}, timeout=300):
                self.messages.append(message)
        except BaseException as exc:  # reported by `final`
            self.failure = exc
        finally:
            self.ended.set()

    def statuses(self) -> list[str]:
        assert all(m["type"] == "next" for m in self.messages), self.messages
        return [m["payload"]["data"]["exportJobUpdated"]["status"] for m in self.messages]

    def wait_for_first(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self.messages:
            assert time.monotonic() < deadline and not self.ended.is_set(), self.failure
            time.sleep(0.02)

    def final(self, timeout: float = 120) -> dict[str, Any]:
        assert self.ended.wait(timeout), f"the subscription never completed: {self.statuses()}"
        assert self.failure is None, self.failure
        return dict(self.messages[-1]["payload"]["data"]["exportJobUpdated"])


def test_through_a_redis_outage_gateways_answer_and_subscriptions_keep_following(
    tmp_path: Path, dataset: Dataset, own_redis: RedisServer
) -> None:
    with environment(
        "distributed",
        tmp_path / "gateway",
        dataset,
        workers=0,  # jobs stay queued until the test starts one
        streams=[BINANCE.id],
        BROKER_URL=own_redis.url,
        GATEWAY_EVENTS_FALLBACK_POLL_SECONDS="0.3",
    ) as handle:
        other = Gateway(handle.env, tmp_path / "gateway2.log").start()
        first, other_client = handle.client(), GraphQLClient(other.url, handle.key_a)

        def created(client: Any, **fields: Any) -> str:
            payload = client.execute(CREATE, {"input": {**EXPORT, **fields}})["createExport"]
            assert payload["userErrors"] == [] and payload["exportJob"]["status"] == "QUEUED"
            return str(payload["exportJob"]["id"])

        canceled, along = created(first), created(first, format="JSONL")
        followers = {
            job: Follower(handle.gateway.url, handle.key_a, job) for job in (canceled, along)
        }
        for follower in followers.values():
            follower.wait_for_first()
        own_redis.kill()
        # Both gateways answer; a job canceled through the second gateway (whose event
        # cannot leave it) reaches the first gateway's subscriber by re-reads.
        assert other_client.execute(CANCEL, {"id": canceled})["cancelExport"]["userErrors"] == []
        assert followers[canceled].final()["status"] == "CANCELED"
        during = created(first, format="PARQUET")  # queued; its wake-up is lost
        followers[during] = Follower(other.url, handle.key_a, during)
        followers[during].wait_for_first()
        own_redis.start()  # empty: the sweeper wakes the queued jobs again
        WorkerProcess(handle.env, tmp_path / "worker.log").start()
        for job in (along, during):
            final = followers[job].final()
            assert final["status"] == "SUCCEEDED", final
            assert int(final["artifacts"][0]["rowCount"]) == len(dataset.records[BINANCE.id])
            assert followers[job].statuses()[0] == "QUEUED"
