"""The caller (`viewer`), and for admins: API keys and workspace settings."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.domain import api_keys
from app.domain.auth import Role
from app.domain.errors import DomainError
from app.graphql.access.inputs import (
    CreateApiKeyInput,
    RevokeApiKeyInput,
    UpdateWorkspaceSettingsInput,
)
from app.graphql.access.types import (
    ApiKey,
    CreateApiKeyPayload,
    RevokeApiKeyPayload,
    UpdateWorkspaceSettingsPayload,
    Viewer,
    Workspace,
)
from app.graphql.context import Info, authenticated
from app.graphql.errors import ApiError, guarded
from app.graphql.relay import After, Connection, First, id_cursor, page_connection, page_size


async def _created(info: Info, input: CreateApiKeyInput) -> CreateApiKeyPayload:
    async with info.context.sessions() as session:
        created = await api_keys.create_key(
            session, info.context.caller, input.name, Role(input.role.value), input.expires_at
        )
    return CreateApiKeyPayload(api_key=ApiKey.from_row(created.key), token=created.token)


async def _revoked(info: Info, key_id: str) -> RevokeApiKeyPayload:
    async with info.context.sessions() as session:
        key = await api_keys.revoke_key(
            session, info.context.caller, key_id, info.context.runtime.principals
        )
    return RevokeApiKeyPayload(api_key=ApiKey.from_row(key))


async def _updated(
    info: Info, input: UpdateWorkspaceSettingsInput
) -> UpdateWorkspaceSettingsPayload:
    async with info.context.sessions() as session:
        workspace = await api_keys.update_rate_limits(
            session,
            info.context.caller,
            input.requests_per_minute,
            input.query_cost_per_minute,
            info.context.runtime.principals,
        )
    return UpdateWorkspaceSettingsPayload(workspace=Workspace.from_row(workspace))


@strawberry.type(description="Who is calling, and the workspace's keys.")
class AccessQuery:
    @authenticated(description="The key this request was made with, and its workspace.")
    async def viewer(self, info: Info) -> Viewer:
        who = info.context.caller
        async with info.context.sessions() as session:
            workspace = await api_keys.get_workspace(session, who)
            key = await api_keys.caller_key(session, who)
        return Viewer(workspace=Workspace.from_row(workspace), api_key=ApiKey.from_row(key))

    @authenticated(description="The workspace's API keys, oldest first (ADMIN only).")
    async def api_keys(
        self,
        info: Info,
        include_revoked: Annotated[
            bool, strawberry.argument(description="Also list revoked keys.")
        ] = False,
        first: First = None,
        after: After = None,
    ) -> Connection[ApiKey]:
        limit = page_size(info, first)
        after_id = id_cursor(after, "key")
        try:
            async with info.context.sessions() as session:
                rows, total = await api_keys.list_keys(
                    session,
                    info.context.caller,
                    include_revoked=include_revoked,
                    after_id=after_id,
                    limit=limit + 1,
                )
        except DomainError as exc:
            raise ApiError.from_domain(exc) from None
        return page_connection(rows, limit, after, total, ApiKey.from_row, lambda r: r.id)


@strawberry.type(description="Manage the workspace's API keys and settings (ADMIN only).")
class AccessMutation:
    @authenticated(description="Create an API key; its token is in the payload, this once.")
    async def create_api_key(
        self,
        info: Info,
        input: Annotated[CreateApiKeyInput, strawberry.argument(description="The new key.")],
    ) -> CreateApiKeyPayload:
        return await guarded(CreateApiKeyPayload, _created(info, input))

    @authenticated(description="Revoke a key: its next request is UNAUTHENTICATED.")
    async def revoke_api_key(
        self,
        info: Info,
        input: Annotated[RevokeApiKeyInput, strawberry.argument(description="Which key.")],
    ) -> RevokeApiKeyPayload:
        return await guarded(RevokeApiKeyPayload, _revoked(info, str(input.id)))

    @authenticated(description="Change the workspace's per-key rate limits.")
    async def update_workspace_settings(
        self,
        info: Info,
        input: Annotated[
            UpdateWorkspaceSettingsInput, strawberry.argument(description="The new settings.")
        ],
    ) -> UpdateWorkspaceSettingsPayload:
        return await guarded(UpdateWorkspaceSettingsPayload, _updated(info, input))
