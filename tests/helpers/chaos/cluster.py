"""The cluster a chaos run works on and breaks: its own PostgreSQL and Redis, two gateways and
several worker processes in distributed mode, with the short heartbeat and stale timeouts that
make recovery quick, and the faults themselves (kill, restart, stop and continue)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from app.config import Settings
from app.db.migrate import upgrade
from app.demo.trades import binance_trades, bybit_trades
from app.domain.auth import Role, create_api_key, create_workspace
from app.domain.catalog import DatastreamSpec
from app.domain.ingest import ingest_tables
from app.domain.runtime import NO_EFFECTS, Runtime
from engine.segments import records_table
from engine.timestamps import parse_timestamp
from tests.helpers.own_services import PostgresServer, RedisServer
from tests.helpers.processes import (
    Gateway,
    WorkerProcess,
    gateway_env,
    kill_started_since,
    started_count,
)

HOUR = 3600 * 10**9
START = parse_timestamp("2024-03-01T00:00:00Z")
TRADE_HOURS = 3
BINANCE = DatastreamSpec(
    601, "binance", "Binance", "BTCUSDT", "BTC", "USDT", "spot", "trades", "binance.trade"
)
BYBIT = DatastreamSpec(
    602, "bybit", "Bybit", "BTCUSDT", "BTC", "USDT", "linear", "trades", "bybit.publicTrade"
)
# Where importRecords stores: records of its own, far from the exported streams.
IMPORTS = DatastreamSpec(
    603, "kraken", "Kraken", "XBTUSD", "XBT", "USD", "spot", "trades", "custom"
)
IMPORTS_FIRST_NS = parse_timestamp("2030-01-01T00:00:00Z")
# Short enough for recovery within seconds; long enough that a loaded machine's slow
# heartbeat is rarely taken for a dead worker (which the rules survive anyway).
HEARTBEAT_STALE_SECONDS = 4.0
QUEUED_STALE_SECONDS = 4.0


@dataclass
class Cluster:
    data_dir: Path
    env: dict[str, str]
    postgres: PostgresServer
    redis: RedisServer
    gateways: list[Gateway]
    workers: list[WorkerProcess]
    key: str  # an ADMIN key of the workspace every job is made in
    database_url: str  # psycopg's form

    # -- reading the truth --------------------------------------------------------------

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url, connect_timeout=5) as connection:
            return [tuple(r) for r in connection.execute(sql, params).fetchall()]

    def ready(self) -> bool:
        """Every gateway answers /readyz with 200 (database, storage, broker)."""
        try:
            return all(
                httpx.get(g.url + "/readyz", timeout=3).status_code == 200 for g in self.gateways
            )
        except httpx.HTTPError:
            return False

    def busiest_worker(self, default: int) -> tuple[int, int]:
        """The worker holding the most RUNNING jobs and parts (`default` among equals), and
        how many it holds: a claim names the pid of a worker's Dramatiq process, whose
        group is the worker's."""
        claims = self.rows(  # a job in parts is run by its parts' claims
            "select claimed_by from export_jobs j where status = 'RUNNING' and not exists "
            "(select 1 from export_parts p where p.job_id = j.id) union all "
            "select claimed_by from export_parts where status = 'RUNNING' union all "
            "select claimed_by from import_jobs where status = 'RUNNING'"
        )
        held = [0] * len(self.workers)
        for (claimed_by,) in claims:
            try:
                group = os.getpgid(int(str(claimed_by).rsplit(":", 1)[1]))
            except (ProcessLookupError, ValueError, IndexError):
                continue
            for index, worker in enumerate(self.workers):
                if worker.process is not None and worker.process.pid == group:
                    held[index] += 1
        busiest = max(range(len(held)), key=lambda i: (held[i], i == default))
        return busiest, held[busiest]

    # -- faults ---------------------------------------------------------------------------

    def kill_worker(self, index: int) -> None:
        """SIGKILL to the worker's process group (Dramatiq's parent and its worker)."""
        _signal_group(self.workers[index], signal.SIGKILL)
        process = self.workers[index].process
        assert process is not None
        process.wait(30)
        self.workers[index] = WorkerProcess(self.env, self.workers[index].log_path).start()

    def pause_worker(self, index: int, seconds: float) -> threading.Thread:
        """SIGSTOP, then SIGCONT after `seconds` (on the returned thread): a worker that
        looks dead, then comes back (a zombie) still holding the claims it had."""
        worker = self.workers[index]
        _signal_group(worker, signal.SIGSTOP)

        def resume() -> None:
            time.sleep(seconds)
            _signal_group(worker, signal.SIGCONT)

        thread = threading.Thread(target=resume, daemon=True)
        thread.start()
        return thread

    def kill_gateway(self, index: int) -> None:
        gateway = self.gateways[index]
        _signal_group(gateway, signal.SIGKILL)
        assert gateway.process is not None
        gateway.process.wait(30)
        gateway.start()  # the same port: clients come back to the same address

    def restart_redis(self) -> None:
        self.redis.restart()  # nothing kept: queued wake-ups and pub/sub are gone

    def restart_postgres(self) -> None:
        self.postgres.crash()
        self.postgres.start()


