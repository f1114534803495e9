"""Per-key rate limits: requests per minute and query cost per minute, each a sliding window
(the `limits` library's sliding window counter: a token bucket's behaviour without its
state), in process memory for one gateway, or in Redis so that every gateway shares them.
While that Redis is unreachable each gateway counts alone, in memory, rather than refuse
every request; it tries Redis again after `SHARED_RETRY_SECONDS`.

A workspace may set its own limits; otherwise the gateway's defaults apply."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from redis.asyncio import ConnectionPool

from app.config import Settings

log = logging.getLogger(__name__)
# After the shared store failed, how long a gateway counts alone before it tries again (a
# dead Redis would otherwise cost every request a failed connection).
SHARED_RETRY_SECONDS = 5.0
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
                wrap_exceptions=True,  # any failure of the store is a StorageError
                connection_pool=self._pool,  # type: ignore[arg-type]  # documented by limits
            )
        self.strategy = SlidingWindowCounterRateLimiter(storage)
        # This gateway's own windows, for when the shared store cannot be reached.
        self.local = (
            SlidingWindowCounterRateLimiter(MemoryStorage()) if url is not None else self.strategy
        )
        self._shared_retry_at = 0.0  # monotonic time before which the shared store is skipped
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
        if self.local is not self.strategy and time.monotonic() >= self._shared_retry_at:
            try:
                return await self._admit(self.strategy, key_id, requests, spend, cost)
            except StorageError as exc:
                log.warning(
                    "rate limits: the shared store is unreachable (%s); counting in this "
                    "gateway for %g s",
                    exc.storage_error,
                    SHARED_RETRY_SECONDS,
                )
                self._shared_retry_at = time.monotonic() + SHARED_RETRY_SECONDS
        return await self._admit(self.local, key_id, requests, spend, cost)

    @staticmethod
    async def _admit(
        strategy: SlidingWindowCounterRateLimiter,
        key_id: str,
        requests: RateLimitItemPerMinute,
        spend: RateLimitItemPerMinute,
        cost: int,
    ) -> Decision:
        allowed = await strategy.hit(requests, key_id)
        reported = requests
        if allowed and not await strategy.hit(spend, key_id, cost=cost):
            allowed, reported = False, spend
        stats = await strategy.get_window_stats(reported, key_id)
        reset = max(1, math.ceil(stats.reset_time - time.time()))
        return Decision(
            allowed, reported.amount, stats.remaining, reset, None if allowed else reset
        )
