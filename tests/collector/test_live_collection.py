"""Live collection in process, against the local exchange feed: subscribe and records
arrive; what is stored is exactly what the feed sent while a span was open; pause and resume
make a gap and two spans; a dropped feed reconnects with a new span; two workspaces share one
connection; a collector that dies is replaced once its lease runs out, losing at most its last
flush interval."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from app.db.models import CollectionSpanRow, SegmentRow
from app.demo.feed import ExchangeFeed, exchange_feed
from app.domain.catalog import DatastreamSpec, ensure_datastream
from app.domain.collection import subscriptions
from app.domain.runtime import Runtime
from engine.segment_meta import read_footer
from tests.domain.helpers import runtime_for, settings_with
from tests.helpers.inprocess import RecordingEffects, Seed
from workers.collector.runner import Collector

BINANCE = DatastreamSpec(
    701, "binance", "Binance", "BTCUSDT", "BTC", "USDT", "spot", "trades", "binance.trade"
)
BYBIT_BOOK = DatastreamSpec(
    702, "bybit", "Bybit", "BTCUSDT", "BTC", "USDT", "linear", "book", "bybit.orderbook"
)


@pytest.fixture
async def feed() -> AsyncIterator[ExchangeFeed]:
    async with exchange_feed() as running:
        yield running


@pytest.fixture
async def live(
    seed: Seed, tmp_path: Path, effects: RecordingEffects, feed: ExchangeFeed
) -> AsyncIterator[Runtime]:
    settings = settings_with(
        seed,
        tmp_path / "data",
        binance_ws_url=feed.url,
        bybit_ws_url=feed.url + "/v5/public",
        collector_lease_seconds=1.0,
        collector_tick_seconds=0.1,
        collector_flush_seconds=0.2,
    )
    async with runtime_for(settings, effects) as runtime:
        with runtime.sync_sessions() as session:
            ensure_datastream(session, BINANCE)
            ensure_datastream(session, BYBIT_BOOK)
            session.commit()
        yield runtime


@contextlib.asynccontextmanager
async def collecting(runtime: Runtime, collector_id: str) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    task = asyncio.create_task(Collector(runtime, collector_id).run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await task


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)


async def stored(runtime: Runtime, datastream_id: int) -> list[tuple[int, str]]:
    """The datastream's records, from files that each describe the segment they are."""
    async with runtime.sessions() as session:
        segments = (
            await session.execute(
                select(SegmentRow.id, SegmentRow.path).where(
                    SegmentRow.datastream_id == datastream_id
                )
            )
        ).all()
    rows: list[tuple[int, str]] = []
    for segment_id, path in segments:
        description = read_footer(runtime.settings.storage_dir / path).description
        assert description is not None and description.label.segment_id == segment_id
        assert description.label.stream.id == datastream_id
        table = pq.read_table(runtime.settings.storage_dir / path)
        rows += zip(table.column(0).to_pylist(), table.column(1).to_pylist(), strict=True)
    return sorted(rows)


async def spans(runtime: Runtime, subscription_id: str) -> list[CollectionSpanRow]:
    async with runtime.sessions() as session:
        return (await subscriptions.spans_of(session, [subscription_id]))[subscription_id]


async def test_records_arrive_exactly_as_sent_while_the_span_is_open(
    live: Runtime, seed: Seed, feed: ExchangeFeed
) -> None:
    who = seed.principals["alpha"]
    sub, created = await subscriptions.create_subscription(live, who, str(BINANCE.id), "k1")
    assert created and sub.status == "ACTIVE"
    async with collecting(live, "one"):
        await until(lambda: _count_at_least(live, BINANCE.id, 10))
        await subscriptions.pause_subscription(live, who, sub.id)
        await until(lambda: _no_connection(feed))
    [span] = await spans(live, sub.id)
    assert span.ended_at is not None and span.end_reason == "PAUSED"
    sent = [s.text for s in feed.sent["btcusdt@trade"]]
    got = [text for _ts, text in await stored(live, BINANCE.id)]
    # Stored: what the feed sent, byte for byte and in order, nothing else; and every message
    # sent while the span was open (a message on the wire at either end may go either way).
    assert got == sent[: len(got)]
    margin = 50 * 10**6
    inside = [
        s.text
        for s in feed.sent["btcusdt@trade"]
        if span.started_at + margin <= s.at_ns < span.ended_at - margin
    ]
    assert inside and set(inside) <= set(got)
    assert all(json.loads(text)["stream"] == "btcusdt@trade" for text in got)


