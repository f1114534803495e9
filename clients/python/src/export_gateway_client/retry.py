"""When to try a request again, and after how long.

Retried: answers that say the request was not run — `RATE_LIMITED` (GraphQL error or HTTP
429) and `UNAVAILABLE` (HTTP 503) — and connections that could not be opened. The wait is the
gateway's own (`extensions.retryAfter`, else the `Retry-After` header) when it gives one, else
an exponential backoff with jitter; never longer than `max_delay`, and at most `max_attempts`
tries in all. A request whose answer was lost on the way is not retried, as a mutation may have
run: give `create_export` an idempotency key to retry it safely yourself."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRYABLE_CODES = frozenset({"RATE_LIMITED", "UNAVAILABLE"})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5  # tries in all, the first included; 1 never retries
    base_delay: float = 0.5  # seconds before the second try when the gateway names no time
    max_delay: float = 30.0  # the longest single wait, even when the gateway asks for more
    jitter: float = 0.25  # the backoff varies by up to this fraction, so clients spread out

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or not 0 <= self.jitter <= 1:
            raise ValueError("delays must be 0 or more and jitter within [0, 1]")

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number `attempt` (1 for the first)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        backoff = self.base_delay * 2.0 ** (attempt - 1)
        backoff *= 1 + self.jitter * (2 * random.random() - 1)
        return min(backoff, self.max_delay)


NO_RETRY = RetryPolicy(max_attempts=1)


def parse_retry_after(header: str | None, now: datetime | None = None) -> float | None:
    """The `Retry-After` header in seconds: delay-seconds or an HTTP-date (RFC 9110 10.2.3);
    None when absent or malformed."""
    if header is None:
        return None
    text = header.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)
