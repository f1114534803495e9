"""The collector: claims datastreams that have an ACTIVE subscription (by lease), holds one
websocket per datastream, stores every record exactly as received with its collection time
(nanoseconds, taken on receipt), and flushes segments every few seconds or records.

A crash loses at most the records not yet flushed (never half a segment: a flush is one
transaction). A feed that drops is reconnected with exponential backoff and jitter; a span
ends at each drop and a new one opens on reconnect, so gaps are visible. Connections are
renewed before the exchanges' 24-hour limit, on our own schedule."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
import time

import websockets
from websockets.asyncio.client import ClientConnection, connect

from app.domain.collection import leases
from app.domain.collection.leases import Feed, LeaseLost
from app.domain.collection.subscriptions import SpanEnd
from app.domain.runtime import Runtime
from workers.collector.connectors import Connector, UnknownFeed, connector_for

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 60.0
# A flush that fails (a full disk, the database away) keeps its records for the next one, up
# to this many flushes' worth; beyond that the oldest go, so memory stays bounded.
UNFLUSHED_FLUSHES_KEPT = 20


def new_collector_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Collector:
    def __init__(self, runtime: Runtime, collector_id: str | None = None) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.id = collector_id or new_collector_id()
        self.feeds: dict[int, FeedTask] = {}

    @property
    def lease_ns(self) -> int:
        return int(self.settings.collector_lease_seconds * 1e9)

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set; then every feed is flushed and released."""
        log.info("collector %s started", self.id)
        try:
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception:
                    log.exception("collector %s: pass failed; retrying", self.id)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.collector_tick_seconds)
        finally:
            await asyncio.gather(
                *(self._stop_feed(d, SpanEnd.STOPPED) for d in list(self.feeds)),
                return_exceptions=True,
            )
            log.info("collector %s stopped", self.id)

    async def tick(self) -> None:
        """Renew what we hold, drop what nobody wants or we lost, claim what is free."""
        wanted = await leases.wanted(self.runtime)
        for datastream_id, task in list(self.feeds.items()):
            if task.done():
                self.feeds.pop(datastream_id)
            elif datastream_id not in wanted:
                await self._stop_feed(datastream_id, SpanEnd.STOPPED)
            else:
                try:
                    await leases.renew(self.runtime, self.id, datastream_id, self.lease_ns)
                    await leases.sync_spans(self.runtime, self.id, datastream_id)
                except LeaseLost:
                    log.warning("collector %s lost datastream %s", self.id, datastream_id)
                    self.feeds.pop(datastream_id).abandon()
        room = self.settings.collector_max_feeds - len(self.feeds)
        if room > 0:
            held = set(self.feeds)
            for feed in await leases.claim(self.runtime, self.id, self.lease_ns, room, held):
                self._start_feed(feed)

    def _start_feed(self, feed: Feed) -> None:
        try:
            connector = connector_for(feed, self.settings)
        except UnknownFeed as exc:
            task = asyncio.create_task(
                leases.failed(self.runtime, self.id, feed.datastream_id, str(exc))
            )
            task.add_done_callback(lambda _t: None)
            return
        self.feeds[feed.datastream_id] = FeedTask(self, feed, connector)

    async def _stop_feed(self, datastream_id: int, reason: SpanEnd) -> None:
        task = self.feeds.pop(datastream_id, None)
        if task is None:
            return
        await task.stop()
        with contextlib.suppress(LeaseLost):
            await leases.release(self.runtime, self.id, datastream_id, reason)