async def test_a_flush_that_cannot_write_keeps_its_records_for_the_next_one(
    live: Runtime, seed: Seed, feed: ExchangeFeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write, failures = pq.write_table, []

    def full_disk(*args: Any, **kwargs: Any) -> None:
        failures.append(1)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pq, "write_table", full_disk)
    sub, _ = await subscriptions.create_subscription(
        live, seed.principals["alpha"], str(BINANCE.id), None
    )
    async with collecting(live, "one"):
        await until(lambda: _at_least(failures, 3))  # several flushes failed meanwhile
        assert await stored(live, BINANCE.id) == []
        monkeypatch.setattr(pq, "write_table", real_write)  # space again
        await until(lambda: _count_at_least(live, BINANCE.id, 20))
    sent = [s.text for s in feed.sent["btcusdt@trade"]]
    got = [text for _ts, text in await stored(live, BINANCE.id)]
    # Nothing received during the outage is missing: what is stored is what the feed sent,
    # from its first message, in order, without a gap; and no partial file stayed behind.
    assert got == sent[: len(got)] and len(got) >= 20
    files = [p for p in (live.settings.storage_dir / "segments").rglob("*") if p.is_file()]
    async with live.sessions() as session:
        catalogued = (await session.execute(select(SegmentRow.id))).all()
    assert len(files) == len(catalogued)
    [span] = await spans(live, sub.id)
    assert span.end_reason == "STOPPED"  # the connection stayed up through the outage


async def _at_least(items: list[int], count: int) -> bool:
    return len(items) >= count


async def _count_at_least(runtime: Runtime, datastream_id: int, count: int) -> bool:
    return len(await stored(runtime, datastream_id)) >= count


async def _no_connection(feed: ExchangeFeed) -> bool:
    return not feed.open


async def test_pause_and_resume_make_a_gap_and_two_spans(live: Runtime, seed: Seed) -> None:
    who = seed.principals["alpha"]
    sub, _ = await subscriptions.create_subscription(live, who, str(BYBIT_BOOK.id), None)
    async with collecting(live, "one"):
        await until(lambda: _count_at_least(live, BYBIT_BOOK.id, 5))
        await subscriptions.pause_subscription(live, who, sub.id)
        paused_with = len(await stored(live, BYBIT_BOOK.id))
        await asyncio.sleep(0.5)
        await subscriptions.resume_subscription(live, who, sub.id)
        await until(lambda: _count_at_least(live, BYBIT_BOOK.id, paused_with + 5))
    first, second = await spans(live, sub.id)
    assert first.end_reason == "PAUSED" and second.end_reason == "STOPPED"
    assert first.ended_at is not None and first.ended_at < second.started_at
    gap = [
        ts
        for ts, _ in await stored(live, BYBIT_BOOK.id)
        if first.ended_at <= ts < second.started_at
    ]
    assert gap == []


async def test_a_dropped_feed_reconnects_with_a_new_span(
    live: Runtime, seed: Seed, feed: ExchangeFeed
) -> None:
    sub, _ = await subscriptions.create_subscription(
        live, seed.principals["alpha"], str(BINANCE.id), None
    )
    async with collecting(live, "one"):
        await until(lambda: _count_at_least(live, BINANCE.id, 3))
        await feed.drop()
        await until(lambda: _spans_at_least(live, sub.id, 2))
        await until(lambda: _streams_opened(feed, "btcusdt@trade", 2))  # the feed's side
    first, second = await spans(live, sub.id)
    assert first.end_reason == "DISCONNECTED" and first.ended_at is not None
    assert first.ended_at <= second.started_at and feed.connections["btcusdt@trade"] == 2


