"""Workspaces, API keys and roles. Keys are random, shown once, and stored as SHA-256 hashes;
each has a role, and an optional expiry.

Roles, each allowing what the one before allows:
- VIEWER reads the catalog, jobs and schemas, follows jobs and downloads files;
- MEMBER also creates, cancels and deletes exports and export schemas;
- ADMIN also manages the workspace's keys and settings, and registers instruments and
  datastreams in the catalog (which every workspace shares).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.db.models import ApiKeyRow, WorkspaceRow
from app.domain.errors import DomainError, ErrorCode, Problem
from app.ids import new_id
from engine.timestamps import now_ns

KEY_PREFIX = "egw_"
PREFIX_SHOWN = 12  # "egw_" and 8 characters of the secret: enough to tell keys apart
LAST_USED_EVERY_NS = 60 * 10**9  # last use is written at most once a minute per key


class Role(str, Enum):
    VIEWER = "VIEWER"
    MEMBER = "MEMBER"
    ADMIN = "ADMIN"

    def allows(self, needed: Role) -> bool:
        order = (Role.VIEWER, Role.MEMBER, Role.ADMIN)
        return order.index(self) >= order.index(needed)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key, its role and the workspace it belongs to."""

    workspace_id: str
    api_key_id: str
    role: Role = Role.ADMIN
    # The workspace's own rate limits; None: the gateway's defaults.
    requests_per_minute: int | None = None
    query_cost_per_minute: int | None = None


def require(who: Principal, needed: Role, field: tuple[str, ...] = ()) -> None:
    """A command's first line: FORBIDDEN unless the caller's role allows `needed`."""
    if not who.role.allows(needed):
        raise DomainError(
            [
                Problem(
                    ErrorCode.FORBIDDEN,
                    field,
                    f"this needs the {needed.value} role; this key is a {who.role.value} key",
                )
            ]
        )


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_workspace(session: Session, name: str) -> WorkspaceRow:
    workspace = WorkspaceRow(id=new_id("workspace"), name=name, created_at=now_ns())
    session.add(workspace)
    session.flush()
    return workspace


def new_key(
    workspace_id: str, name: str, role: Role, expires_at: int | None = None
) -> tuple[ApiKeyRow, str]:
    """A key row (to add to a session) and its secret token, which is not kept anywhere."""
    token = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKeyRow(
        id=new_id("api_key"),
        workspace_id=workspace_id,
        name=name,
        key_hash=hash_key(token),
        created_at=now_ns(),
        role=role.value,
        token_prefix=token[:PREFIX_SHOWN],
        expires_at=expires_at,
    )
    return key, token


def create_api_key(
    session: Session, workspace_id: str, name: str, role: Role = Role.ADMIN
) -> tuple[ApiKeyRow, str]:
    """For the CLI, which bootstraps a workspace's first (admin) key."""
    key, token = new_key(workspace_id, name, role)
    session.add(key)
    session.flush()
    return key, token


def find_workspace(session: Session, name: str) -> WorkspaceRow | None:
    return session.scalars(select(WorkspaceRow).where(WorkspaceRow.name == name)).first()


@dataclass(frozen=True)
class _Remembered:
    principal: Principal
    key_expires_at: int | None
    until: float  # time.monotonic() after which the database is asked again


class PrincipalCache:
    """Live keys' callers, by key hash, for `seconds`: a dashboard polling every second
    would otherwise cost a query (and a trip through the database driver's thread) per
    request before any work. Only live keys are remembered (an unknown key is looked up every
    time, so a key created a moment ago works at once). A change made through this cache's
    runtime (a key revoked, a workspace's limits changed) forgets what it touches when it
    commits; one made by another process (another gateway) is seen within `seconds`, the
    bound the README documents. One per runtime: each database has its own keys."""

    MAX_ENTRIES = 10_000

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self._entries: dict[str, _Remembered] = {}
        self._lock = threading.Lock()
        # Bumped by every forget: a lookup that started before a change must not put back
        # what the change made stale.
        self.generation = 0

    def remembered(self, token: str | None) -> Principal | None:
        """The caller of a key looked up a moment ago, or None (then ask `authenticate`)."""
        if self.seconds <= 0 or not token or len(token) > 256:
            return None
        key_hash = hash_key(token)
        found = self._entries.get(key_hash)
        if found is None:
            return None
        if found.until <= time.monotonic() or (
            found.key_expires_at is not None and found.key_expires_at <= now_ns()
        ):
            self._entries.pop(key_hash, None)
            return None
        return found.principal

    def _put(
        self, key_hash: str, principal: Principal, key_expires_at: int | None, generation: int
    ) -> None:
        if self.seconds <= 0:
            return
        with self._lock:
            if generation != self.generation:
                return
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()  # a flood of distinct keys: start over, never grow
            self._entries[key_hash] = _Remembered(
                principal, key_expires_at, time.monotonic() + self.seconds
            )

    def forget(self, *, api_key_id: str | None = None, workspace_id: str | None = None) -> None:
        """After a change to a key or a workspace has committed."""
        with self._lock:
            self.generation += 1
            self._entries = {
                key_hash: entry
                for key_hash, entry in self._entries.items()
                if entry.principal.api_key_id != api_key_id
                and entry.principal.workspace_id != workspace_id
            }


async def authenticate(
    session: AsyncSession, token: str | None, cache: PrincipalCache | None = None
) -> Principal | None:
    """The caller of a live key (not revoked, not expired), from the database; notes its
    last use (at most once a minute). `cache` remembers it (see `PrincipalCache`)."""
    if not token or len(token) > 256:
        return None
    now = now_ns()
    key_hash = hash_key(token)
    generation = cache.generation if cache is not None else 0
    found = (
        await session.execute(
            select(ApiKeyRow, WorkspaceRow)
            .join(WorkspaceRow, WorkspaceRow.id == ApiKeyRow.workspace_id)
            .where(ApiKeyRow.key_hash == key_hash, ApiKeyRow.revoked_at.is_(None))
        )
    ).first()
    if found is None:
        return None
    key, workspace = found
    if key.expires_at is not None and key.expires_at <= now:
        return None
    if key.last_used_at is None or key.last_used_at < now - LAST_USED_EVERY_NS:
        await session.execute(
            update(ApiKeyRow).where(ApiKeyRow.id == key.id).values(last_used_at=now)
        )
        await session.commit()
    principal = Principal(
        key.workspace_id,
        key.id,
        Role(key.role),
        workspace.requests_per_minute,
        workspace.query_cost_per_minute,
    )
    if cache is not None:
        cache._put(key_hash, principal, key.expires_at, generation)
    return principal
