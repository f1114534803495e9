"""Per-request (or per-WebSocket-connection) context: settings, caller, loaders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection
from strawberry.dataloader import DataLoader
from strawberry.permission import BasePermission

from app.config import Settings
from app.db.models import ExportArtifactRow, ExportJobRow
from app.domain import catalog
from app.domain.auth import Principal, authenticate
from app.domain.exports import queries as export_queries
from app.domain.runtime import Runtime
from app.events import EventBus


@dataclass
class Context:
    request: HTTPConnection
    runtime: Runtime
    bus: EventBus
    principal: Principal | None = None
    # A WebSocket's key that could not be checked when it connected (the database was down).
    unchecked_token: str | None = None
    connection_params: dict[str, Any] | None = None
    response: Any = None
    artifacts: DataLoader[str, list[ExportArtifactRow]] = field(init=False)
    export_jobs: DataLoader[str, ExportJobRow | None] = field(init=False)
    instrument_counts: DataLoader[str, int] = field(init=False)
    instrument_datastreams: DataLoader[int, list[catalog.DatastreamView]] = field(init=False)
    _base_url: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.artifacts = DataLoader(load_fn=self._load_artifacts)
        # A page of schedule runs reads its jobs in one query; not cached (jobs change).
        self.export_jobs = DataLoader(load_fn=self._load_export_jobs, cache=False)
        # Batched but not cached: a WebSocket connection's context lives as long as it does,
        # and the catalog changes.
        self.instrument_counts = DataLoader(load_fn=self._load_instrument_counts, cache=False)
        self.instrument_datastreams = DataLoader(
            load_fn=self._load_instrument_datastreams, cache=False
        )

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.runtime.sessions

    async def _load_artifacts(self, job_ids: list[str]) -> list[list[ExportArtifactRow]]:
        async with self.sessions() as session:
            found = await export_queries.artifacts_for(session, list(job_ids))
        return [found[job_id] for job_id in job_ids]

    async def _load_export_jobs(self, job_ids: list[str]) -> list[ExportJobRow | None]:
        async with self.sessions() as session:
            found = await export_queries.get_exports(session, self.caller, list(job_ids))
        return [found.get(job_id) for job_id in job_ids]

    async def _load_instrument_counts(self, codes: list[str]) -> list[int]:
        async with self.sessions() as session:
            found = await catalog.instrument_counts(session, codes)
        return [found[code] for code in codes]

    async def _load_instrument_datastreams(
        self, instrument_ids: list[int]
    ) -> list[list[catalog.DatastreamView]]:
        async with self.sessions() as session:
            found = await catalog.datastreams_of_instruments(session, instrument_ids)
        return [found[i] for i in instrument_ids]

    @property
    def caller(self) -> Principal:
        assert self.principal is not None, "guarded by IsAuthenticated"
        return self.principal

    def base_url(self) -> str:
        """Where links point; computed once per context (a WebSocket connection asks for it
        on every event its subscriptions send)."""
        if self._base_url is None:
            if self.settings.public_url:
                self._base_url = self.settings.public_url.rstrip("/")
            else:
                base = str(self.request.base_url).rstrip("/")
                self._base_url = base.replace("ws://", "http://", 1).replace(
                    "wss://", "https://", 1
                )
        return self._base_url


class IsAuthenticated(BasePermission):
    message = (
        "A valid API key is required: send it in the X-Api-Key header "
        '(WebSocket: connection_init payload {"apiKey": ...}).'
    )
    error_extensions = {"code": "UNAUTHENTICATED"}

    async def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        context: Context = info.context
        if context.principal is None and context.unchecked_token is not None:
            # Raises while the database is still down: the operation gets UNAVAILABLE.
            async with context.sessions() as session:
                context.principal = await authenticate(session, context.unchecked_token)
            context.unchecked_token = None
        return context.principal is not None


Info = strawberry.Info[Context, None]


Resolver = TypeVar("Resolver", bound=Callable[..., Any])


def authenticated(*, description: str) -> Callable[[Resolver], Resolver]:
    """A resolver that requires an API key. (Strawberry turns the function into a field; to
    type checkers it stays the function it was.)"""
    field = strawberry.field(permission_classes=[IsAuthenticated], description=description)
    return cast(Callable[[Resolver], Resolver], field)


def authenticated_subscription(*, description: str) -> Callable[[Resolver], Resolver]:
    """A subscription that requires an API key (sent in `connection_init`)."""
    field = strawberry.subscription(permission_classes=[IsAuthenticated], description=description)
    return cast(Callable[[Resolver], Resolver], field)


def computed(*, description: str) -> Callable[[Resolver], Resolver]:
    """A field of an object type that is resolved when asked for (e.g. with a loader)."""
    return cast(Callable[[Resolver], Resolver], strawberry.field(description=description))
