"""Distributed mode and recovery: several gateways and workers, crashes, duplicates, restarts."""

from __future__ import annotations

import gzip
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dramatiq
import psycopg
import pytest
from dramatiq.brokers.redis import RedisBroker

from tests.helpers.clients import subscribe
from tests.helpers.data import BIG_ID, BINANCE, Dataset
from tests.helpers.environments import GatewayHandle, environment
from tests.helpers.operations import CREATE, FOLLOW, LONG_EXPORT
from tests.helpers.processes import Gateway, WorkerProcess
from tests.helpers.services import AMQP_URL, REDIS_URL, require

pytestmark = pytest.mark.e2e

BIG_EXPORT = LONG_EXPORT  # runs long enough to kill a worker while it runs
DASHBOARD = """subscription($ds: ID) { exportJobsUpdated(datastreamId: $ds) {
  id status progress { rowsWritten } } }"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, dataset: Dataset) -> Iterator[GatewayHandle]:
    with environment(
        "distributed", tmp_path_factory.mktemp("cluster"), dataset, workers=2
    ) as handle:
        yield handle


@pytest.fixture
def workers_alive(cluster: GatewayHandle) -> GatewayHandle:
    """Tests kill workers; each test starts with two live ones."""
    cluster.workers = [
        w
        if w.process and w.process.poll() is None
        else WorkerProcess(cluster.env, w.log_path).start()
        for w in cluster.workers
    ]
    return cluster


def create(handle: GatewayHandle, **fields: Any) -> str:
    payload = handle.client().execute(CREATE, {"input": fields})["createExport"]
    assert payload["userErrors"] == []
    return str(payload["exportJob"]["id"])


def follow(url: str, key: str, job_id: str, timeout: float = 120) -> list[dict[str, Any]]:
    messages = list(subscribe(url, key, FOLLOW, {"id": job_id}, timeout=timeout))
    assert all(m["type"] == "next" for m in messages), messages
    return [m["payload"]["data"]["exportJobUpdated"] for m in messages]


def db_row(handle: GatewayHandle, sql: str, *params: Any) -> tuple[Any, ...]:
    url = handle.env["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    with psycopg.connect(url) as connection:
        row = connection.execute(sql, params).fetchone()
    assert row is not None
    return tuple(row)


def wait_running(handle: GatewayHandle, job_id: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, rows = db_row(
            handle, "select status, rows_written from export_jobs where id=%s", job_id
        )
        if status == "RUNNING" and rows > 0:
            return
        time.sleep(0.05)
    raise AssertionError(f"{job_id} never started")


def attempt_files(handle: GatewayHandle, job_id: str) -> list[Path]:
    root = handle.data_dir / "storage" / "artifacts" / job_id
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_two_gateways_see_every_workers_events(workers_alive: GatewayHandle) -> None:
    cluster = workers_alive
    second = Gateway(cluster.env, cluster.data_dir / "gateway2.log").start()
    try:
        job_id = create(cluster, **BIG_EXPORT)
        # The dashboard starts with the jobs still queued or running, then follows them.
        dashboard = subscribe(second.url, cluster.key_a, DASHBOARD, {"ds": str(BIG_ID)})
        seen = []
        for message in dashboard:
            update = message["payload"]["data"]["exportJobsUpdated"]
            assert update["id"] == job_id
            seen.append((update["status"], int(update["progress"]["rowsWritten"])))
            if update["status"] == "SUCCEEDED":
                break
        assert seen[0][0] in ("QUEUED", "RUNNING"), seen
        assert seen[-1][0] == "SUCCEEDED"
        rows = [r for _, r in seen]
        assert rows == sorted(rows) and len(set(rows)) > 2, seen  # progress crossed processes
        updates = follow(second.url, cluster.key_a, job_id)
        assert [u["status"] for u in updates] == ["SUCCEEDED"]  # terminal state first, then done
    finally:
        second.stop()


def test_sigkill_of_a_worker_mid_export_loses_nothing(workers_alive: GatewayHandle) -> None:
    cluster = workers_alive
    job_id = create(cluster, **BIG_EXPORT)
    wait_running(cluster, job_id)
    claimed_by, attempts = db_row(
        cluster, "select claimed_by, attempts from export_jobs where id=%s", job_id
    )
    os.kill(int(claimed_by.rsplit(":", 1)[1]), signal.SIGKILL)
    # While the job is being taken over, nothing partial is ever listed.
    job = cluster.client().execute(
        "query($id: ID!) { exportJob(id: $id) { status artifacts { url } } }", {"id": job_id}
    )["exportJob"]
    assert job["artifacts"] == [] or job["status"] == "SUCCEEDED"
    final = follow(cluster.gateway.url, cluster.key_a, job_id)[-1]
    assert final["status"] == "SUCCEEDED", final
    assert db_row(cluster, "select attempts from export_jobs where id=%s", job_id)[0] > attempts
    [artifact] = final["artifacts"]
    assert [p.name for p in attempt_files(cluster, job_id)] == [artifact["filename"]]
    reference_id = create(cluster, **BIG_EXPORT)
    [reference] = follow(cluster.gateway.url, cluster.key_a, reference_id)[-1]["artifacts"]
    [retried_file] = attempt_files(cluster, job_id)
    [reference_file] = attempt_files(cluster, reference_id)
    assert (artifact["rowCount"], artifact["sha256"]) == (
        reference["rowCount"],
        reference["sha256"],
    ), first_difference(retried_file, reference_file)


def first_difference(left: Path, right: Path) -> str:
    """Where two exports of the same rows part: the line number and both lines (of the
    content, for gzip files)."""
    opener = gzip.open if left.suffix == ".gz" else open
    with opener(left, "rb") as a, opener(right, "rb") as b:
        for number, (line_a, line_b) in enumerate(zip(a, b, strict=False), 1):
            if line_a != line_b:
                return f"{left} and {right} differ at line {number}: {line_a!r} != {line_b!r}"
    return f"{left} and {right} hold the same lines (or one's are a prefix of the other's)"


def test_sigterm_hands_a_running_export_to_another_worker(workers_alive: GatewayHandle) -> None:
    cluster = workers_alive
    job_id = create(cluster, **BIG_EXPORT)
    wait_running(cluster, job_id)
    pid = int(
        db_row(cluster, "select claimed_by from export_jobs where id=%s", job_id)[0].rsplit(":", 1)[
            1
        ]
    )
    owner = next(w for w in cluster.workers if w.process and _is_descendant(pid, w.process.pid))
    owner.stop()  # SIGTERM to the worker's process group
    final = follow(cluster.gateway.url, cluster.key_a, job_id)[-1]
    assert final["status"] == "SUCCEEDED"
    assert db_row(cluster, "select attempts from export_jobs where id=%s", job_id)[0] == 2


def _is_descendant(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        with open(f"/proc/{pid}/stat") as handle:
            pid = int(handle.read().rsplit(")", 1)[1].split()[1])
    return False


def test_duplicate_deliveries_give_one_artifact_set_and_one_terminal_state(
    workers_alive: GatewayHandle,
) -> None:
    cluster = workers_alive
    broker = RedisBroker(url=REDIS_URL)
    queue = cluster.env["GATEWAY_QUEUE_NAME"]
    broker.declare_queue(queue)
    job_id = create(
        cluster,
        datastreamId=str(BINANCE.id),
        startTime=0,
        endTime="2100-01-01",
        schema="raw",
        format="JSONL",
    )
    for _ in range(4):
        broker.enqueue(
            dramatiq.Message(
                queue_name=queue, actor_name="run_export_job", args=(job_id,), kwargs={}, options={}
            )
        )
    final = follow(cluster.gateway.url, cluster.key_a, job_id)[-1]
    assert final["status"] == "SUCCEEDED"
    time.sleep(2)  # let the late duplicates arrive and find the job finished
    status, attempts = db_row(
        cluster, "select status, attempts from export_jobs where id=%s", job_id
    )
    (artifacts,) = db_row(cluster, "select count(*) from export_artifacts where job_id=%s", job_id)
    assert (status, attempts, artifacts) == ("SUCCEEDED", 1, 1)
    assert len(attempt_files(cluster, job_id)) == 1
    broker.close()


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_gateway_restart_loses_no_queued_or_running_job(
    mode: str, tmp_path: Path, dataset: Dataset
) -> None:
    with environment(mode, tmp_path, dataset, workers=1, GATEWAY_WORKER_THREADS="1") as handle:
        jobs = [create(handle, **BIG_EXPORT)] + [
            create(
                handle,
                datastreamId=str(BINANCE.id),
                startTime=0,
                endTime="2100-01-01",
                schema="raw",
                format=fmt,
            )
            for fmt in ("CSV", "PARQUET")
        ]
        _wait_first_progress(handle, jobs[0])
        assert handle.gateway.process is not None
        handle.gateway.process.kill()  # SIGKILL: embedded workers die with it
        handle.gateway.process.wait()
        handle.gateway = Gateway(handle.env, tmp_path / "gateway-restarted.log").start()
        for job_id in jobs:
            final = follow(handle.gateway.url, handle.key_a, job_id)[-1]
            assert final["status"] == "SUCCEEDED", final
            assert int(final["artifacts"][0]["rowCount"]) > 0


def _wait_first_progress(handle: GatewayHandle, job_id: str) -> None:
    for message in subscribe(handle.gateway.url, handle.key_a, FOLLOW, {"id": job_id}):
        if int(message["payload"]["data"]["exportJobUpdated"]["progress"]["rowsWritten"]) > 0:
            return
    raise AssertionError("job finished before it could be interrupted")


def test_rabbitmq_broker_round_trip(tmp_path: Path, dataset: Dataset) -> None:
    require("RabbitMQ", "127.0.0.1", 5672)
    # No Redis events: subscriptions converge by re-reading the job row.
    with environment("distributed", tmp_path, dataset, workers=1, BROKER_URL=AMQP_URL) as handle:
        job_id = create(
            handle,
            datastreamId=str(BINANCE.id),
            startTime=0,
            endTime="2100-01-01",
            schema="normalized",
            format="PARQUET",
        )
        final = follow(handle.gateway.url, handle.key_a, job_id)[-1]
        assert final["status"] == "SUCCEEDED"
        assert int(final["artifacts"][0]["rowCount"]) == len(dataset.records[BINANCE.id])


def test_sigkill_of_a_worker_mid_split_export_resumes_only_its_parts(
    workers_alive: GatewayHandle,
) -> None:
    """An export split by hour runs its parts on both workers; one worker is killed while
    parts run: its parts are claimed again, finished parts are not redone, and the files and
    manifest are those of an undisturbed run."""
    cluster = workers_alive
    # Eight hours of the big stream, in eight parts: long enough to kill a worker mid-part.
    hourly = {
        **BIG_EXPORT,
        "startTime": "2024-03-01T00:00:00Z",
        "endTime": "2024-03-01T08:00:00Z",
        "split": {"by": "HOUR"},
    }
    job_id = create(cluster, **hourly)
    killed_seq, finished_before = _kill_a_worker_mid_part(cluster, job_id)
    final = follow(cluster.gateway.url, cluster.key_a, job_id)[-1]
    assert final["status"] == "SUCCEEDED", final
    attempts = dict(
        _rows(cluster, "select seq, attempts from export_parts where job_id=%s", job_id)
    )
    assert all(attempts[seq] == 1 for seq in finished_before)  # finished parts were kept
    assert attempts[killed_seq] >= 2  # the killed worker's part ran again
    assert int(final["progress"]["rowsWritten"]) == sum(
        int(a["rowCount"]) for a in final["artifacts"]
    )
    listed = sorted(a["filename"] for a in final["artifacts"])
    assert sorted(p.name for p in attempt_files(cluster, job_id)) == listed
    reference_id = create(cluster, **hourly)
    reference = follow(cluster.gateway.url, cluster.key_a, reference_id)[-1]["artifacts"]

    def published(artifacts: list[dict[str, Any]], job: str) -> list[tuple[str, str, str]]:
        return sorted(
            (a["filename"].replace(job, "<job>"), a["sha256"], a["rowCount"]) for a in artifacts
        )

    assert published(final["artifacts"], job_id) == published(reference, reference_id)
    assert len(final["artifacts"]) > 3


def _kill_a_worker_mid_part(cluster: GatewayHandle, job_id: str) -> tuple[int, set[int]]:
    """SIGKILL the worker of a part that is running, once another part has finished: the
    part killed and the parts finished before. A part takes a fraction of a second and may
    end between a look at the table and a signal, so the worker is stopped (SIGSTOP) first,
    and killed only if its part is still running then."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        parts = _rows(
            cluster,
            "select seq, status, claimed_by, rows_written from export_parts where job_id=%s",
            job_id,
        )
        finished = {seq for seq, status, _, _ in parts if status == "SUCCEEDED"}
        running = [(seq, by) for seq, status, by, rows in parts if status == "RUNNING" and rows]
        if not finished or not running:
            time.sleep(0.05)
            continue
        seq, claimed_by = running[0]
        pid = int(claimed_by.rsplit(":", 1)[1])
        os.kill(pid, signal.SIGSTOP)
        status, owner = db_row(
            cluster, "select status, claimed_by from export_parts where job_id=%s and seq=%s",
            job_id, seq,
        )  # fmt: skip
        if (status, owner) == ("RUNNING", claimed_by):
            os.kill(pid, signal.SIGKILL)
            return seq, finished
        os.kill(pid, signal.SIGCONT)  # its part ended meanwhile: look again
    raise AssertionError(f"{job_id} never had a part running after another finished")


def _rows(handle: GatewayHandle, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    url = handle.env["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    with psycopg.connect(url) as connection:
        return [tuple(row) for row in connection.execute(sql, params).fetchall()]
