"""Job-status events for subscriptions.

An event only says "job X changed"; subscribers re-read the job row, which is the truth.
Publishers may be worker threads (sync), subscribers are asyncio tasks: delivery crosses
threads with `call_soon_threadsafe`. Each subscriber has its own bounded queue, and a full
queue drops the oldest notice (the next one carries the same news), so a slow subscriber
never slows a worker or the other subscribers.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class JobEvent:
    job_id: str
    workspace_id: str
    status: str


class _Subscriber:
    def __init__(self, loop: asyncio.AbstractEventLoop, maxsize: int) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[JobEvent] = asyncio.Queue(maxsize)

    def offer(self, event: JobEvent) -> None:
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(event)


class InProcessEventBus:
    def __init__(self, queue_size: int = 256) -> None:
        self._subscribers: set[_Subscriber] = set()
        self._lock = threading.Lock()
        self._queue_size = queue_size

    def publish(self, event: JobEvent) -> None:
        """Callable from any thread."""
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


_bus = InProcessEventBus()


def get_event_bus() -> InProcessEventBus:
    return _bus
