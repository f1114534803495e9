"""Collection subscriptions, as a workspace sees them: subscribe to a datastream (the service
starts collecting it live), pause, resume, delete; read them with their spans, the time ranges
during which the datastream was actually being collected for them.

Collection of a datastream is shared: every ACTIVE subscription to it is served by one
connection, which stops when the last one pauses or is deleted."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import CollectionSpanRow, CollectionSubscriptionRow, DatastreamRow
from app.domain.auth import Principal, Role, require
from app.domain.errors import DomainError, ErrorCode, Problem, user_error
from app.domain.exports.requests import parse_datastream_id
from app.domain.runtime import JobEvent, Runtime
from app.ids import new_id
from engine.timestamps import now_ns


class SubscriptionStatus(str, Enum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    ERROR = "ERROR"  # the feed cannot be collected; `reason` says why


class SpanEnd(str, Enum):
    PAUSED = "PAUSED"
    DISCONNECTED = "DISCONNECTED"  # the feed dropped; a reconnect opens a new span
    COLLECTOR_LOST = "COLLECTOR_LOST"  # its collector stopped renewing its lease
    STOPPED = "STOPPED"  # the collector shut down cleanly
    ERROR = "ERROR"


@dataclass(frozen=True)
class SubscriptionView:
    subscription: CollectionSubscriptionRow
    spans: list[CollectionSpanRow]


def announce(runtime: Runtime, subscription: CollectionSubscriptionRow, status: str) -> None:
    runtime.effects.publish(
        JobEvent(subscription.id, subscription.workspace_id, status, kind="collection")
    )


async def create_subscription(
    runtime: Runtime, who: Principal, datastream: object, idempotency_key: str | None
) -> tuple[CollectionSubscriptionRow, bool]:
    """(subscription, created). The same key returns the same subscription; a second one to
    a datastream the workspace already subscribes to is a CONFLICT naming it."""
    require(who, Role.MEMBER, ("input",))
    datastream_id = parse_datastream_id(datastream, "input.datastreamId")
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
        raise user_error(
            ErrorCode.INVALID_ARGUMENT,
            "input.idempotencyKey",
            "idempotencyKey is 1 to 200 characters",
        )
    async with runtime.sessions() as session:
        if await session.get(DatastreamRow, datastream_id) is None:
            raise user_error(
                ErrorCode.NOT_FOUND,
                "input.datastreamId",
                f"datastream {datastream_id} does not exist",
            )
        existing = await _existing(session, who, datastream_id, idempotency_key)
        if existing is not None:
            return existing, False
        now = now_ns()
        row = CollectionSubscriptionRow(
            id=new_id("collection_subscription"),
            workspace_id=who.workspace_id,
            datastream_id=datastream_id,
            status=SubscriptionStatus.ACTIVE.value,
            idempotency_key=idempotency_key,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        try:
            await session.commit()
        except IntegrityError:  # a concurrent create won
            await session.rollback()
            existing = await _existing(session, who, datastream_id, idempotency_key)
            if existing is None:
                raise
            return existing, False
    announce(runtime, row, row.status)
    return row, True


async def _existing(
    session: AsyncSession, who: Principal, datastream_id: int, key: str | None
) -> CollectionSubscriptionRow | None:
    if key is not None:
        by_key = await session.scalar(
            select(CollectionSubscriptionRow).where(
                CollectionSubscriptionRow.workspace_id == who.workspace_id,
                CollectionSubscriptionRow.idempotency_key == key,
            )
        )
        if by_key is not None:
            if by_key.datastream_id != datastream_id:
                raise user_error(
                    ErrorCode.CONFLICT,
                    "input.idempotencyKey",
                    f"idempotencyKey was already used for datastream {by_key.datastream_id}",
                )
            return by_key
    same_stream = await session.scalar(
        select(CollectionSubscriptionRow).where(
            CollectionSubscriptionRow.workspace_id == who.workspace_id,
            CollectionSubscriptionRow.datastream_id == datastream_id,
        )
    )
    if same_stream is not None:
        raise DomainError(
            [
                Problem(
                    ErrorCode.CONFLICT,
                    ("input", "datastreamId"),
                    f"this workspace already subscribes to datastream {datastream_id} "
                    f"({same_stream.id}): resume it instead",
                )
            ]
        )
    return None


async def pause_subscription(
    runtime: Runtime, who: Principal, subscription_id: str
) -> CollectionSubscriptionRow:
    """Its open span ends now; collection goes on for other workspaces' subscriptions."""
    return await _set_status(runtime, who, subscription_id, SubscriptionStatus.PAUSED)


