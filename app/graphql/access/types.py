"""GraphQL types of workspaces, API keys and roles."""

from __future__ import annotations

from enum import Enum

import strawberry

from app.db import models
from app.graphql.errors import UserError
from app.graphql.relay import Node
from app.graphql.scalars import Timestamp


@strawberry.enum(description="What a key may do; each role allows what the one before allows.")
class ApiKeyRole(Enum):
    VIEWER = strawberry.enum_value(
        "VIEWER", description="Read the catalog, jobs and schemas; follow jobs; download files."
    )
    MEMBER = strawberry.enum_value(
        "MEMBER", description="Also create, cancel and delete exports and export schemas."
    )
    ADMIN = strawberry.enum_value(
        "ADMIN",
        description="Also manage the workspace's API keys and settings, and register "
        "instruments and datastreams in the catalog.",
    )


@strawberry.type(description="An API key of your workspace (never its secret).")
class ApiKey(Node):
    name: str = strawberry.field(description="What it is for, e.g. `dashboard`.")
    role: ApiKeyRole = strawberry.field(description="What it may do.")
    prefix: str | None = strawberry.field(
        description="The first characters of its token, to tell keys apart (e.g. `egw_AbC1dE2f`)."
    )
    created_at: Timestamp = strawberry.field(description="When it was created.")
    last_used_at: Timestamp | None = strawberry.field(
        description="When it was last used (to the minute); null if never."
    )
    expires_at: Timestamp | None = strawberry.field(
        description="When it stops working; null if it does not expire."
    )
    revoked_at: Timestamp | None = strawberry.field(
        description="When it was revoked; null if it is live."
    )

    @classmethod
    def from_row(cls, row: models.ApiKeyRow) -> ApiKey:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            role=ApiKeyRole(row.role),
            prefix=row.token_prefix,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
        )


@strawberry.type(description="A workspace: its jobs, schemas and keys belong to it.")
class Workspace:
    id: strawberry.ID = strawberry.field(description="`wsp_...`.")
    name: str = strawberry.field(description="Its name.")
    requests_per_minute: int | None = strawberry.field(
        description="Requests each of its keys may make per minute; null: the gateway's default."
    )
    query_cost_per_minute: int | None = strawberry.field(
        description="Query cost each of its keys may spend per minute; null: the default."
    )

    @classmethod
    def from_row(cls, row: models.WorkspaceRow) -> Workspace:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            requests_per_minute=row.requests_per_minute,
            query_cost_per_minute=row.query_cost_per_minute,
        )


@strawberry.type(description="The caller: the key this request was made with, and its workspace.")
class Viewer:
    workspace: Workspace = strawberry.field(description="The key's workspace.")
    api_key: ApiKey = strawberry.field(description="The key itself.")


@strawberry.type(description="Result of createApiKey.")
class CreateApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(default=None, description="The new key.")
    token: str | None = strawberry.field(
        default=None,
        description="The key's secret, shown this once: send it as X-Api-Key. Only its hash "
        "is stored.",
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why no key was created."
    )


@strawberry.type(description="Result of revokeApiKey.")
class RevokeApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(default=None, description="The key, revoked.")
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why it was not revoked."
    )


@strawberry.type(description="Result of updateWorkspaceSettings.")
class UpdateWorkspaceSettingsPayload:
    workspace: Workspace | None = strawberry.field(
        default=None, description="The workspace with its new settings."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was changed."
    )