class FeedTask:
    """One datastream's connection, buffer and flushes."""

    def __init__(self, collector: Collector, feed: Feed, connector: Connector) -> None:
        self.collector = collector
        self.runtime = collector.runtime
        self.settings = collector.settings
        self.feed = feed
        self.connector = connector
        self.buffer: list[tuple[int, str]] = []
        self.flush_lock = asyncio.Lock()
        self.lost = False
        self.stopping = False  # a clean stop: the release ends the spans (STOPPED)
        self.task = asyncio.create_task(self._run(), name=f"feed-{feed.datastream_id}")

    def done(self) -> bool:
        return self.task.done()

    async def stop(self) -> None:
        """Flush what was received and close the connection."""
        self.stopping = True
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task
        await self.flush()

    def abandon(self) -> None:
        """The lease is gone: whatever is buffered is another collector's to store."""
        self.lost = True
        self.buffer.clear()
        self.task.cancel()

    async def flush(self) -> None:
        async with self.flush_lock:
            records, self.buffer = self.buffer, []
            if not records or self.lost:
                return
            try:
                await leases.flush(
                    self.runtime, self.collector.id, self.feed.datastream_id, records
                )
            except LeaseLost:
                self.lost = True
                log.warning(
                    "datastream %s: lease lost, %d records dropped",
                    self.feed.datastream_id,
                    len(records),
                )
            except Exception as exc:  # a full disk, the database away: nothing was stored
                self._keep_for_next_flush(records, exc)

    def _keep_for_next_flush(self, records: list[tuple[int, str]], error: Exception) -> None:
        """The failed flush's records go back in front of what arrived since, so the next
        flush stores them in order; past a bound the oldest are dropped, loudly, rather than
        the collector's memory."""
        self.buffer[:0] = records
        limit = self.settings.collector_flush_records * UNFLUSHED_FLUSHES_KEPT
        dropped = max(0, len(self.buffer) - limit)
        del self.buffer[:dropped]
        log.error(
            "datastream %s: flush failed (%s); %d records kept for the next flush%s",
            self.feed.datastream_id,
            error,
            len(self.buffer),
            f", {dropped} oldest dropped" if dropped else "",
        )

    async def _run(self) -> None:
        backoff = 1.0
        while not self.lost:
            try:
                await self._connected_once()
                backoff = 1.0  # a connection that worked and ended: reconnect at once
            except LeaseLost:
                self.lost = True
                return
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                log.info("datastream %s: feed unavailable (%s)", self.feed.datastream_id, exc)
            await asyncio.sleep(random.uniform(0, backoff))  # full jitter
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    async def _connected_once(self) -> None:
        connector, datastream_id = self.connector, self.feed.datastream_id
        async with connect(
            connector.url,
            open_timeout=10,
            ping_interval=20,
            ping_timeout=20,
            max_size=self.settings.collector_max_message_bytes,
        ) as ws:
            for frame in connector.subscribe:
                await ws.send(frame)
            await leases.connected(
                self.runtime, self.collector.id, datastream_id, True, SpanEnd.DISCONNECTED
            )
            helpers = [asyncio.create_task(self._flush_every())]
            if connector.heartbeat:
                helpers.append(asyncio.create_task(self._heartbeat(ws)))
            renew_at = time.monotonic() + self.settings.collector_max_connection_seconds
            try:
                async for message in ws:
                    received = time.time_ns()  # the collection timestamp: on receipt
                    text = (
                        message if isinstance(message, str) else message.decode("utf-8", "replace")
                    )
                    if connector.is_record(text):
                        self.buffer.append((received, text))
                        if len(self.buffer) >= self.settings.collector_flush_records:
                            await self.flush()
                    elif (refusal := connector.refusal(text)) is not None:
                        await leases.failed(self.runtime, self.collector.id, datastream_id, refusal)
                        self.lost = True
                        return
                    if time.monotonic() > renew_at:
                        break  # before the exchange's own 24-hour cut
            finally:
                for helper in helpers:
                    helper.cancel()
                await self.flush()
                if not self.lost and not self.stopping:
                    with contextlib.suppress(LeaseLost):
                        await leases.connected(
                            self.runtime,
                            self.collector.id,
                            datastream_id,
                            False,
                            SpanEnd.DISCONNECTED,
                        )

    async def _flush_every(self) -> None:
        while True:
            await asyncio.sleep(self.settings.collector_flush_seconds)
            await self.flush()

    async def _heartbeat(self, ws: ClientConnection) -> None:
        assert self.connector.heartbeat is not None
        while True:
            await asyncio.sleep(self.connector.heartbeat_seconds)
            await ws.send(self.connector.heartbeat)
