"""Live collection with real processes, in both modes, against the local exchange feed:
subscribe over GraphQL, follow the subscription over a WebSocket, export and download what
was collected, and find exactly what the feed sent while the span was open; two workspaces
share one connection; a killed collector is replaced once its lease runs out."""

from __future__ import annotations

import csv
import gzip
import io
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest

from app.demo.feed import ExchangeFeed
from engine.timestamps import parse_timestamp
from tests.helpers.clients import GraphQLClient, subscribe
from tests.helpers.environments import mode_env
from tests.helpers.feeds import feed_in_thread
from tests.helpers.operations import CREATE
from tests.helpers.processes import (
    CollectorProcess,
    Gateway,
    WorkerProcess,
    run_cli,
    stopping_started_processes,
)
from tests.helpers.services import require_postgres_and_redis, temporary_database

pytestmark = pytest.mark.e2e

TRADES, BOOK = 801, 802
FLUSH_SECONDS = 0.5
SUBSCRIBE = """mutation($ds: ID!) { createCollectionSubscription(input: {datastreamId: $ds}) {
  collectionSubscription { id status } userErrors { code field message } } }"""
PAUSE = """mutation($id: ID!) { pauseCollectionSubscription(input: {id: $id}) {
  collectionSubscription { id status } userErrors { code message } } }"""
DELETE = """mutation($id: ID!) { deleteCollectionSubscription(input: {id: $id}) {
  deletedId userErrors { code message } } }"""
ONE = """query($id: ID!) { collectionSubscription(id: $id) { id status collecting
  spans { startedAt endedAt endReason collector } } }"""
FOLLOW = """subscription($id: ID!) { collectionSubscriptionUpdated(id: $id) {
  status collecting spans { startedAt endedAt } } }"""
AVAILABILITY = "query($ds: ID!) { availability(datastreamId: $ds) { ranges { rowCount } } }"


@dataclass
class Live:
    gateway: Gateway
    feed: ExchangeFeed
    env: dict[str, str]
    keys: dict[str, str]
    mode: str
    collectors: list[CollectorProcess] = field(default_factory=list)

    def client(self, key: str = "a") -> GraphQLClient:
        return GraphQLClient(self.gateway.url, self.keys[key])


def _datastream(env: dict[str, str], folder: Path, datastream: int, args: list[str]) -> None:
    """A datastream with its wire format (one old record, so that it exists)."""
    path = folder / f"{datastream}.csv"
    path.write_text('collection_timestamp_ns,data\n1000,"{""seed"":1}"\n')
    run_cli(env, "ingest", str(path), "--datastream", str(datastream), *args)


