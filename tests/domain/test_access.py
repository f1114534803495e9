"""API keys: expiry, revocation and last use as authentication sees them, through the cache
of callers too; roles as commands check them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.domain import api_keys
from app.domain.auth import LAST_USED_EVERY_NS, PrincipalCache, Role, authenticate, new_key
from app.domain.errors import DomainError, ErrorCode
from app.domain.exports import commands
from app.domain.runtime import Runtime
from engine.timestamps import now_ns
from tests.domain.helpers import export_request
from tests.helpers.inprocess import Seed


async def test_expired_and_revoked_keys_do_not_authenticate(runtime: Runtime, seed: Seed) -> None:
    alpha = seed.principals["alpha"]
    async with runtime.sessions() as session:
        expired, expired_token = new_key(alpha.workspace_id, "old", Role.ADMIN, now_ns() - 1)
        live, live_token = new_key(alpha.workspace_id, "new", Role.VIEWER, now_ns() + 10**12)
        session.add_all([expired, live])
        await session.commit()
        assert await authenticate(session, expired_token) is None
        who = await authenticate(session, live_token)
        assert who is not None and who.role is Role.VIEWER
        await api_keys.revoke_key(session, alpha, live.id, PrincipalCache())
        assert await authenticate(session, live_token) is None


async def test_a_revoked_key_is_refused_at_once_by_the_cache_that_revoked_it(
    runtime: Runtime, seed: Seed
) -> None:
    alpha = seed.principals["alpha"]
    cache = PrincipalCache(seconds=3600)
    async with runtime.sessions() as session:
        key, token = new_key(alpha.workspace_id, "polling", Role.VIEWER)
        session.add(key)
        await session.commit()
        assert cache.remembered(token) is None  # never looked up
        who = await authenticate(session, token, cache)
        assert who is not None and cache.remembered(token) == who
        await api_keys.revoke_key(session, alpha, key.id, cache)
        assert cache.remembered(token) is None
        assert await authenticate(session, token, cache) is None


async def test_changed_limits_are_seen_at_once_by_the_cache_that_changed_them(
    runtime: Runtime, seed: Seed
) -> None:
    alpha, token = seed.principals["alpha"], seed.keys["alpha"]
    cache = PrincipalCache(seconds=3600)
    async with runtime.sessions() as session:
        assert await authenticate(session, token, cache) is not None
        await api_keys.update_rate_limits(session, alpha, 7, None, cache)
        assert cache.remembered(token) is None
        who = await authenticate(session, token, cache)
        assert who is not None and who.requests_per_minute == 7


async def test_another_gateway_refuses_a_revoked_key_once_its_cache_seconds_pass(
    runtime: Runtime, seed: Seed
) -> None:
    alpha = seed.principals["alpha"]
    here, there = PrincipalCache(seconds=3600), PrincipalCache(seconds=0.05)
    async with runtime.sessions() as session:
        key, token = new_key(alpha.workspace_id, "polling", Role.VIEWER)
        session.add(key)
        await session.commit()
        assert await authenticate(session, token, there) is not None
        await api_keys.revoke_key(session, alpha, key.id, here)
        await asyncio.sleep(0.1)  # past the other gateway's bound
        assert there.remembered(token) is None
        assert await authenticate(session, token, there) is None


async def test_a_lookup_that_raced_a_revocation_is_not_remembered(
    runtime: Runtime, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request that read the key just before it was revoked answers as it found it, but
    leaves nothing behind for the next request."""
    alpha = seed.principals["alpha"]
    cache = PrincipalCache(seconds=3600)
    async with runtime.sessions() as session, runtime.sessions() as other:
        key, token = new_key(alpha.workspace_id, "polling", Role.VIEWER)
        session.add(key)
        await session.commit()
        revoked = False

        async def revoke_during_lookup(*_args: object) -> None:
            nonlocal revoked
            if not revoked:
                revoked = True
                await api_keys.revoke_key(other, alpha, key.id, cache)

        original = session.execute

        async def execute(*args: Any, **kwargs: Any) -> Any:
            result = await original(*args, **kwargs)
            await revoke_during_lookup()
            return result

        monkeypatch.setattr(session, "execute", execute)
        assert await authenticate(session, token, cache) is not None
        assert revoked and cache.remembered(token) is None


async def test_last_use_is_written_at_most_once_a_minute(runtime: Runtime, seed: Seed) -> None:
    token = seed.keys["alpha"]
    async with runtime.sessions() as session:
        await authenticate(session, token)
        key = await api_keys.caller_key(session, seed.principals["alpha"])
        first = key.last_used_at
        assert first is not None
        await authenticate(session, token)
        await session.refresh(key)
        assert key.last_used_at == first
        key.last_used_at = first - LAST_USED_EVERY_NS - 1
        await session.commit()
        await authenticate(session, token)
        await session.refresh(key)
        assert key.last_used_at is not None and key.last_used_at > first


async def test_a_viewer_cannot_create_an_export(runtime: Runtime, seed: Seed) -> None:
    with pytest.raises(DomainError) as raised:
        await commands.create_export(runtime, seed.principals["alpha-viewer"], export_request())
    assert [p.code for p in raised.value.errors] == [ErrorCode.FORBIDDEN]
