"""Workspaces and API keys. Keys are random, shown once, and stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.db.models import ApiKeyRow, WorkspaceRow
from app.ids import new_id
from engine.timestamps import now_ns

KEY_PREFIX = "egw_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key and the workspace it belongs to."""

    workspace_id: str
    api_key_id: str


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_workspace(session: Session, name: str) -> WorkspaceRow:
    workspace = WorkspaceRow(id=new_id("workspace"), name=name, created_at=now_ns())
    session.add(workspace)
    session.flush()
    return workspace


def create_api_key(session: Session, workspace_id: str, name: str) -> tuple[ApiKeyRow, str]:
    """Returns the stored key and the secret token, which is not kept anywhere."""
    token = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKeyRow(
        id=new_id("api_key"),
        workspace_id=workspace_id,
        name=name,
        key_hash=hash_key(token),
        created_at=now_ns(),
    )
    session.add(key)
    session.flush()
    return key, token


def find_workspace(session: Session, name: str) -> WorkspaceRow | None:
    return session.scalars(select(WorkspaceRow).where(WorkspaceRow.name == name)).first()


async def authenticate(session: AsyncSession, token: str | None) -> Principal | None:
    if not token:
        return None
    key = (
        await session.scalars(
            select(ApiKeyRow).where(
                ApiKeyRow.key_hash == hash_key(token), ApiKeyRow.revoked_at.is_(None)
            )
        )
    ).first()
    return Principal(key.workspace_id, key.id) if key else None
