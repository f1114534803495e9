"""The in-process test layer: a migrated SQLite store with a few datastreams and two
workspaces, built once per session and copied for each test; a Runtime whose effects are
recorded instead of sent; and the real Starlette app driven through httpx's ASGI transport
(embedded mode: Dramatiq's StubBroker and worker threads inside the test process)."""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.testclient import TestClient

from app.config import Settings
from app.db.migrate import upgrade
from app.demo.books import binance_book
from app.demo.trades import binance_trades, bybit_trades
from app.domain.auth import Principal, Role, create_api_key, create_workspace
from app.domain.catalog import DatastreamSpec
from app.domain.ingest import ingest_tables
from app.domain.runtime import NO_EFFECTS, Effects, JobEvent, Runtime
from engine.segments import records_table
from engine.timestamps import parse_timestamp

START = parse_timestamp("2024-03-01T00:00:00Z")
MINUTE = 60 * 10**9
TRADES = DatastreamSpec(
    601, "binance", "Binance", "BTCUSDT", "BTC", "USDT", "spot", "trades", "binance.trade"
)
BYBIT_TRADES = DatastreamSpec(
    602, "bybit", "Bybit", "BTCUSDT", "BTC", "USDT", "linear", "trades", "bybit.publicTrade"
)
BOOK = DatastreamSpec(
    604, "binance", "Binance", "BTCUSDT", "BTC", "USDT", "spot", "book", "binance.depthUpdate"
)
SEED_MINUTES = 10
GENERATORS = {TRADES.id: binance_trades, BYBIT_TRADES.id: bybit_trades, BOOK.id: binance_book}


@dataclass(frozen=True)
class Seed:
    """A store every in-process test starts from: its files, and who may call."""

    folder: Path
    records: dict[int, list[tuple[int, str]]]
    keys: dict[str, str]  # workspace name (alpha, beta: ADMIN keys) or alpha-member, alpha-viewer
    principals: dict[str, Principal]


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    """Embedded mode on a SQLite file in `data_dir`; nothing read from the environment that
    the test does not say (a developer's GATEWAY_* variables must not change results)."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": None,
        "broker_url": "embedded",
        "storage_url": None,
        "events_url": None,
        "signing_secret": "in-process-tests",
        "progress_interval_seconds": 0.05,
        "worker_threads": 2,
        # Worker threads in the test process, on the stub broker the tests drive; the worker
        # process of `serve` has its own tests (tests/e2e/test_embedded_worker.py).
        "embedded_workers": "thread",
        # Tests poll jobs fast; the rate limits have their own tests.
        "rate_limit_requests_per_minute": 1_000_000,
        "collect_in_gateway": False,  # the collection tests start their own feed and collector
        "tracing": False,  # OTEL_* variables of the environment must not turn it on
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def build_seed(folder: Path) -> Seed:
    """Migrate, ingest ten minutes of three datastreams, create workspaces alpha and beta."""
    settings = settings_for(folder)
    upgrade(settings)
    runtime = Runtime.create(settings, NO_EFFECTS)
    records: dict[int, list[tuple[int, str]]] = {}
    for spec in (TRADES, BYBIT_TRADES, BOOK):
        generate = GENERATORS[spec.id]
        records[spec.id] = list(generate(spec, START, START + SEED_MINUTES * MINUTE, spec.id))
        ingest_tables(runtime, spec.id, [records_table(records[spec.id])], spec)
    keys, principals = {}, {}
    with runtime.sync_sessions() as session:
        for name in ("alpha", "beta"):
            workspace = create_workspace(session, name)
            key, token = create_api_key(session, workspace.id, "tests", Role.ADMIN)
            keys[name], principals[name] = token, Principal(workspace.id, key.id, Role.ADMIN)
            if name == "alpha":  # alpha's other roles: alpha-member, alpha-viewer
                for role in (Role.MEMBER, Role.VIEWER):
                    key, token = create_api_key(session, workspace.id, role.value, role)
                    label = f"alpha-{role.value.lower()}"
                    keys[label], principals[label] = token, Principal(workspace.id, key.id, role)
        session.commit()
    runtime.sync_sessions.kw["bind"].dispose()
    return Seed(folder, records, keys, principals)


def copy_seed(seed: Seed, data_dir: Path) -> Path:
    shutil.copytree(seed.folder, data_dir, dirs_exist_ok=True)
    return data_dir


@dataclass
class RecordingEffects:
    """Effects that remember what the domain fired, in order, from any thread."""

    woken: list[str] = field(default_factory=list)
    woken_imports: list[str] = field(default_factory=list)
    events: list[JobEvent] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def wake_export(self, job_id: str) -> None:
        with self._lock:
            self.woken.append(job_id)

    def wake_import(self, job_id: str) -> None:
        with self._lock:
            self.woken_imports.append(job_id)

    def publish(self, event: JobEvent) -> None:
        with self._lock:
            self.events.append(event)

    @property
    def effects(self) -> Effects:
        return Effects(
            wake_export=self.wake_export, wake_import=self.wake_import, publish=self.publish
        )

    def statuses(self, job_id: str) -> list[str]:
        with self._lock:
            return [e.status for e in self.events if e.job_id == job_id]


class ApiClient:
    """GraphQL over HTTP against an app in this process."""

    def __init__(self, http: httpx.AsyncClient, keys: dict[str, str]) -> None:
        self.http = http
        self.keys = keys

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, key: str | None = "alpha"
    ) -> httpx.Response:
        headers = {"X-Api-Key": self.keys.get(key, key)} if key else {}
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def execute(
        self, query: str, variables: dict[str, Any] | None = None, key: str | None = "alpha"
    ) -> dict[str, Any]:
        """The `data` of a response that must have no errors."""
        response = await self.post(query, variables, key)
        assert response.status_code == 200, response.text
        body = response.json()
        assert not body.get("errors"), body["errors"]
        return dict(body["data"])


@contextlib.asynccontextmanager
async def running_app(settings: Settings, keys: dict[str, str]) -> AsyncIterator[ApiClient]:
    """The real app (its lifespan too: embedded workers, sweeper) behind httpx's ASGI
    transport; everything stops when the block ends."""
    from app.main import create_app
    from workers.broker import broker

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield ApiClient(http, keys)
    broker.flush_all()  # nothing left for the next test's workers


def post_data(
    client: TestClient, key: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """A query or mutation over HTTP through a Starlette test client: its `data`, asserted
    free of errors."""
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"X-Api-Key": key}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body["errors"]
    return dict(body["data"])
