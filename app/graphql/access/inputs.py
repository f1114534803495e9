"""GraphQL inputs of key management and workspace settings."""

from __future__ import annotations

import strawberry

from app.graphql.access.types import ApiKeyRole
from app.graphql.scalars import Timestamp


@strawberry.input(description="A new API key.")
class CreateApiKeyInput:
    name: str = strawberry.field(description="What it is for (1 to 200 characters).")
    role: ApiKeyRole = strawberry.field(
        default=ApiKeyRole.MEMBER, description="What it may do; default MEMBER."
    )
    expires_at: Timestamp | None = strawberry.field(
        default=None, description="When it stops working; default never."
    )


@strawberry.input(description="Which key to revoke.")
class RevokeApiKeyInput:
    id: strawberry.ID = strawberry.field(description="`key_...` id.")


@strawberry.input(description="The workspace's settings; null returns one to the default.")
class UpdateWorkspaceSettingsInput:
    requests_per_minute: int | None = strawberry.field(
        default=None, description="Requests per minute per key."
    )
    query_cost_per_minute: int | None = strawberry.field(
        default=None, description="Query cost per minute per key."
    )
