"""The local exchange feed (app/demo/feed.py) for tests that talk to real processes: it runs
on its own event loop in a thread, so a synchronous test can read what it sent."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from app.demo.feed import ExchangeFeed, exchange_feed


@contextmanager
def feed_in_thread() -> Iterator[tuple[ExchangeFeed, asyncio.AbstractEventLoop]]:
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop: asyncio.Event | None = None
    holder: list[ExchangeFeed] = []

    async def serve() -> None:
        nonlocal stop
        stop = asyncio.Event()
        async with exchange_feed() as feed:
            holder.append(feed)
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield holder[0], loop
    finally:
        assert stop is not None
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


def drop_connections(feed: ExchangeFeed, loop: asyncio.AbstractEventLoop) -> None:
    asyncio.run_coroutine_threadsafe(feed.drop(), loop).result(10)
