"""Managing a workspace's keys and settings, for its admins: create a key (its token shown
once), list them, revoke one; read and change the workspace's rate limits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ApiKeyRow, WorkspaceRow
from app.domain.auth import Principal, PrincipalCache, Role, new_key, require
from app.domain.errors import DomainError, ErrorCode, Problem, user_error
from engine.timestamps import TimestampError, now_ns, parse_timestamp

MAX_NAME = 200
MAX_KEYS = 1_000  # live keys per workspace


@dataclass(frozen=True)
class NewKey:
    key: ApiKeyRow
    token: str  # shown once: only its hash is stored


async def create_key(
    session: AsyncSession, who: Principal, name: str, role: Role, expires: object
) -> NewKey:
    """`expires` is a timestamp as given (None: never)."""
    require(who, Role.ADMIN, ("input",))
    problems = []
    expires_at = None
    if expires is not None:
        try:
            expires_at = parse_timestamp(expires)
        except TimestampError as exc:
            problems.append(Problem(ErrorCode.INVALID_ARGUMENT, ("input", "expiresAt"), str(exc)))
    if not 1 <= len(name.strip()) <= MAX_NAME:
        problems.append(
            Problem(
                ErrorCode.INVALID_ARGUMENT, ("input", "name"), f"name is 1 to {MAX_NAME} characters"
            )
        )
    if expires_at is not None and expires_at <= now_ns():
        problems.append(
            Problem(ErrorCode.INVALID_ARGUMENT, ("input", "expiresAt"), "expiresAt is in the past")
        )
    live = await session.scalar(
        select(func.count()).where(
            ApiKeyRow.workspace_id == who.workspace_id, ApiKeyRow.revoked_at.is_(None)
        )
    )
    if (live or 0) >= MAX_KEYS:
        problems.append(
            Problem(
                ErrorCode.FAILED_PRECONDITION,
                ("input",),
                f"a workspace has at most {MAX_KEYS:,} live keys",
            )
        )
    if problems:
        raise DomainError(problems)
    key, token = new_key(who.workspace_id, name.strip(), role, expires_at)
    session.add(key)
    await session.commit()
    return NewKey(key, token)


async def list_keys(
    session: AsyncSession,
    who: Principal,
    *,
    include_revoked: bool,
    after_id: str | None,
    limit: int,
) -> tuple[list[ApiKeyRow], int]:
    """Oldest first (ids are time-ordered); keyset pages after `after_id`."""
    require(who, Role.ADMIN)
    query = select(ApiKeyRow).where(ApiKeyRow.workspace_id == who.workspace_id)
    if not include_revoked:
        query = query.where(ApiKeyRow.revoked_at.is_(None))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    if after_id is not None:
        query = query.where(ApiKeyRow.id > after_id)
    rows = await session.scalars(query.order_by(ApiKeyRow.id).limit(limit))
    return list(rows), int(total or 0)


async def revoke_key(
    session: AsyncSession, who: Principal, key_id: str, principals: PrincipalCache
) -> ApiKeyRow:
    """Revoking takes effect at the key's next request (through another gateway, within its
    `principals` cache's seconds); revoking twice is a no-op."""
    require(who, Role.ADMIN, ("input",))
    key = await _own_key(session, who, key_id)
    if key.revoked_at is None:
        await session.execute(
            update(ApiKeyRow).where(ApiKeyRow.id == key.id).values(revoked_at=now_ns())
        )
        await session.commit()
        principals.forget(api_key_id=key.id)
        await session.refresh(key)
    return key


async def _own_key(session: AsyncSession, who: Principal, key_id: str) -> ApiKeyRow:
    key = await session.get(ApiKeyRow, key_id)
    if key is None or key.workspace_id != who.workspace_id:
        raise user_error(ErrorCode.NOT_FOUND, "input.id", f"no API key {key_id[:60]!r}")
    return key


async def caller_key(session: AsyncSession, who: Principal) -> ApiKeyRow:
    key = await session.get(ApiKeyRow, who.api_key_id)
    assert key is not None, "the caller's key exists: it was just authenticated"
    return key


async def get_key(session: AsyncSession, who: Principal, key_id: str) -> ApiKeyRow | None:
    """For admins; anyone else sees no keys (as if there were none)."""
    if not who.role.allows(Role.ADMIN):
        return None
    key = await session.get(ApiKeyRow, key_id)
    return key if key is not None and key.workspace_id == who.workspace_id else None


async def get_workspace(session: AsyncSession, who: Principal) -> WorkspaceRow:
    workspace = await session.get(WorkspaceRow, who.workspace_id)
    assert workspace is not None, "a key's workspace exists"
    return workspace


async def update_rate_limits(
    session: AsyncSession,
    who: Principal,
    requests_per_minute: int | None,
    query_cost_per_minute: int | None,
    principals: PrincipalCache,
) -> WorkspaceRow:
    """Null (or 0) returns a limit to the gateway's default."""
    require(who, Role.ADMIN, ("input",))
    problems = [
        Problem(
            ErrorCode.INVALID_ARGUMENT, ("input", field), f"{field} is 1 to 1,000,000,000 or null"
        )
        for field, value in (
            ("requestsPerMinute", requests_per_minute),
            ("queryCostPerMinute", query_cost_per_minute),
        )
        if value is not None and not 0 <= value <= 1_000_000_000
    ]
    if problems:
        raise DomainError(problems)
    workspace = await get_workspace(session, who)
    workspace.requests_per_minute = requests_per_minute or None
    workspace.query_cost_per_minute = query_cost_per_minute or None
    await session.commit()
    principals.forget(workspace_id=workspace.id)  # its keys' callers carry the limits
    return workspace