@pytest.fixture(scope="module", params=["embedded", "distributed"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    mode = request.param
    folder = tmp_path_factory.mktemp(f"collection-{mode}")
    with ExitStack() as stack:
        feed, _loop = stack.enter_context(feed_in_thread())
        database_url = None
        if mode == "distributed":
            require_postgres_and_redis()
            database_url = stack.enter_context(temporary_database())
        stack.enter_context(stopping_started_processes())  # stopped before the database goes
        env = mode_env(
            mode,
            folder,
            database_url,
            GATEWAY_BINANCE_WS_URL=feed.url,
            GATEWAY_BYBIT_WS_URL=feed.url + "/v5/public",
            GATEWAY_COLLECTOR_LEASE_SECONDS="2",
            GATEWAY_COLLECTOR_TICK_SECONDS="0.3",
            GATEWAY_COLLECTOR_FLUSH_SECONDS=str(FLUSH_SECONDS),
        )
        run_cli(env, "migrate")
        spot = ["--exchange", "binance", "--symbol", "BTCUSDT", "--base", "BTC", "--quote", "USDT"]
        _datastream(
            env,
            folder,
            TRADES,
            [*spot, "--stream-type", "trades", "--wire-format", "binance.trade"],
        )
        linear = ["--exchange", "bybit", "--symbol", "BTCUSDT", "--base", "BTC", "--quote", "USDT"]
        _datastream(
            env,
            folder,
            BOOK,
            [
                *linear,
                "--instrument-type",
                "linear",
                "--stream-type",
                "book",
                "--wire-format",
                "bybit.orderbook",
            ],
        )
        keys = {
            name: run_cli(env, "create-key", "--workspace", workspace).stdout.strip()
            for name, workspace in (("a", "alpha"), ("b", "beta"))
        }
        handle = Live(Gateway(env, folder / "gateway.log").start(), feed, env, keys, mode)
        if mode == "distributed":
            WorkerProcess(env, folder / "worker.log").start()  # runs the exports
            handle.collectors = [
                CollectorProcess(env, folder / f"collector{i}.log").start() for i in range(2)
            ]
        yield handle


def until(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def subscribe_to(live: Live, datastream: int, key: str = "a") -> str:
    payload = live.client(key).execute(SUBSCRIBE, {"ds": str(datastream)})
    created = payload["createCollectionSubscription"]
    assert created["userErrors"] == [], created
    return str(created["collectionSubscription"]["id"])


def subscription(live: Live, subscription_id: str, key: str = "a") -> dict[str, Any]:
    return dict(live.client(key).execute(ONE, {"id": subscription_id})["collectionSubscription"])


def stored_messages(live: Live, datastream: int) -> set[str]:
    """The messages in the datastream's segment files, read with pyarrow."""
    folder = Path(live.env["GATEWAY_DATA_DIR"]) / "storage" / "segments" / str(datastream)
    return {
        text
        for path in folder.glob("*.parquet")
        for text in pq.read_table(path)["data"].to_pylist()
    }


def rows_stored(live: Live, datastream: int) -> int:
    ranges = live.client().execute(AVAILABILITY, {"ds": str(datastream)})["availability"]["ranges"]
    return sum(int(r["rowCount"]) for r in ranges)


def test_subscribe_collect_export_download(live: Live) -> None:
    sub = subscribe_to(live, TRADES)
    # The subscription's current state first, then its span opening.
    for message in subscribe(live.gateway.url, live.keys["a"], FOLLOW, {"id": sub}, timeout=30):
        update = message["payload"]["data"]["collectionSubscriptionUpdated"]
        if update["collecting"]:
            break
    until(lambda: rows_stored(live, TRADES) > 20)
    paused = live.client().execute(PAUSE, {"id": sub})["pauseCollectionSubscription"]
    assert paused["collectionSubscription"]["status"] == "PAUSED"
    [span] = subscription(live, sub)["spans"]
    assert span["endedAt"] is not None and span["endReason"] == "PAUSED"
    rows = _export_raw(live, span["startedAt"], span["endedAt"])
    sent = [s.text for s in live.feed.sent["btcusdt@trade"]]
    got = [text for _ts, text in rows]
    assert got and got == sent[: len(got)]  # exactly what the feed sent, in order
    live.client().execute(DELETE, {"id": sub})


def _export_raw(live: Live, start: str, end: str) -> list[tuple[int, str]]:
    fields = {"datastreamId": str(TRADES), "startTime": start, "endTime": end, "schema": "raw"}
    job = live.client().execute(CREATE, {"input": fields})["createExport"]["exportJob"]
    query = "query($id: ID!) { exportJob(id: $id) { status artifacts { url } } }"
    done = until(
        lambda: (
            (j := live.client().execute(query, {"id": job["id"]})["exportJob"])["status"]
            == "SUCCEEDED"
            and j
        )
    )
    content = httpx.get(done["artifacts"][0]["url"], timeout=30).content
    reader = csv.DictReader(io.StringIO(gzip.decompress(content).decode()))
    return [(int(r["collection_timestamp_ns"]), r["data"]) for r in reader]


def test_two_workspaces_share_one_connection(live: Live) -> None:
    before = live.feed.connections["orderbook.50.BTCUSDT"]
    mine, theirs = subscribe_to(live, BOOK, "a"), subscribe_to(live, BOOK, "b")
    until(
        lambda: (
            subscription(live, mine)["collecting"] and subscription(live, theirs, "b")["collecting"]
        )
    )
    until(lambda: rows_stored(live, BOOK) > 10)
    assert live.feed.connections["orderbook.50.BTCUSDT"] == before + 1
    live.client().execute(PAUSE, {"id": mine})
    assert subscription(live, theirs, "b")["collecting"]  # the other one goes on
    live.client("b").execute(DELETE, {"id": theirs})
    until(lambda: not live.feed.open)  # the last one gone: the connection closes
    live.client().execute(DELETE, {"id": mine})


# Only distributed mode has collector processes to kill.
@pytest.mark.parametrize("live", ["distributed"], indirect=True, scope="module")
def test_a_killed_collector_is_replaced_within_its_lease(live: Live) -> None:
    sub = subscribe_to(live, TRADES)
    first = until(lambda: (s := subscription(live, sub))["collecting"] and s["spans"][0])
    pid = int(first["collector"].split(":")[1])
    [holder] = [c for c in live.collectors if c.process is not None and c.process.pid == pid]
    time.sleep(4 * FLUSH_SECONDS)  # several flushes
    killed_ns = time.time_ns()
    holder.kill()
    spans = until(lambda: len(s := subscription(live, sub)["spans"]) >= 2 and s)
    assert spans[0]["endReason"] == "COLLECTOR_LOST"
    assert spans[1]["collector"] != first["collector"]
    stored = rows_stored(live, TRADES)
    until(lambda: rows_stored(live, TRADES) > stored)  # the heir collects
    # What the killed collector lost is at most its last flush interval: every message the
    # feed sent it before that is in a segment.
    opened_ns = parse_timestamp(first["startedAt"])
    flushed_by = killed_ns - int((FLUSH_SECONDS + 0.1) * 1e9)
    sent = [m.text for m in live.feed.sent["btcusdt@trade"] if opened_ns < m.at_ns < flushed_by]
    assert sent and set(sent) <= stored_messages(live, TRADES)
    live.client().execute(DELETE, {"id": sub})
