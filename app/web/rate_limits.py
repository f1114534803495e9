"""Per-key rate limits: requests per minute and query cost per minute, each a sliding window
(the `limits` library's sliding window counter: a token bucket's behaviour without its
state), in process memory for one gateway, or in Redis so that every gateway shares them.

A workspace may set its own limits; otherwise the gateway's defaults apply."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from redis.asyncio import ConnectionPool

from app.config import Settings

WINDOW_SECONDS = 60  # both limits are per minute


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int  # of the tightest limit (requests or cost)
    remaining: int
    reset_seconds: int  # until the window frees enough for this request
    retry_after: int | None  # whole seconds, when refused


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        url = settings.resolved_rate_limit_url
        storage: Storage = MemoryStorage()
        self._pool: ConnectionPool | None = None
        if url:
            # Our own pool, so that shutting down closes its connections.
            self._pool = ConnectionPool.from_url(url, socket_timeout=2)
            storage = RedisStorage(
                "async+" + url,
                implementation="redispy",
                connection_pool=self._pool,  # type: ignore[arg-type]  # documented by limits
            )
        self.strategy = SlidingWindowCounterRateLimiter(storage)
        self.namespace = settings.queue_name

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()

    async def admit(
        self,
        key_id: str,
        cost: int,
        requests_per_minute: int | None,
        cost_per_minute: int | None,
    ) -> Decision:
        """Count one request and `cost` against the key's two windows; refused if either is
        full. A refused request still counts as a request (a client that keeps retrying
        stays limited); its cost is not spent."""
        requests = RateLimitItemPerMinute(
            requests_per_minute or self.settings.rate_limit_requests_per_minute,
            namespace=f"{self.namespace}:requests",
        )
        spend = RateLimitItemPerMinute(
            cost_per_minute or self.settings.rate_limit_query_cost_per_minute,
            namespace=f"{self.namespace}:cost",
        )
        cost = max(1, min(cost, spend.amount))
        allowed = await self.strategy.hit(requests, key_id)
        reported = requests
        if allowed and not await self.strategy.hit(spend, key_id, cost=cost):
            allowed, reported = False, spend
        stats = await self.strategy.get_window_stats(reported, key_id)
        reset = max(1, math.ceil(stats.reset_time - time.time()))
        return Decision(
            allowed, reported.amount, stats.remaining, reset, None if allowed else reset
        )