async def resume_subscription(
    runtime: Runtime, who: Principal, subscription_id: str
) -> CollectionSubscriptionRow:
    """Paused or in error: collecting again (a new span opens once the feed is connected)."""
    return await _set_status(runtime, who, subscription_id, SubscriptionStatus.ACTIVE)


async def _set_status(
    runtime: Runtime, who: Principal, subscription_id: str, status: SubscriptionStatus
) -> CollectionSubscriptionRow:
    require(who, Role.MEMBER, ("input",))
    async with runtime.sessions() as session:
        row = await _own(session, who, subscription_id)
        if row.status == status.value:
            return row
        now = now_ns()
        row.status, row.reason, row.updated_at = status.value, None, now
        if status is SubscriptionStatus.PAUSED:
            await close_open_spans(session, [row.id], now, SpanEnd.PAUSED)
        await session.commit()
    announce(runtime, row, row.status)
    return row


async def delete_subscription(runtime: Runtime, who: Principal, subscription_id: str) -> str:
    require(who, Role.MEMBER, ("input",))
    async with runtime.sessions() as session:
        row = await _own(session, who, subscription_id)
        await session.execute(
            delete(CollectionSpanRow).where(CollectionSpanRow.subscription_id == row.id)
        )
        await session.delete(row)
        await session.commit()
    announce(runtime, row, "DELETED")
    return row.id


async def close_open_spans(
    session: AsyncSession, subscription_ids: list[str], at: int, reason: SpanEnd
) -> None:
    if subscription_ids:
        await session.execute(
            update(CollectionSpanRow)
            .where(
                CollectionSpanRow.subscription_id.in_(subscription_ids),
                CollectionSpanRow.ended_at.is_(None),
            )
            .values(ended_at=at, end_reason=reason.value)
        )


async def _own(
    session: AsyncSession, who: Principal, subscription_id: str
) -> CollectionSubscriptionRow:
    row = await get_subscription(session, who, subscription_id)
    if row is None:
        raise user_error(
            ErrorCode.NOT_FOUND, "input.id", f"no collection subscription {subscription_id[:60]!r}"
        )
    return row


async def get_subscription(
    session: AsyncSession, who: Principal, subscription_id: str
) -> CollectionSubscriptionRow | None:
    row = await session.get(CollectionSubscriptionRow, subscription_id)
    return row if row is not None and row.workspace_id == who.workspace_id else None


async def list_subscriptions(
    session: AsyncSession,
    who: Principal,
    *,
    status: str | None,
    after_id: str | None,
    limit: int,
) -> tuple[list[CollectionSubscriptionRow], int]:
    """Oldest first (ids are time-ordered); keyset pages after `after_id`."""
    query = select(CollectionSubscriptionRow).where(
        CollectionSubscriptionRow.workspace_id == who.workspace_id
    )
    if status is not None:
        query = query.where(CollectionSubscriptionRow.status == status)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    if after_id is not None:
        query = query.where(CollectionSubscriptionRow.id > after_id)
    rows = await session.scalars(query.order_by(CollectionSubscriptionRow.id).limit(limit))
    return list(rows), int(total or 0)


async def spans_of(
    session: AsyncSession, subscription_ids: list[str]
) -> dict[str, list[CollectionSpanRow]]:
    """Every span of each subscription, oldest first."""
    rows = await session.scalars(
        select(CollectionSpanRow)
        .where(CollectionSpanRow.subscription_id.in_(subscription_ids))
        .order_by(CollectionSpanRow.started_at)
    )
    found: dict[str, list[CollectionSpanRow]] = {i: [] for i in subscription_ids}
    for row in rows:
        found[row.subscription_id].append(row)
    return found
