"""A webhook's deliveries and their attempts, sending one again, and the test ping."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import rows_changed
from app.db.models import (
    NotificationAttemptRow,
    NotificationDeliveryRow,
    NotificationEventRow,
    WebhookRow,
)
from app.domain.auth import Principal, Role, require
from app.domain.errors import ErrorCode, user_error
from app.domain.notifications.dispatch import DeliveryStatus, new_delivery
from app.domain.notifications.events import PING, record_event
from app.domain.notifications.targets import get_webhook
from app.domain.runtime import Runtime
from engine.timestamps import now_ns


@dataclass(frozen=True)
class DeliveryView:
    delivery: NotificationDeliveryRow
    event_type: str
    attempts: list[NotificationAttemptRow]


async def list_deliveries(
    session: AsyncSession, who: Principal, webhook_id: str, after_id: str | None, limit: int
) -> tuple[list[DeliveryView], int]:
    """Newest first; each delivery's event type and attempts (oldest first)."""
    await get_webhook(session, who, webhook_id)  # the caller's, or NOT_FOUND
    table = NotificationDeliveryRow
    query = (
        select(table, NotificationEventRow.type)
        .outerjoin(NotificationEventRow, NotificationEventRow.id == table.event_id)
        .where(table.target_id == webhook_id)
    )
    total = (await session.scalar(select(func.count()).where(table.target_id == webhook_id))) or 0
    if after_id is not None:
        query = query.where(table.id < after_id)
    found_rows = (await session.execute(query.order_by(table.id.desc()).limit(limit))).all()
    rows = [row for row, _ in found_rows]
    attempts: dict[str, list[NotificationAttemptRow]] = {r.id: [] for r in rows}
    if rows:
        found = await session.scalars(
            select(NotificationAttemptRow)
            .where(NotificationAttemptRow.delivery_id.in_(list(attempts)))
            .order_by(NotificationAttemptRow.number)
        )
        for attempt in found:
            attempts[attempt.delivery_id].append(attempt)
    views = [DeliveryView(r, event_type or "", attempts[r.id]) for r, event_type in found_rows]
    return views, total


async def delivery_view(
    session: AsyncSession,
    row: NotificationDeliveryRow,
    attempts: list[NotificationAttemptRow] | None = None,
) -> DeliveryView:
    event = await session.get(NotificationEventRow, row.event_id)
    if attempts is None:
        attempts = list(
            (
                await session.scalars(
                    select(NotificationAttemptRow)
                    .where(NotificationAttemptRow.delivery_id == row.id)
                    .order_by(NotificationAttemptRow.number)
                )
            ).all()
        )
    return DeliveryView(row, event.type if event else "", attempts)


async def redeliver(runtime: Runtime, who: Principal, delivery_id: str) -> DeliveryView:
    """Send a finished (or waiting) delivery again now, with the same event id."""
    require(who, Role.ADMIN, ("input",))
    async with runtime.sessions() as session:
        row = await session.get(NotificationDeliveryRow, delivery_id)
        if row is None or row.workspace_id != who.workspace_id or row.channel != "WEBHOOK":
            # redeliverWebhook: an email notification's delivery is not one of its deliveries
            raise user_error(ErrorCode.NOT_FOUND, "input.id", f"no delivery {delivery_id}")
        now = now_ns()
        result = await session.execute(
            update(NotificationDeliveryRow)
            .where(
                NotificationDeliveryRow.id == delivery_id,
                NotificationDeliveryRow.status != DeliveryStatus.DELIVERING,
            )
            .values(
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
                woken_at=now,
                finished_at=None,
            )
        )
        await session.commit()
        if rows_changed(result) != 1:
            raise user_error(
                ErrorCode.FAILED_PRECONDITION, "input.id", "the delivery is being sent right now"
            )
        await session.refresh(row)
        view = await delivery_view(session, row)
    runtime.effects.wake_delivery(delivery_id)
    return view


async def ping_webhook(runtime: Runtime, who: Principal, webhook_id: str) -> DeliveryView:
    """A `webhook.ping` event for this webhook only, sent at once."""
    require(who, Role.ADMIN, ("input",))
    async with runtime.sessions() as session:
        hook = await session.get(WebhookRow, webhook_id)
        if hook is None or hook.workspace_id != who.workspace_id:
            raise user_error(ErrorCode.NOT_FOUND, "input.id", f"no webhook {webhook_id}")
        event_id = record_event(
            session, who.workspace_id, PING, {"kind": "ping", "webhookId": webhook_id}
        )
        await session.flush()
        event = await session.get(NotificationEventRow, event_id)
        assert event is not None
        now = now_ns()
        event.dispatched_at = now  # this event goes to this webhook only
        delivery = new_delivery(event, "WEBHOOK", webhook_id, now)
        delivery.woken_at = now
        session.add(delivery)
        await session.commit()
        view = DeliveryView(delivery, PING, [])
    runtime.effects.wake_delivery(delivery.id)
    return view
