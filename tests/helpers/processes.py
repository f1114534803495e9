"""Real processes for end-to-end tests: the CLI, gateways and worker processes.

Every process started here is registered; `stop_started_since` stops those started after a
mark, whatever happened in between (a failed assertion, a replaced gateway, Ctrl-C), and the
session's last step stops anything left, so a test run leaves no process behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from pydantic import AliasChoices

from app.config import Settings

ROOT = Path(__file__).resolve().parent.parent.parent
_started: list[subprocess.Popen[bytes]] = []
_lock = threading.Lock()


def register(process: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
    """Stopped by `stop_started_since` (and at the end of the session) if still running."""
    with _lock:
        _started.append(process)
    return process


def started_count() -> int:
    """A mark for `stop_started_since`."""
    with _lock:
        return len(_started)


def stop_started_since(mark: int) -> list[int]:
    """Stop (SIGTERM, then SIGKILL) every registered process started after `mark` that is
    still running, with its process group; returns the pids that had to be stopped."""
    with _lock:
        processes = _started[mark:]
    stopped = [p.pid for p in processes if p.poll() is None]
    for process in processes:
        _stop_group(process, signal.SIGTERM, wait=20)
    return stopped


def kill_started_since(mark: int) -> None:
    """SIGKILL every registered process started after `mark`, with its process group: for
    what a test throws away and need not stop gracefully."""
    with _lock:
        processes = _started[mark:]
    for process in processes:
        _stop_group(process, signal.SIGKILL, wait=20)


@contextmanager
def stopping_started_processes() -> Iterator[None]:
    """Whatever ends the block (return, failure, KeyboardInterrupt), every process started
    inside it is stopped."""
    mark = started_count()
    try:
        yield
    finally:
        stop_started_since(mark)


def _stop_group(process: subprocess.Popen[bytes], sig: int, wait: float) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
        process.wait(wait)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(
    env: dict[str, str], *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"app {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def _settings_without_prefix() -> set[str]:
    """The variables the gateway reads besides GATEWAY_* (DATABASE_URL, EVENTS_URL,
    STORAGE_DOWNLOADS, AWS_REGION...), from the settings' aliases: a new one is never
    forgotten here."""
    names: set[str] = set()
    for setting in Settings.model_fields.values():
        if isinstance(setting.validation_alias, AliasChoices):
            names.update(c for c in setting.validation_alias.choices if isinstance(c, str))
    return {name for name in names if not name.startswith("GATEWAY_")}


def gateway_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """This process's environment without any of the gateway's settings, plus `extra`: a
    variable of the developer's shell never reaches a gateway the tests start."""
    unwanted = _settings_without_prefix()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_") and k not in unwanted
    }
    env.update({"GATEWAY_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def _spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """`python -m app <args>` in its own process group, output appended to `log_path`."""
    with open(log_path, "ab") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "app", *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return register(process)


class Gateway:
    """`python -m app serve` on a free loopback port."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Gateway:
        self.process = _spawn(
            ["serve", "--no-migrate", "--port", str(self.port), "--log-level", "warning"],
            self.env,
            self.log_path,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gateway exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("gateway did not start")

    def stop(self) -> None:
        if self.process is not None:
            _stop_group(self.process, signal.SIGTERM, wait=20)


class WorkerProcess:
    """`python -m app worker` (distributed mode): a Dramatiq process group."""

    def __init__(self, env: dict[str, str], log_path: Path, threads: int = 2) -> None:
        self.env = env
        self.log_path = log_path
        self.threads = threads
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        args = ["worker", "--processes", "1", "--threads", str(self.threads)]
        self.process = _spawn(args, self.env, self.log_path)
        return self

    def stop(self) -> None:
        if self.process is not None:
            _stop_group(self.process, signal.SIGTERM, wait=30)


class SchedulerProcess:
    """`python -m app scheduler`: the scheduler of recurring exports on its own."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> SchedulerProcess:
        self.process = _spawn(["scheduler"], self.env, self.log_path)
        return self

    def stop(self) -> None:
        if self.process is not None:
            _stop_group(self.process, signal.SIGTERM, wait=20)


class CollectorProcess:
    """`python -m app collect` (distributed mode)."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> CollectorProcess:
        self.process = _spawn(["collect"], self.env, self.log_path)
        return self

    def kill(self) -> None:
        """SIGKILL: no flush, no release; its lease must run out."""
        if self.process is not None:
            _stop_group(self.process, signal.SIGKILL, wait=10)
