"""`/healthz` (liveness: the process answers and reaches its database) and `/readyz`
(readiness: every dependency a request may need answers, each named, with its latency;
in embedded mode, the worker process the gateway supervises runs).

Both answer 200 or 503 with a JSON body a load balancer or an operator can read; every check
has a deadline, so a dependency that hangs makes the answer 503, never slow."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse

from app.config import Settings
from app.domain.runtime import Runtime
from app.storage import storage_for

CHECK_SECONDS = 2.0


async def healthz(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    checks = await _run({"database": lambda: _database(runtime)})
    return _answer(checks, ok="ok")


async def readyz(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    wanted: dict[str, Callable[[], Awaitable[None]]] = {
        "database": lambda: _database(runtime),
        "storage": lambda: asyncio.to_thread(_storage, settings),
    }
    if not settings.embedded_broker:
        wanted["broker"] = lambda: _reachable(settings.broker_url)
    supervisor = getattr(request.app.state, "supervisor", None)
    if supervisor is not None:  # embedded mode's worker process: between restarts, not ready
        wanted["workers"] = lambda: _worker_process(supervisor.pid)
    events = settings.resolved_events_url
    if events is not None and events != settings.broker_url:
        wanted["events"] = lambda: _reachable(events)
    return _answer(await _run(wanted), ok="ready")


async def _run(wanted: dict[str, Callable[[], Awaitable[None]]]) -> dict[str, dict[str, Any]]:
    async def one(check: Callable[[], Awaitable[None]]) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(check(), CHECK_SECONDS)
        except TimeoutError:
            return {"ok": False, "error": f"no answer within {CHECK_SECONDS:g} s"}
        except Exception as exc:  # what is wrong is the answer
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}

    results = await asyncio.gather(*(one(check) for check in wanted.values()))
    return dict(zip(wanted, results, strict=True))


def _answer(checks: dict[str, dict[str, Any]], ok: str) -> JSONResponse:
    healthy = all(c["ok"] for c in checks.values())
    body = {"status": ok if healthy else "unavailable", "checks": checks}
    return JSONResponse(body, status_code=200 if healthy else 503)


async def _database(runtime: Runtime) -> None:
    async with runtime.sessions() as session:
        await session.execute(text("SELECT 1"))


def _storage(settings: Settings) -> None:
    """The storage directory takes a file (exists, writable, not full), or the bucket exists."""
    storage_for(settings).check_writable()


async def _worker_process(pid: int | None) -> None:
    if pid is None:
        raise RuntimeError("the worker process is not running (being restarted)")


async def _reachable(url: str) -> None:
    """Redis answers PING; another broker (AMQP) accepts a TCP connection."""
    if url.startswith(("redis://", "rediss://")):
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(url, socket_timeout=CHECK_SECONDS)
        try:
            await client.ping()
        finally:
            await client.aclose()
        return
    parts = urlsplit(url)
    _reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 5672)
    writer.close()
    await writer.wait_closed()