def _signal_group(handle: Gateway | WorkerProcess, sig: int) -> None:
    if handle.process is not None and handle.process.poll() is None:
        os.killpg(handle.process.pid, sig)


def _kill_all(started_since: int) -> None:
    """The cluster is thrown away: SIGKILL, no graceful stops to wait for."""
    kill_started_since(started_since)


def _prepare(settings: Settings) -> str:
    """Migrate, ingest the streams every export reads and register the import target (in
    this process: faster than a CLI process per step), create the workspace's key."""
    upgrade(settings)
    runtime = Runtime.create(settings, NO_EFFECTS)
    try:
        for spec, generate, seed in ((BINANCE, binance_trades, 11), (BYBIT, bybit_trades, 12)):
            hour = list(generate(spec, START, START + HOUR, seed))  # one hour, repeated
            records = [(ts + h * HOUR, text) for h in range(TRADE_HOURS) for ts, text in hour]
            ingest_tables(runtime, spec.id, [records_table(records)], spec)
        marker = [(IMPORTS_FIRST_NS - HOUR, '{"seq": -1}')]
        ingest_tables(runtime, IMPORTS.id, [records_table(marker)], IMPORTS)
        with runtime.sync_sessions() as session:
            workspace = create_workspace(session, "chaos")
            _key, token = create_api_key(session, workspace.id, "chaos", Role.ADMIN)
            session.commit()
        return token
    finally:
        runtime.sync_sessions.kw["bind"].dispose()


@contextmanager
def running_cluster(data_dir: Path, workers: int) -> Iterator[Cluster]:
    """Everything started, and everything stopped and removed on the way out, however the
    block ends."""
    with ExitStack() as stack:
        postgres = PostgresServer().start()
        stack.callback(postgres.remove)
        redis = RedisServer(data_dir / "redis").start()
        stack.callback(redis.kill)
        stack.callback(_kill_all, started_since=started_count())  # before the services go
        database = postgres.create_database("chaos")
        env = gateway_env(
            data_dir / "store",
            DATABASE_URL=database,
            BROKER_URL=redis.url,
            GATEWAY_QUEUE_NAME="chaos",
            GATEWAY_SIGNING_SECRET="chaos",
            GATEWAY_HEARTBEAT_STALE_SECONDS=str(HEARTBEAT_STALE_SECONDS),
            GATEWAY_QUEUED_STALE_SECONDS=str(QUEUED_STALE_SECONDS),
            GATEWAY_SWEEP_INTERVAL_SECONDS="1",
            GATEWAY_PROGRESS_INTERVAL_SECONDS="0.2",
            GATEWAY_EVENTS_FALLBACK_POLL_SECONDS="0.5",
            GATEWAY_DATABASE_TIMEOUT_SECONDS="3",
            GATEWAY_MAX_ACTIVE_EXPORTS="1000",
            GATEWAY_RATE_LIMIT_REQUESTS_PER_MINUTE="1000000",
        )
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            data_dir=data_dir / "store",
            database_url=database,
            broker_url="embedded",  # preparing wakes nobody
        )
        key = _prepare(settings)
        gateways = [Gateway(env, data_dir / f"gateway{i}.log") for i in range(2)]
        started = [WorkerProcess(env, data_dir / f"worker{i}.log") for i in range(workers)]
        for worker in started:
            worker.start()
        # Both gateways start at once (each start waits for its /healthz).
        starting = [threading.Thread(target=g.start) for g in gateways]
        for thread in starting:
            thread.start()
        for thread in starting:
            thread.join()
        assert all(g.process and g.process.poll() is None for g in gateways), "a gateway died"
        yield Cluster(
            data_dir / "store",
            env,
            postgres,
            redis,
            gateways,
            started,
            key,
            database.replace("postgresql+asyncpg://", "postgresql://"),
        )
