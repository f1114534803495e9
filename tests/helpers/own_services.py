"""PostgreSQL and Redis servers a test starts itself, on spare loopback ports, in temporary
directories: it may kill and restart them (a crash, lost data) without touching the services
of the machine.

PostgreSQL refuses to run as root; when the tests do, the server runs as the `postgres` user
(its data directory is made in /tmp and given to that user)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis

from tests.helpers.processes import free_port, register
from tests.helpers.services import unavailable


def _postgres_bin(name: str) -> str:
    """The newest installed server's binary (Debian puts them under /usr/lib/postgresql)."""
    found = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[4]) if Path(p).parts[4].isdigit() else 0,
    )
    path = found[-1] if found else shutil.which(name)
    if path is None:
        raise AssertionError(f"PostgreSQL's {name} is not installed")
    return path


def require_servers() -> None:
    """The PostgreSQL and Redis servers installed: a test skips without them, except under
    CI=true, where it fails (CI must not go green by skipping)."""
    missing = [
        name
        for name, found in (
            (
                "PostgreSQL (initdb)",
                glob.glob("/usr/lib/postgresql/*/bin/initdb") or shutil.which("initdb"),
            ),
            ("redis-server", shutil.which("redis-server")),
        )
        if not found
    ]
    if missing:
        unavailable(f"not installed: {', '.join(missing)}")


class PostgresServer:
    """A throwaway cluster: `start()`, `crash()` (immediate shutdown: what a killed server
    leaves, recovered from the WAL at the next start), `stop()`, `remove()`."""

    def __init__(self) -> None:
        self.port = free_port()
        # Not under pytest's tmp_path: the `postgres` user must be able to reach it.
        self.root = Path(tempfile.mkdtemp(prefix="egw-pg-"))
        self.data = self.root / "data"
        self.log_path = self.root / "postgres.log"
        user = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        self._uid = user.pw_uid if user else None  # None: as the tests' own user
        self._gid = user.pw_gid if user else None
        if user is not None:
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self.process: subprocess.Popen[bytes] | None = None
        initdb = [_postgres_bin("initdb"), "-D", str(self.data), "-U", "postgres"]
        self._run([*initdb, "--auth=trust", "-E", "UTF8", "--no-sync"])

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, args: list[str]) -> None:
        result = subprocess.run(
            args, capture_output=True, text=True, timeout=120, user=self._uid, group=self._gid
        )
        if result.returncode != 0:
            raise AssertionError(f"{args[0]} failed:\n{result.stdout}\n{result.stderr}")

    def start(self) -> PostgresServer:
        # fsync off: a killed server loses nothing the OS got (only an OS crash would).
        args = [_postgres_bin("postgres"), "-D", str(self.data), "-p", str(self.port)]
        args += ["-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.root}"]
        args += ["-c", "fsync=off", "-c", "max_connections=300", "-c", "shared_buffers=32MB"]
        with open(self.log_path, "ab") as log:
            self.process = register(
                subprocess.Popen(
                    args,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    user=self._uid,
                    group=self._gid,
                )
            )
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"postgres exited:\n{self.log_path.read_text()[-2000:]}")
            try:
                with psycopg.connect(self.admin_url, connect_timeout=2) as connection:
                    connection.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise AssertionError("postgres did not start")

    def crash(self) -> None:
        """SIGQUIT to the postmaster: an immediate shutdown, no checkpoint; every backend
        goes at once and the next start recovers from the WAL."""
        self._signal(signal.SIGQUIT)

    def stop(self) -> None:
        self._signal(signal.SIGINT)  # a fast shutdown

    def _signal(self, sig: int) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def create_database(self, name: str) -> str:
        """A new database; its asyncpg URL."""
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{name}"

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class RedisServer:
    """A Redis that keeps nothing on disk: `restart()` loses every key (queued wake-ups,
    pub/sub subscriptions, rate limit counters), as a crashed cache would."""

    def __init__(self, work_dir: Path) -> None:
        self.port = free_port()
        self.dir = work_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise AssertionError("redis-server is not installed")
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--dir", str(self.dir), "--daemonize", "no"]
        with open(self.dir / "redis.log", "ab") as log:
            self.process = register(
                subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_timeout=1).ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        self.kill()
        self.start()


@contextmanager
def own_redis_server(work_dir: Path) -> Iterator[RedisServer]:
    """A started `RedisServer` (see `require_servers`), killed on the way out."""
    require_servers()
    server = RedisServer(work_dir).start()
    try:
        yield server
    finally:
        server.kill()
