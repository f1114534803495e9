"""API keys: expiry, revocation and last use as authentication sees them; roles as commands
check them."""

from __future__ import annotations

import pytest

from app.domain import api_keys
from app.domain.auth import LAST_USED_EVERY_NS, Role, authenticate, new_key
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
        await api_keys.revoke_key(session, alpha, live.id)
        assert await authenticate(session, live_token) is None


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
