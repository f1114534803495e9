"""The event bus that carries `JobEvent`s from whoever changed a job to the subscriptions.

An event only says "job X changed"; subscribers re-read the job row, which is the truth, and
they do it through `SharedReads`: one read per change per process, however many subscribers
follow the job (the first one to ask after an event reads; the others await that read).

Within a process, events fan out to subscriber queues: publishers may be worker threads,
subscribers are asyncio tasks, so delivery crosses threads with `call_soon_threadsafe`. Each
subscriber has its own bounded queue and a full queue drops the oldest notice (the next one
carries the same news), so a slow subscriber never slows a worker or the other subscribers.

Across processes (distributed mode) events travel over Redis pub/sub: every publish goes to
the channel, and each gateway runs one bridge task that feeds the channel into its local
fan-out; when the bridge (re)connects, subscribers are told to re-read everything they follow
(`RESYNC`), since events may have passed while it was away. When the bus cannot see every change
(other processes and no Redis), rows are re-read every second, still once per process; otherwise
only every `SAFETY_RECHECK_SECONDS`, against a publisher that could not reach Redis.

While the bridge has lost Redis, subscribers fall back to re-reading what they follow every
`fallback_poll_seconds` (one read per process, as ever), and go back to waiting for pushes once
it is back: the bridge tells them both times (a `RESYNC`), so no subscription is dropped and
none waits out a long recheck. The bridge reconnects by itself (the client's own silent
reconnection would hide the gap), and pings an idle connection so that a Redis that stopped
answering counts as lost too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any, TypeVar

from app.config import Settings
from app.domain.runtime import JobEvent

log = logging.getLogger(__name__)
T = TypeVar("T")
# How often a subscriber re-reads what it follows without an event: every second when the bus
# cannot see other processes' changes, else only as a safety net. Reads are shared either way.
POLL_SECONDS = 1.0
SAFETY_RECHECK_SECONDS = 30.0
# The default of `Settings.events_fallback_poll_seconds`: re-reads while the bridge is down.
FALLBACK_POLL_SECONDS = 1.0
# The bridge pings Redis after this long without a message; twice this without an answer
# and the connection counts as lost.
BRIDGE_PING_SECONDS = 5.0
# A notice to every subscriber: re-read all you follow (events may have been missed).
RESYNC = JobEvent("*", "*", "RESYNC")
# Versions and shared reads kept per process before they are dropped all at once.
MAX_TRACKED_KEYS = 10_000


class _Subscriber:
    def __init__(self, loop: asyncio.AbstractEventLoop, maxsize: int) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[JobEvent] = asyncio.Queue(maxsize)

    def offer(self, event: JobEvent) -> None:
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(event)


def _offer_all(subscribers: list[_Subscriber], event: JobEvent) -> None:
    for subscriber in subscribers:
        subscriber.offer(event)


class EventBus:
    def __init__(
        self,
        redis_url: str | None = None,
        channel: str = "exports",
        queue_size: int = 256,
        sees_every_change: bool | None = None,
        fallback_poll_seconds: float = FALLBACK_POLL_SECONDS,
    ) -> None:
        self._subscribers: set[_Subscriber] = set()
        self._lock = threading.Lock()
        self._queue_size = queue_size
        self.redis_url = redis_url
        self.channel = f"{channel}:job-events"
        self._redis: Any = None
        # Whether every change reaches this bus: through Redis, or because every writer runs
        # in this process (embedded mode).
        self.sees_every_change = (
            redis_url is not None if sees_every_change is None else (sees_every_change)
        )
        self.fallback_poll_seconds = fallback_poll_seconds
        # Whether the Redis channel reaches this process now (always, without Redis): set by
        # the bridge when it subscribes, cleared when it loses the connection.
        self._bridged = redis_url is None
        self._publish_failing = False  # to log an outage once, not once per event
        self._versions: dict[str, int] = {}
        self._epoch = 0  # bumped by a resync: every version changes
        self.reads = SharedReads(self)

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    @property
    def bridged(self) -> bool:
        """Whether events of other processes reach this one now (False while Redis is down)."""
        return self._bridged

    @property
    def recheck_seconds(self) -> float:
        if not self.sees_every_change:
            return POLL_SECONDS
        if not self._bridged:
            return self.fallback_poll_seconds
        return SAFETY_RECHECK_SECONDS

    def version(self, key: str) -> tuple[int, int, int]:
        """Changes with every event about `key` (a job, or any job of a workspace), every
        resync, and every recheck period."""
        with self._lock:
            count = self._versions.get(key, 0)
            epoch = self._epoch
        return epoch, count, int(time.monotonic() / self.recheck_seconds)

    def publish(self, event: JobEvent) -> None:
        """Callable from any thread. A lost event only delays subscribers (they re-read)."""
        url = self.redis_url
        if url is None:
            self.deliver_locally(event)
            return
        try:
            self._redis_client(url).publish(self.channel, json.dumps(asdict(event)))
        except Exception as exc:
            if not self._publish_failing:  # once per outage: events come many a second
                log.warning("could not publish job events to Redis (%s); delivering locally", exc)
            self._publish_failing = True
            self.deliver_locally(event)
        else:
            self._publish_failing = False

    def resync(self) -> None:
        """Every subscriber re-reads what it follows, and no earlier read is reused."""
        with self._lock:
            self._epoch += 1
        self.deliver_locally(RESYNC)

    def _redis_client(self, url: str) -> Any:
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(url, socket_timeout=2)
        return self._redis

    def deliver_locally(self, event: JobEvent) -> None:
        with self._lock:
            if len(self._versions) >= MAX_TRACKED_KEYS:
                self._versions.clear()
                self._epoch += 1
            for key in (event.job_id, event.workspace_id):
                self._versions[key] = self._versions.get(key, 0) + 1
            by_loop: dict[asyncio.AbstractEventLoop, list[_Subscriber]] = {}
            for subscriber in self._subscribers:
                by_loop.setdefault(subscriber.loop, []).append(subscriber)
        # One wake-up per loop, not per subscriber: each crosses threads through the loop's
        # self-pipe, a system call, and a thousand subscribers share one loop.
        for loop, group in by_loop.items():
            try:
                loop.call_soon_threadsafe(_offer_all, group, event)
            except RuntimeError:  # that loop is closed
                with self._lock:
                    self._subscribers.difference_update(group)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[JobEvent]]:
        subscriber = _Subscriber(asyncio.get_running_loop(), self._queue_size)
        with self._lock:
            self._subscribers.add(subscriber)
        try:
            yield subscriber.queue
        finally:
            with self._lock:
                self._subscribers.discard(subscriber)

    async def bridge_forever(self) -> None:
        """Gateway side: feed the Redis channel into local subscribers, reconnecting on error.
        Subscribers are told (RESYNC) when it connects, since events published while it was
        away are lost, and when it loses Redis, so that they re-read at the fallback interval
        until it is back."""
        url = self.redis_url
        if url is None:
            return
        import redis.asyncio as aioredis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        while True:
            # No retries inside the client: a reconnection it made silently would hide the gap.
            client = aioredis.Redis.from_url(url, retry=Retry(NoBackoff(), 0))
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._set_bridged(True)
                    await self._pump(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._bridged:
                    log.warning(
                        "job event bridge lost Redis (%s): subscribers re-read every %g s "
                        "until it is back",
                        exc,
                        self.fallback_poll_seconds,
                    )
                self._set_bridged(False)
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()

    def _set_bridged(self, bridged: bool) -> None:
        """Every change of the bridge's state is a resync: on connecting, events may have
        been missed; on losing Redis, subscribers waiting for a push switch to re-reading."""
        changed = bridged != self._bridged
        self._bridged = bridged
        if changed or bridged:
            self.resync()

    async def _pump(self, pubsub: Any) -> None:
        """Deliver the channel's messages until the connection fails; an idle connection is
        pinged, and one that answers nothing for two ping periods is given up."""
        loop = asyncio.get_running_loop()
        heard = loop.time()
        while True:
            message = await pubsub.get_message(timeout=BRIDGE_PING_SECONDS)
            if message is not None:
                heard = loop.time()
                if message.get("type") == "message":
                    self.deliver_locally(JobEvent(**json.loads(message["data"])))
                continue
            if loop.time() - heard > 2 * BRIDGE_PING_SECONDS:
                raise ConnectionError("Redis stopped answering the event bridge's pings")
            await pubsub.ping()


class SharedReads:
    """Reads of rows that subscribers follow, shared by every subscriber in this process.

    `read(key, source, load)` starts `load()` unless a read of `key` started since `source` (a
    job or workspace id) last changed, and every caller awaits the same read: 1,000
    subscribers woken by one event cost one query. Keys must name what is read completely; the
    caller checks who may see the result.
    """

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._reads: dict[Hashable, tuple[tuple[int, int, int], asyncio.Future[Any]]] = {}

    async def read(self, key: str, source: str, load: Callable[[], Awaitable[T]]) -> T:
        version = self._bus.version(source)
        entry = self._reads.get(key)
        if (
            entry is None
            or entry[0] != version
            or entry[1].get_loop() is not asyncio.get_running_loop()
        ):
            if len(self._reads) >= MAX_TRACKED_KEYS:
                self._reads.clear()
            future: asyncio.Future[T] = asyncio.ensure_future(load())
            future.add_done_callback(lambda done: self._forget_failed(key, done))
            entry = (version, future)
            self._reads[key] = entry
        result: T = await asyncio.shield(entry[1])
        return result

    def _forget_failed(self, key: Hashable, done: asyncio.Future[Any]) -> None:
        if done.cancelled() or done.exception() is not None:  # the next caller tries again
            entry = self._reads.get(key)
            if entry is not None and entry[1] is done:
                del self._reads[key]


def build_event_bus(settings: Settings) -> EventBus:
    return EventBus(
        settings.resolved_events_url,
        settings.queue_name,
        sees_every_change=settings.resolved_events_url is not None or settings.embedded_broker,
        fallback_poll_seconds=settings.events_fallback_poll_seconds,
    )
