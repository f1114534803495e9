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


async def authenticate(session: AsyncSession, token: str | None) -> Principal | None:
    """The caller of a live key (not revoked, not expired); notes its last use."""
    if not token or len(token) > 256:
        return None
    now = now_ns()
    found = (
        await session.execute(
            select(ApiKeyRow, WorkspaceRow)
            .join(WorkspaceRow, WorkspaceRow.id == ApiKeyRow.workspace_id)
            .where(ApiKeyRow.key_hash == hash_key(token), ApiKeyRow.revoked_at.is_(None))
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
    return Principal(
        key.workspace_id,
        key.id,
        Role(key.role),
        workspace.requests_per_minute,
        workspace.query_cost_per_minute,
    )
