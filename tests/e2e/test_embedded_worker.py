"""Embedded mode's worker process: the gateway restarts it when it dies (the job it was running
still finishes), it never outlives the gateway, however the gateway ends, and its threads run
at a lower CPU priority than the gateway's."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.data import Dataset
from tests.helpers.environments import GatewayHandle, mode_env, prepare
from tests.helpers.operations import JOB, LONG_EXPORT, create
from tests.helpers.processes import Gateway, stopping_started_processes

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, dataset: Dataset) -> tuple[Path, dict, tuple]:
    data_dir = tmp_path_factory.mktemp("embedded-worker")
    env = mode_env("embedded", data_dir, None)
    return data_dir, env, prepare(env, dataset)


@pytest.fixture
def handle(store: tuple[Path, dict, tuple], tmp_path: Path) -> Iterator[GatewayHandle]:
    data_dir, env, (key_a, key_b) = store
    with stopping_started_processes():
        gateway = Gateway(env, tmp_path / "gateway.log").start()
        yield GatewayHandle(gateway, data_dir, env, key_a, key_b)


def _worker_processes(parent: int) -> list[int]:
    """The embedded worker processes `parent` started (its children running `--gateway-fd`)."""
    found = []
    for task in Path(f"/proc/{parent}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            if _alive(child) and "--gateway-fd" in _cmdline(child):
                found.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    """Running (a zombie, exited but not yet reaped, is not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    state = next(line for line in status.splitlines() if line.startswith("State:"))
    return "Z" not in state.split()[1]


def _wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _one_worker(gateway: Gateway, other_than: int | None = None) -> int:
    """The gateway's one worker process (not `other_than`), once it has started."""
    assert gateway.process is not None
    pid = gateway.process.pid
    found: list[int] = []

    def started() -> bool:
        found[:] = [p for p in _worker_processes(pid) if p != other_than]
        return len(found) == 1

    _wait_for(started, 30, "the worker process")
    return found[0]


def _niceness(pid: int, task: str) -> int | None:
    """The thread's nice value; None when it ended since it was listed (a file's writer
    thread ends with its file)."""
    try:
        stat = Path(f"/proc/{pid}/task/{task}/stat").read_text()
    except FileNotFoundError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[16])  # field 19 of stat(5), after the name


def test_the_worker_process_yields_the_cpu_to_the_gateway(handle: GatewayHandle) -> None:
    gateway = handle.gateway
    assert gateway.process is not None
    worker = _one_worker(gateway)
    job = create(handle, **LONG_EXPORT)["exportJob"]
    client = handle.client()

    def running() -> bool:
        return bool(client.execute(JOB, {"id": job["id"]})["exportJob"]["status"] == "RUNNING")

    _wait_for(running, 30, "the export to run")  # its threads (and pyarrow's) have started
    gateway_nice = os.getpriority(os.PRIO_PROCESS, gateway.process.pid)
    tasks = [t.name for t in Path(f"/proc/{worker}/task").iterdir()]
    assert len(tasks) > 1
    niceness = {_niceness(worker, task) for task in tasks} - {None}
    assert niceness == {gateway_nice + 10}


def test_a_killed_worker_process_is_replaced_and_its_job_finishes(handle: GatewayHandle) -> None:
    gateway = handle.gateway
    first = _one_worker(gateway)
    job = create(handle, **LONG_EXPORT)["exportJob"]
    client = handle.client()

    def running() -> bool:
        state = client.execute(JOB, {"id": job["id"]})["exportJob"]
        return bool(state["status"] == "RUNNING" and int(state["progress"]["rowsWritten"]) > 0)

    _wait_for(running, 30, "the export to run")
    os.kill(first, signal.SIGKILL)
    second = _one_worker(gateway, other_than=first)
    _wait_for(lambda: not _alive(first), 5, "the killed worker process to be reaped")

    def finished() -> bool:
        return bool(client.execute(JOB, {"id": job["id"]})["exportJob"]["status"] == "SUCCEEDED")

    # The new process resumes the job at once (this gateway's only worker died with it).
    _wait_for(finished, 60, "the export to succeed in the new worker process")

    assert gateway.process is not None
    os.kill(gateway.process.pid, signal.SIGTERM)  # the gateway alone, not its process group
    gateway.process.wait(20)
    _wait_for(lambda: not _alive(second), 2, "the worker process to be gone")


def test_the_worker_process_does_not_outlive_a_killed_gateway(handle: GatewayHandle) -> None:
    gateway = handle.gateway
    worker = _one_worker(gateway)
    assert gateway.process is not None
    os.kill(gateway.process.pid, signal.SIGKILL)
    gateway.process.wait(10)
    # Its socket to the gateway closed: it stops by itself, orphaned for a moment at most.
    _wait_for(lambda: not _alive(worker), 15, "the orphaned worker process to stop")
