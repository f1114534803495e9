"""What every gateway runs beside the sweeper: new events are fanned out to one delivery per
matching webhook and email notification (once: the event is claimed by a conditional update
in the transaction that adds its deliveries), and deliveries that are due (new, retry time
reached) or stale (their worker died) are woken through the broker. The rows are the truth;
a lost wake-up only waits for the next pass."""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import rows_changed
from app.db.models import (
    EmailNotificationRow,
    NotificationAttemptRow,
    NotificationDeliveryRow,
    NotificationEventRow,
    WebhookRow,
)
from app.domain.notifications.events import FAILURE_EVENTS, SUCCESS_EVENTS
from app.domain.runtime import Runtime
from app.ids import new_id
from engine.timestamps import now_ns

log = logging.getLogger(__name__)
BATCH = 200


class DeliveryStatus:
    PENDING = "PENDING"
    DELIVERING = "DELIVERING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


async def notify_forever(runtime: Runtime) -> None:
    last_purge = 0.0
    while True:
        try:
            await notify_once(runtime)
            if time.monotonic() - last_purge >= runtime.settings.sweep_interval_seconds:
                last_purge = time.monotonic()
                async with runtime.sessions() as session:
                    await purge_old(session, runtime.settings.notify_keep_seconds)
        except Exception:
            log.exception("notification pass failed")
        await asyncio.sleep(runtime.settings.notify_poll_seconds)


async def notify_once(runtime: Runtime) -> list[str]:
    """One pass: fan out, then wake what is due. The deliveries woken."""
    async with runtime.sessions() as session:
        await fan_out(session)
        due = await claim_due(session, runtime)
    for delivery_id in due:
        runtime.effects.wake_delivery(delivery_id)
    return due


def _policy_allows(policy: str, event_type: str) -> bool:
    if policy == "ON_SUCCESS":
        return event_type in SUCCESS_EVENTS
    if policy == "ON_FAILURE":
        return event_type in FAILURE_EVENTS
    return True


def new_delivery(
    event: NotificationEventRow, channel: str, target_id: str, now: int
) -> NotificationDeliveryRow:
    return NotificationDeliveryRow(
        id=new_id("notification_delivery"),
        workspace_id=event.workspace_id,
        event_id=event.id,
        channel=channel,
        target_id=target_id,
        status=DeliveryStatus.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )


async def fan_out(session: AsyncSession) -> int:
    """Deliveries of the events not yet dispatched; how many events were."""
    events = (
        await session.scalars(
            select(NotificationEventRow)
            .where(NotificationEventRow.dispatched_at.is_(None))
            .order_by(NotificationEventRow.created_at)
            .limit(BATCH)
        )
    ).all()
    done = 0
    for event in events:
        now = now_ns()
        claimed = await session.execute(
            update(NotificationEventRow)
            .where(
                NotificationEventRow.id == event.id, NotificationEventRow.dispatched_at.is_(None)
            )
            .values(dispatched_at=now)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(claimed) != 1:  # another gateway's
            await session.rollback()
            continue
        hooks = await session.scalars(
            select(WebhookRow).where(
                WebhookRow.workspace_id == event.workspace_id, WebhookRow.enabled.is_(True)
            )
        )
        for hook in hooks:
            if event.type in hook.events:
                session.add(new_delivery(event, "WEBHOOK", hook.id, now))
        emails = await session.scalars(
            select(EmailNotificationRow).where(
                EmailNotificationRow.workspace_id == event.workspace_id,
                EmailNotificationRow.enabled.is_(True),
            )
        )
        for email in emails:
            if event.type in email.events and _policy_allows(email.policy, event.type):
                session.add(new_delivery(event, "EMAIL", email.id, now))
        await session.commit()
        done += 1
    return done


async def claim_due(session: AsyncSession, runtime: Runtime) -> list[str]:
    """Mark due and stale deliveries woken (conditionally: one gateway wakes each) and return
    them; a woken delivery whose message was lost is woken again after a while."""
    settings, now = runtime.settings, now_ns()
    rewake = now - int(settings.queued_stale_seconds * 1e9)
    stale = now - int((settings.heartbeat_stale_seconds + settings.notify_timeout_seconds) * 1e9)
    table = NotificationDeliveryRow
    due = or_(
        (table.status == DeliveryStatus.PENDING)
        & (table.next_attempt_at <= now)
        & (table.woken_at.is_(None) | (table.woken_at < rewake)),
        (table.status == DeliveryStatus.DELIVERING)
        & (table.claimed_at < stale)
        & (table.woken_at.is_(None) | (table.woken_at < rewake)),
    )
    ids = (await session.scalars(select(table.id).where(due).limit(BATCH))).all()
    woken = []
    for delivery_id in ids:
        result = await session.execute(
            update(table)
            .where(table.id == delivery_id, due)
            .values(woken_at=now)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(result) == 1:
            woken.append(delivery_id)
    await session.commit()
    return woken


async def purge_old(session: AsyncSession, keep_seconds: float) -> int:
    """Events older than `keep_seconds` whose deliveries have all finished go, with their
    deliveries and attempts (the delivery history is kept that long). How many went."""
    cutoff = now_ns() - int(keep_seconds * 1e9)
    table = NotificationDeliveryRow
    unfinished = exists().where(
        table.event_id == NotificationEventRow.id,
        table.status.in_((DeliveryStatus.PENDING, DeliveryStatus.DELIVERING)),
    )
    ids = (
        await session.scalars(
            select(NotificationEventRow.id)
            .where(
                NotificationEventRow.dispatched_at.is_not(None),
                NotificationEventRow.created_at < cutoff,
                ~unfinished,
            )
            .limit(BATCH)
        )
    ).all()
    if not ids:
        return 0
    deliveries = select(table.id).where(table.event_id.in_(ids))
    await session.execute(
        delete(NotificationAttemptRow).where(NotificationAttemptRow.delivery_id.in_(deliveries))
    )
    await session.execute(delete(table).where(table.event_id.in_(ids)))
    await session.execute(delete(NotificationEventRow).where(NotificationEventRow.id.in_(ids)))
    await session.commit()
    return len(ids)
