"""A prepared store and a running gateway (plus worker processes in distributed mode), in
either mode: what every end-to-end test talks to."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from app.domain.catalog import DatastreamSpec
from tests.helpers.clients import GraphQLClient
from tests.helpers.data import BIG, BINANCE, BINANCE_BOOK, BYBIT, BYBIT_BOOK, Dataset
from tests.helpers.processes import (
    Gateway,
    WorkerProcess,
    gateway_env,
    run_cli,
    stopping_started_processes,
)
from tests.helpers.receivers import Inbox
from tests.helpers.services import REDIS_URL, require_postgres_and_redis, temporary_database


@dataclass
class GatewayHandle:
    gateway: Gateway
    data_dir: Path
    env: dict[str, str]
    key_a: str
    key_b: str
    mode: str = "embedded"
    workers: list[WorkerProcess] = field(default_factory=list)
    inbox: Inbox | None = None  # the SMTP server the gateway sends email to, if any

    def client(self, key: str | None = "a") -> GraphQLClient:
        token = {"a": self.key_a, "b": self.key_b}.get(key or "", key)
        return GraphQLClient(self.gateway.url, token)


def _ingest_args(spec: DatastreamSpec, file: Path) -> list[str]:
    return [
        "ingest",
        str(file),
        "--datastream",
        str(spec.id),
        "--exchange",
        spec.exchange,
        "--symbol",
        spec.symbol,
        "--base",
        spec.base,
        "--quote",
        spec.quote,
        "--instrument-type",
        spec.instrument_type,
        "--stream-type",
        spec.stream_type,
    ]


def mode_env(mode: str, data_dir: Path, database_url: str | None, **extra: str) -> dict[str, str]:
    """Settings for one mode. Distributed: PostgreSQL, Redis broker and events, own queue."""
    # Tests poll jobs fast; the rate limits have their own tests.
    settings = {
        "GATEWAY_PROGRESS_INTERVAL_SECONDS": "0.1",
        "GATEWAY_RATE_LIMIT_REQUESTS_PER_MINUTE": "1000000",
        # Webhook tests receive on a loopback port; deliveries are picked up at once.
        "GATEWAY_WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
        "GATEWAY_NOTIFY_POLL_SECONDS": "0.2",
    }
    if mode == "distributed":
        assert database_url is not None
        settings.update(
            DATABASE_URL=database_url,
            BROKER_URL=REDIS_URL,
            GATEWAY_QUEUE_NAME=f"exports-test-{uuid.uuid4().hex[:8]}",
            GATEWAY_HEARTBEAT_STALE_SECONDS="3",
            GATEWAY_QUEUED_STALE_SECONDS="5",
            GATEWAY_SWEEP_INTERVAL_SECONDS="1",
        )
    return gateway_env(data_dir, **{**settings, **extra})


def prepare(
    env: dict[str, str], dataset: Dataset, streams: Sequence[int] | None = None
) -> tuple[str, str]:
    """Migrate, ingest the generated files (or those of `streams`), create one key in each
    of two workspaces."""
    run_cli(env, "migrate")
    for spec in (BINANCE, BYBIT, BIG, BINANCE_BOOK, BYBIT_BOOK):
        if streams is None or spec.id in streams:
            run_cli(env, *_ingest_args(spec, dataset.files[spec.id]))
    key_a = run_cli(env, "create-key", "--workspace", "alpha").stdout.strip()
    key_b = run_cli(env, "create-key", "--workspace", "beta").stdout.strip()
    return key_a, key_b


@contextmanager
def environment(
    mode: str,
    data_dir: Path,
    dataset: Dataset,
    workers: int = 2,
    streams: Sequence[int] | None = None,
    **extra: str,
) -> Iterator[GatewayHandle]:
    """A prepared store (`streams` ingested) and a running gateway (plus worker processes
    when distributed). On the way out, every process started inside (a gateway the test
    restarted, too) is stopped, however the block ends."""
    with ExitStack() as stack:
        database_url = None
        if mode == "distributed":
            require_postgres_and_redis()
            database_url = stack.enter_context(temporary_database())
        # Entered after the database: processes stop before it is dropped.
        stack.enter_context(stopping_started_processes())
        env = mode_env(mode, data_dir, database_url, **extra)
        key_a, key_b = prepare(env, dataset, streams)
        handle = GatewayHandle(
            Gateway(env, data_dir / "gateway.log"), data_dir, env, key_a, key_b, mode
        )
        if mode == "distributed":
            handle.workers = [
                WorkerProcess(env, data_dir / f"worker{i}.log").start() for i in range(workers)
            ]
        handle.gateway.start()
        yield handle