async def _streams_opened(feed: ExchangeFeed, stream: str, count: int) -> bool:
    return feed.connections[stream] >= count


async def _spans_at_least(runtime: Runtime, subscription_id: str, count: int) -> bool:
    return len(await spans(runtime, subscription_id)) >= count


async def test_two_workspaces_share_one_connection(
    live: Runtime, seed: Seed, feed: ExchangeFeed
) -> None:
    a, _ = await subscriptions.create_subscription(
        live, seed.principals["alpha"], str(BINANCE.id), None
    )
    b, _ = await subscriptions.create_subscription(
        live, seed.principals["beta"], str(BINANCE.id), None
    )
    async with collecting(live, "one"):
        await until(lambda: _count_at_least(live, BINANCE.id, 5))
        await subscriptions.pause_subscription(live, seed.principals["alpha"], a.id)
        count = len(await stored(live, BINANCE.id))
        await until(lambda: _count_at_least(live, BINANCE.id, count + 5))  # b still collects
        assert feed.connections["btcusdt@trade"] == 1
        await subscriptions.delete_subscription(live, seed.principals["beta"], b.id)
        await until(lambda: _no_connection(feed))  # the last one gone: the connection stops


async def test_a_dead_collector_is_replaced_after_its_lease(
    live: Runtime, seed: Seed, feed: ExchangeFeed
) -> None:
    sub, _ = await subscriptions.create_subscription(
        live, seed.principals["alpha"], str(BINANCE.id), None
    )
    dead = asyncio.Event()
    crashed = asyncio.create_task(Collector(live, "doomed").run(dead))
    await until(lambda: _count_at_least(live, BINANCE.id, 3))
    await asyncio.sleep(1.0)  # several flushes
    crashed_ns = time.time_ns()
    crashed.cancel()  # no clean stop: its lease must run out
    with contextlib.suppress(asyncio.CancelledError):
        await crashed
    async with collecting(live, "heir"):
        await until(lambda: _spans_at_least(live, sub.id, 2))
        await until(lambda: _count_at_least(live, BINANCE.id, 10))
    first, second = (await spans(live, sub.id))[:2]
    assert (first.collector_id, second.collector_id) == ("doomed", "heir")
    assert first.end_reason in ("COLLECTOR_LOST", "STOPPED", "DISCONNECTED")
    # Lost at most the last flush interval: everything sent before it was stored.
    flushed_by = crashed_ns - int((live.settings.collector_flush_seconds + 0.05) * 1e9)
    sent = [m.text for m in feed.sent["btcusdt@trade"] if first.started_at < m.at_ns < flushed_by]
    assert sent and set(sent) <= {text for _ts, text in await stored(live, BINANCE.id)}


async def test_a_collector_that_lost_its_lease_stores_nothing(live: Runtime, seed: Seed) -> None:
    """A paused process resumed after its lease ran out (a zombie) cannot write over the
    collector that took its datastream over."""
    from app.domain.collection import leases

    await subscriptions.create_subscription(live, seed.principals["alpha"], str(BINANCE.id), None)
    [feed] = await leases.claim(live, "zombie", lease_ns=1, limit=10, held=set())
    await asyncio.sleep(0.01)  # its lease runs out
    [taken] = await leases.claim(live, "heir", lease_ns=10**10, limit=10, held=set())
    assert taken.datastream_id == feed.datastream_id
    with pytest.raises(leases.LeaseLost):
        await leases.flush(live, "zombie", BINANCE.id, [(10**18, '{"stream":"x"}')])
    with pytest.raises(leases.LeaseLost):
        await leases.renew(live, "zombie", BINANCE.id, 10**10)
    assert await stored(live, BINANCE.id) == []
