"""Collection subscription queries, mutations and the subscription that follows them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from app.db.models import CollectionSubscriptionRow
from app.domain.collection import subscriptions as domain
from app.graphql.collection.inputs import (
    CollectionSubscriptionIdInput,
    CreateCollectionSubscriptionInput,
)
from app.graphql.collection.types import (
    CollectionStatus,
    CollectionSubscription,
    CollectionSubscriptionPayload,
    DeleteCollectionSubscriptionPayload,
)
from app.graphql.context import Info, authenticated, authenticated_subscription
from app.graphql.errors import ApiError, guarded
from app.graphql.relay import After, Connection, First, id_cursor, make_connection, page_size

RECHECK_SECONDS = 5.0  # events are wake-ups; re-reading is the safety net

IdArgument = Annotated[
    CollectionSubscriptionIdInput, strawberry.argument(description="Which subscription.")
]


async def _views(info: Info, rows: list[CollectionSubscriptionRow]) -> list[CollectionSubscription]:
    async with info.context.sessions() as session:
        spans = await domain.spans_of(session, [r.id for r in rows])
    return [CollectionSubscription.from_rows(r, spans[r.id]) for r in rows]


async def _view(info: Info, row: CollectionSubscriptionRow) -> CollectionSubscriptionPayload:
    [view] = await _views(info, [row])
    return CollectionSubscriptionPayload(collection_subscription=view)


async def _created(
    info: Info, input: CreateCollectionSubscriptionInput
) -> CollectionSubscriptionPayload:
    row, _created = await domain.create_subscription(
        info.context.runtime, info.context.caller, input.datastream_id, input.idempotency_key
    )
    return await _view(info, row)


async def _paused(info: Info, subscription_id: str) -> CollectionSubscriptionPayload:
    row = await domain.pause_subscription(
        info.context.runtime, info.context.caller, subscription_id
    )
    return await _view(info, row)


async def _resumed(info: Info, subscription_id: str) -> CollectionSubscriptionPayload:
    row = await domain.resume_subscription(
        info.context.runtime, info.context.caller, subscription_id
    )
    return await _view(info, row)


async def _deleted(info: Info, subscription_id: str) -> DeleteCollectionSubscriptionPayload:
    deleted = await domain.delete_subscription(
        info.context.runtime, info.context.caller, subscription_id
    )
    return DeleteCollectionSubscriptionPayload(deleted_id=strawberry.ID(deleted))


async def one_subscription(info: Info, subscription_id: str) -> CollectionSubscription | None:
    async with info.context.sessions() as session:
        row = await domain.get_subscription(session, info.context.caller, subscription_id)
    return (await _views(info, [row]))[0] if row is not None else None


@strawberry.type(description="Read your collection subscriptions.")
class CollectionQuery:
    @authenticated(description="One of your collection subscriptions; null if not yours.")
    async def collection_subscription(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="`sub_...` id.")],
    ) -> CollectionSubscription | None:
        return await one_subscription(info, str(id))

    @authenticated(description="Your collection subscriptions, oldest first.")
    async def collection_subscriptions(
        self,
        info: Info,
        status: Annotated[
            CollectionStatus | None, strawberry.argument(description="Only in this state.")
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[CollectionSubscription]:
        limit = page_size(info, first)
        after_id = id_cursor(after, "sub")
        async with info.context.sessions() as session:
            rows, total = await domain.list_subscriptions(
                session,
                info.context.caller,
                status=status.name if status else None,
                after_id=after_id,
                limit=limit + 1,
            )
        page = rows[:limit]
        return make_connection(
            await _views(info, page),
            [r.id for r in page],
            total,
            has_next=len(rows) > limit,
            has_previous=after is not None,
        )


@strawberry.type(description="Start, pause, resume and stop collecting datastreams (MEMBER).")
class CollectionMutation:
    @authenticated(
        description="Subscribe your workspace to a datastream: the service starts collecting "
        "it live from the exchange (one connection, shared with other workspaces)."
    )
    async def create_collection_subscription(
        self,
        info: Info,
        input: Annotated[
            CreateCollectionSubscriptionInput, strawberry.argument(description="What to collect.")
        ],
    ) -> CollectionSubscriptionPayload:
        return await guarded(CollectionSubscriptionPayload, _created(info, input))

    @authenticated(description="Stop collecting for this subscription; its open span ends.")
    async def pause_collection_subscription(
        self, info: Info, input: IdArgument
    ) -> CollectionSubscriptionPayload:
        return await guarded(CollectionSubscriptionPayload, _paused(info, str(input.id)))

    @authenticated(description="Collect again (from ERROR too); a new span opens.")
    async def resume_collection_subscription(
        self, info: Info, input: IdArgument
    ) -> CollectionSubscriptionPayload:
        return await guarded(CollectionSubscriptionPayload, _resumed(info, str(input.id)))

    @authenticated(
        description="Delete a subscription and its spans; the records collected stay stored."
    )
    async def delete_collection_subscription(
        self, info: Info, input: IdArgument
    ) -> DeleteCollectionSubscriptionPayload:
        return await guarded(DeleteCollectionSubscriptionPayload, _deleted(info, str(input.id)))


def _state(view: CollectionSubscription) -> tuple[object, ...]:
    return (view.status, view.reason, [(s.started_at, s.ended_at) for s in view.spans])


@strawberry.type(description="Follow collection subscriptions as they change.")
class CollectionSubscriptionUpdates:
    @authenticated_subscription(
        description="A subscription's current state first, then every change of its status "
        "or spans (a span opening or ending); completes when it is deleted."
    )
    async def collection_subscription_updated(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="`sub_...` id.")],
    ) -> AsyncGenerator[CollectionSubscription, None]:
        async with info.context.bus.subscribe() as events:
            current = await one_subscription(info, str(id))
            if current is None:
                raise ApiError(f"no collection subscription {str(id)[:60]}", "NOT_FOUND")
            yield current
            last = _state(current)
            while True:
                with contextlib.suppress(TimeoutError):
                    event = await asyncio.wait_for(events.get(), RECHECK_SECONDS)
                    if event.job_id != current.id:
                        continue
                fresh = await one_subscription(info, str(id))
                if fresh is None:
                    return  # deleted
                if _state(fresh) != last:
                    last = _state(fresh)
                    yield fresh
