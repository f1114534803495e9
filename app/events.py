"""The event bus that carries `JobEvent`s from whoever changed a job to the subscriptions.

An event only says "job X changed"; subscribers re-read the job row, which is the truth.

Within a process, events fan out to subscriber queues: publishers may be worker threads,
subscribers are asyncio tasks, so delivery crosses threads with `call_soon_threadsafe`. Each
subscriber has its own bounded queue and a full queue drops the oldest notice (the next one
carries the same news), so a slow subscriber never slows a worker or the other subscribers.

Across processes (distributed mode) events travel over Redis pub/sub: every publish goes to
the channel, and each gateway runs one bridge task that feeds the channel into its local
fan-out. Without Redis, subscriptions still converge by re-reading the job row periodically.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

from app.config import Settings
from app.domain.runtime import JobEvent

log = logging.getLogger(__name__)


class _Subscriber:
    def __init__(self, loop: asyncio.AbstractEventLoop, maxsize: int) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[JobEvent] = asyncio.Queue(maxsize)

    def offer(self, event: JobEvent) -> None:
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(event)


class EventBus:
    def __init__(
        self, redis_url: str | None = None, channel: str = "exports", queue_size: int = 256
    ) -> None:
        self._subscribers: set[_Subscriber] = set()
        self._lock = threading.Lock()
        self._queue_size = queue_size
        self.redis_url = redis_url
        self.channel = f"{channel}:job-events"
        self._redis: Any = None

    @property
    def crosses_processes(self) -> bool:
        return self.redis_url is not None

    def publish(self, event: JobEvent) -> None:
        """Callable from any thread. A lost event only delays subscribers (they re-read)."""
        url = self.redis_url
        if url is None:
            self.deliver_locally(event)
            return
        try:
            self._redis_client(url).publish(self.channel, json.dumps(asdict(event)))
        except Exception:
            log.warning("could not publish job event to Redis; delivering locally", exc_info=True)
            self.deliver_locally(event)

    def _redis_client(self, url: str) -> Any:
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(url, socket_timeout=2)
        return self._redis

    def deliver_locally(self, event: JobEvent) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber.loop.call_soon_threadsafe(subscriber.offer, event)
            except RuntimeError:  # that subscriber's loop is closed
                with self._lock:
                    self._subscribers.discard(subscriber)

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
        """Gateway side: feed the Redis channel into local subscribers, reconnecting on error."""
        url = self.redis_url
        if url is None:
            return
        import redis.asyncio as aioredis

        while True:
            client = aioredis.Redis.from_url(url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self.deliver_locally(JobEvent(**json.loads(message["data"])))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("job event bridge lost Redis; reconnecting", exc_info=True)
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()


def build_event_bus(settings: Settings) -> EventBus:
    return EventBus(settings.resolved_events_url, settings.queue_name)
