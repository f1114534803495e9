"""Limits and the end of a job's life: the per-workspace cap, the wall-clock limit, retention
(expiry), deleteExport, and listing filters and orders.

One gateway per mode with small limits; tests that count jobs use a workspace of their own,
so they do not depend on each other.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.clients import GraphQLClient, subscribe
from tests.helpers.data import BINANCE, Dataset
from tests.helpers.environments import GatewayHandle, environment
from tests.helpers.operations import (
    CANCEL,
    CREATE,
    DELETE,
    FOLLOW,
    LONG_EXPORT,
    create,
    download,
)
from tests.helpers.processes import WorkerProcess, run_cli

pytestmark = pytest.mark.e2e

MAX_ACTIVE = 2
TIME_LIMIT = 2  # seconds: the big export needs several; the small ones a fraction of one
RETENTION = 4  # seconds
CONCURRENT = 8


BIG = LONG_EXPORT
JOB = """query($id: ID!) { exportJob(id: $id) { id status reason createdAt startedAt finishedAt
  expiresAt progress { rowsWritten } artifacts { url filename } } }"""
DASHBOARD = """subscription { exportJobsUpdated {
  id status finishedAt expiresAt artifacts { url } } }"""
LIST = """query($first: Int, $after: String, $order: ExportJobOrder!, $format: ExportFormat,
  $createdAfter: Timestamp, $createdBefore: Timestamp) {
  exportJobs(first: $first, after: $after, orderBy: $order, format: $format,
             createdAfter: $createdAfter, createdBefore: $createdBefore) {
    totalCount edges { cursor node { id format createdAt } }
    pageInfo { hasNextPage hasPreviousPage endCursor } } }"""


@pytest.fixture(scope="module", params=["embedded", "distributed"])
def limited(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, dataset: Dataset
) -> Iterator[GatewayHandle]:
    with environment(
        request.param,
        tmp_path_factory.mktemp(f"limits-{request.param}"),
        dataset,
        GATEWAY_MAX_ACTIVE_EXPORTS=str(MAX_ACTIVE),
        GATEWAY_JOB_TIMEOUT_SECONDS=str(TIME_LIMIT),
        GATEWAY_RETENTION_SECONDS=str(RETENTION),
        GATEWAY_SWEEP_INTERVAL_SECONDS="0.5",
    ) as handle:
        yield handle


def new_workspace(handle: GatewayHandle) -> str:
    """An API key of a workspace of its own (the cap counts per workspace)."""
    name = f"ws-{uuid.uuid4().hex[:8]}"
    return run_cli(handle.env, "create-key", "--workspace", name).stdout.strip()


def small(**fields: Any) -> dict[str, Any]:
    return {
        "datastreamId": str(BINANCE.id),
        "startTime": "2024-03-01T00:00:00Z",
        "endTime": "2024-03-01T00:01:00Z",
        **fields,
    }


def follow(handle: GatewayHandle, key: str, job_id: str) -> list[dict[str, Any]]:
    messages = list(subscribe(handle.gateway.url, key, FOLLOW, {"id": job_id}, timeout=60))
    assert all(m["type"] == "next" for m in messages), messages
    return [m["payload"]["data"]["exportJobUpdated"] for m in messages]


def job_files(handle: GatewayHandle, job_id: str) -> list[Path]:
    root = handle.data_dir / "storage" / "artifacts" / job_id
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def wait_no_files(handle: GatewayHandle, job_id: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while job_files(handle, job_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job_files(handle, job_id) == []


def wait_running(handle: GatewayHandle, key: str, job_id: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        job = handle.client(key).execute(JOB, {"id": job_id})["exportJob"]
        if int(job["progress"]["rowsWritten"]) > 0:
            return
        assert job["status"] in ("QUEUED", "RUNNING") and time.monotonic() < deadline, job
        time.sleep(0.05)


def ns(timestamp: str) -> int:
    from engine.timestamps import parse_timestamp

    return parse_timestamp(timestamp)


def cancel_all(handle: GatewayHandle, key: str, job_ids: list[str]) -> None:
    for job_id in job_ids:
        handle.client(key).execute(CANCEL, {"id": job_id})


def test_the_cap_is_rate_limited_with_retry_after_and_replays_still_answer(
    limited: GatewayHandle,
) -> None:
    key = new_workspace(limited)
    first = create(limited, key, idempotencyKey="first", **BIG)["exportJob"]
    second = create(limited, key, **BIG)["exportJob"]
    try:
        wait_running(limited, key, first["id"])
        over = create(limited, key, **small())
        assert over["exportJob"] is None
        [error] = over["userErrors"]
        assert (error["code"], error["field"]) == ("RATE_LIMITED", ["input"])
        assert f"limit is {MAX_ACTIVE}" in error["message"]
        response = limited.client(key).post(
            """mutation($input: CreateExportInput!) { createExport(input: $input) {
              userErrors { code retryAfter } } }""",
            {"input": small()},
        )
        [error] = response.json()["data"]["createExport"]["userErrors"]
        # The soonest running job ends by the time limit at the latest.
        assert error["code"] == "RATE_LIMITED" and 1 <= error["retryAfter"] <= TIME_LIMIT
        # A replay of a key is not a new job: it answers even at the cap.
        replay = create(limited, key, idempotencyKey="first", **BIG)
        assert replay["userErrors"] == [] and replay["exportJob"]["id"] == first["id"]
        # The cap is per workspace.
        assert create(limited, "b", **small())["userErrors"] == []
    finally:
        cancel_all(limited, key, [first["id"], second["id"]])
    # Canceled jobs no longer count.
    assert create(limited, key, **small())["userErrors"] == []


def test_concurrent_creates_at_cap_minus_one_let_exactly_one_through(
    limited: GatewayHandle,
) -> None:
    key = new_workspace(limited)
    clients = [limited.client(key) for _ in range(CONCURRENT)]
    for client in clients:  # connections open before the race starts
        client.execute("{ datastreams(first: 1) { totalCount } }")
    # Created last: it must still hold its slot (the time limit is short) when the race runs.
    running = create(limited, key, **BIG)["exportJob"]["id"]
    start = threading.Barrier(CONCURRENT)

    def race(client: GraphQLClient, fields: dict[str, Any]) -> dict[str, Any]:
        start.wait()
        return client.execute(CREATE, {"input": fields})["createExport"]

    with ThreadPoolExecutor(CONCURRENT) as pool:
        payloads = list(pool.map(race, clients, [BIG] * CONCURRENT))
    created = [p["exportJob"]["id"] for p in payloads if p["exportJob"]]
    try:
        assert len(created) == MAX_ACTIVE - 1, payloads
        codes = [e["code"] for p in payloads for e in p["userErrors"]]
        assert codes == ["RATE_LIMITED"] * (CONCURRENT - 1)
    finally:
        cancel_all(limited, key, [running, *created])
    # The same race with one idempotency key: the winner takes the last slot, the others
    # get its job back rather than RATE_LIMITED.
    running = create(limited, key, **BIG)["exportJob"]["id"]
    with ThreadPoolExecutor(CONCURRENT) as pool:
        payloads = list(pool.map(race, clients, [{**BIG, "idempotencyKey": "k"}] * CONCURRENT))
    try:
        assert all(p["userErrors"] == [] for p in payloads), payloads
        assert len({p["exportJob"]["id"] for p in payloads}) == 1
    finally:
        cancel_all(
            limited, key, [running, *{p["exportJob"]["id"] for p in payloads if p["exportJob"]}]
        )


def test_a_job_over_the_time_limit_fails_and_leaves_no_files(limited: GatewayHandle) -> None:
    job_id = create(limited, **BIG)["exportJob"]["id"]
    updates = follow(limited, limited.key_a, job_id)
    final = updates[-1]
    assert final["status"] == "FAILED", final
    assert final["reason"] == f"export exceeded the time limit of {TIME_LIMIT} s"
    assert final["artifacts"] == []
    assert any(int(u["progress"]["rowsWritten"]) > 0 for u in updates)  # it was running
    job = limited.client().execute(JOB, {"id": job_id})["exportJob"]
    ran = ns(job["finishedAt"]) - ns(job["startedAt"])
    assert TIME_LIMIT * 10**9 <= ran < (TIME_LIMIT + 10) * 10**9  # stopped promptly
    assert job["expiresAt"] is None
    wait_no_files(limited, job_id)


# Only distributed mode has worker processes to kill.
@pytest.mark.parametrize("limited", ["distributed"], indirect=True, scope="module")
def test_the_sweeper_fails_an_overdue_job_whose_worker_is_gone(limited: GatewayHandle) -> None:
    job_id = create(limited, **BIG)["exportJob"]["id"]
    client = limited.client()
    wait_running(limited, limited.key_a, job_id)
    try:
        for worker in limited.workers:  # no worker is left to enforce the limit, or to resume
            assert worker.process is not None
            os.killpg(worker.process.pid, signal.SIGKILL)
            worker.process.wait()
        assert job_files(limited, job_id)  # the killed attempt's partial file
        deadline = time.monotonic() + 60
        while (job := client.execute(JOB, {"id": job_id})["exportJob"])["status"] == "RUNNING":
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        assert job["status"] == "FAILED", job
        assert job["reason"] == f"export exceeded the time limit of {TIME_LIMIT} s"
        assert job["artifacts"] == []
        wait_no_files(limited, job_id)
    finally:
        limited.workers = [WorkerProcess(limited.env, w.log_path).start() for w in limited.workers]


def test_a_succeeded_job_expires_after_the_retention_period(limited: GatewayHandle) -> None:
    job_id = create(limited, **small())["exportJob"]["id"]
    final = follow(limited, limited.key_a, job_id)[-1]
    assert final["status"] == "SUCCEEDED", final
    [artifact] = final["artifacts"]
    job = limited.client().execute(JOB, {"id": job_id})["exportJob"]
    assert ns(job["expiresAt"]) - ns(job["finishedAt"]) == RETENTION * 10**9
    download(artifact)  # served until it expires
    assert job_files(limited, job_id)
    # A dashboard sees the change (its subscription starts before the expiry).
    for message in subscribe(limited.gateway.url, limited.key_a, DASHBOARD, {}, timeout=60):
        update = message["payload"]["data"]["exportJobsUpdated"]
        if update["id"] == job_id:
            break
    assert update["status"] == "EXPIRED", update
    assert update["artifacts"] == [] and update["expiresAt"] == job["expiresAt"]
    expired = limited.client().execute(JOB, {"id": job_id})["exportJob"]
    assert (expired["status"], expired["artifacts"]) == ("EXPIRED", [])
    assert httpx.get(artifact["url"]).status_code in (404, 410)
    wait_no_files(limited, job_id)
    listed = limited.client().execute("{ exportJobs(status: EXPIRED) { edges { node { id } } } }")
    assert job_id in [e["node"]["id"] for e in listed["exportJobs"]["edges"]]
    # Terminal: a follower gets the state and is done; it cannot be canceled.
    assert [u["status"] for u in follow(limited, limited.key_a, job_id)] == ["EXPIRED"]
    assert limited.client().execute(CANCEL, {"id": job_id})["cancelExport"]["userErrors"][0][
        "code"
    ] == ("FAILED_PRECONDITION")


def test_delete_export_removes_the_job_and_its_files(limited: GatewayHandle) -> None:
    client = limited.client()
    job_id = create(limited, **small())["exportJob"]["id"]
    final = follow(limited, limited.key_a, job_id)[-1]
    [artifact] = final["artifacts"]
    assert job_files(limited, job_id)
    other = limited.client("b").execute(DELETE, {"id": job_id})["deleteExport"]
    assert other["deletedId"] is None
    assert [(e["code"], e["field"]) for e in other["userErrors"]] == [
        ("NOT_FOUND", ["input", "id"])
    ]
    download(artifact)  # untouched by the other workspace's attempt
    assert client.execute(DELETE, {"id": job_id})["deleteExport"] == {
        "deletedId": job_id,
        "userErrors": [],
    }
    assert httpx.get(artifact["url"]).status_code in (404, 410)
    assert job_files(limited, job_id) == []
    assert client.execute(JOB, {"id": job_id})["exportJob"] is None
    again = client.execute(DELETE, {"id": job_id})["deleteExport"]
    assert again["userErrors"][0]["code"] == "NOT_FOUND"


def test_delete_export_stops_a_running_job(limited: GatewayHandle) -> None:
    client = limited.client()
    job_id = create(limited, **BIG)["exportJob"]["id"]
    statuses = []
    deleted = None
    for message in subscribe(limited.gateway.url, limited.key_a, FOLLOW, {"id": job_id}):
        update = message["payload"]["data"]["exportJobUpdated"]
        statuses.append(update["status"])
        if int(update["progress"]["rowsWritten"]) > 0 and deleted is None:
            assert update["status"] == "RUNNING", update
            deleted = client.execute(DELETE, {"id": job_id})["deleteExport"]
    # The follower hears of the deletion last, then its subscription completes.
    assert deleted == {"deletedId": job_id, "userErrors": []}
    assert statuses[-1] == "DELETED", statuses
    assert set(statuses[:-1]) <= {"QUEUED", "RUNNING"}, statuses
    assert client.execute(JOB, {"id": job_id})["exportJob"] is None
    wait_no_files(limited, job_id)  # the worker noticed and removed its partial file
    time.sleep(1)
    assert job_files(limited, job_id) == []


def test_listing_filters_by_time_and_format_in_both_orders(limited: GatewayHandle) -> None:
    key = new_workspace(limited)
    client = limited.client(key)
    jobs = []
    for fmt in ("CSV", "JSONL", "CSV", "PARQUET", "CSV"):
        job_id = create(limited, key, format=fmt, **small())["exportJob"]["id"]
        follow(limited, key, job_id)  # one at a time: the cap is 2
        jobs.append(job_id)

    def pages(size: int, order: str, **filters: Any) -> tuple[list[str], int]:
        ids: list[str] = []
        after = None
        while True:
            page = client.execute(LIST, {"first": size, "after": after, "order": order, **filters})[
                "exportJobs"
            ]
            ids += [e["node"]["id"] for e in page["edges"]]
            assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
            if not page["pageInfo"]["hasNextPage"]:
                return ids, int(page["totalCount"])
            after = page["pageInfo"]["endCursor"]

    everything = client.execute(LIST, {"order": "CREATED_AT_DESC"})["exportJobs"]
    assert [e["node"]["id"] for e in everything["edges"]] == jobs[::-1]  # newest first
    created = {e["node"]["id"]: e["node"]["createdAt"] for e in everything["edges"]}
    assert pages(2, "CREATED_AT_DESC") == (jobs[::-1], 5)
    assert pages(2, "CREATED_AT_ASC") == (jobs, 5)
    assert pages(1, "CREATED_AT_ASC", format="CSV") == ([jobs[0], jobs[2], jobs[4]], 3)
    window = {"createdAfter": created[jobs[1]], "createdBefore": created[jobs[4]]}
    assert pages(2, "CREATED_AT_DESC", **window) == ([jobs[3], jobs[2], jobs[1]], 3)
    assert pages(1, "CREATED_AT_ASC", format="CSV", **window) == ([jobs[2]], 1)
    as_ns = {"createdAfter": str(ns(created[jobs[3]]))}  # nanoseconds as a string work too
    assert pages(5, "CREATED_AT_ASC", **as_ns) == (jobs[3:], 2)
    for bad in (
        {"createdAfter": "yesterday"},
        {"createdAfter": created[jobs[2]], "createdBefore": created[jobs[1]]},
        {"after": "bm90IGEgY3Vyc29y"},
    ):
        response = client.post(LIST, {"order": "CREATED_AT_DESC", **bad})
        assert response.status_code == 200
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "INVALID_ARGUMENT", error
