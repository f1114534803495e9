"""Engines and sessions: async for the gateway, blocking for workers and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import orjson
from sqlalchemy import CursorResult, Engine, Result, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker

from app import tracing
from app.config import Settings


def _json_loads(text: str | bytes) -> Any:
    """JSON columns (a job's schema snapshot and options: two decodes per listed job) with
    orjson, at half json's cost; what orjson refuses (integers past 64 bits) json reads."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the gateway read while a worker writes; busy_timeout waits instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite") and ":///" in url:
        Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)


def make_async_engine(settings: Settings) -> AsyncEngine:
    engine = _make_async_engine(settings)
    if tracing.enabled_for(settings):
        tracing.trace_engine(engine.sync_engine)
    return engine


def _make_async_engine(settings: Settings) -> AsyncEngine:
    url = settings.async_database_url
    _ensure_sqlite_dir(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, connect_args={"timeout": 30}, json_deserializer=_json_loads
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,  # a connection the server dropped is replaced, not used
        pool_timeout=settings.database_timeout_seconds,
        connect_args={"timeout": settings.database_timeout_seconds},  # asyncpg's
        json_deserializer=_json_loads,
    )


def make_sync_engine(settings: Settings) -> Engine:
    engine = _make_sync_engine(settings)
    if tracing.enabled_for(settings):
        tracing.trace_engine(engine)
    return engine


def _make_sync_engine(settings: Settings) -> Engine:
    url = settings.sync_database_url
    _ensure_sqlite_dir(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        pool_timeout=settings.database_timeout_seconds,
        connect_args={"connect_timeout": max(1, round(settings.database_timeout_seconds))},
    )


def make_async_sessions(settings: Settings) -> async_sessionmaker[AsyncSession]:
    """Sessions for the gateway's event loop. Each call makes its own engine (and pool): a
    composition root calls it once and hands the result to whatever needs it."""
    return async_sessionmaker(make_async_engine(settings), expire_on_commit=False)


def make_sync_sessions(settings: Settings) -> sessionmaker[Session]:
    """Blocking sessions for worker threads and processes, and the CLI."""
    return sessionmaker(make_sync_engine(settings), expire_on_commit=False)


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed: conditional updates decide on it."""
    return int(cast(CursorResult[Any], result).rowcount)


# SQLSTATE classes of a server that cannot serve now: 08 (connection exceptions) and 57P
# (shut down by an operator or a crash, or starting up: "not yet accepting connections").
UNAVAILABLE_SQLSTATES = ("08", "57P")


def is_unavailable(error: BaseException | None) -> bool:
    """The database could not be reached or answered in time (down, restarting, locked, its
    pool exhausted): worth retrying shortly, and never the client's fault or a bug."""
    while error is not None:
        if isinstance(
            error,
            sa_exc.OperationalError
            | sa_exc.InterfaceError
            | sa_exc.TimeoutError
            | ConnectionError
            | TimeoutError,
        ):
            return True
        if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
            return True
        if str(getattr(error, "sqlstate", None) or "").startswith(UNAVAILABLE_SQLSTATES):
            return True  # a driver's own error (asyncpg's are not OperationalErrors)
        driver_error = error.orig if isinstance(error, sa_exc.DBAPIError) else None
        error = error.__cause__ or error.__context__ or driver_error
    return False
