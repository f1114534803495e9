"""Collection as a collector sees it: which datastreams to collect (those with an ACTIVE
subscription), held by lease so that two collectors never write one datastream at once and a
dead collector's datastreams are taken over once its lease runs out; spans opened while the
feed is connected and closed when it drops, pauses or stops; and flushes of the received
records into segments, refused once the lease is lost.

Every change is a conditional update on the lease holder, so that a collector that paused
past its lease (a stopped process resumed) can no longer touch what another one now owns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import anyio
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update

from app.db.engine import rows_changed
from app.db.models import (
    CollectionRow,
    CollectionSpanRow,
    CollectionSubscriptionRow,
    DatastreamRow,
    InstrumentRow,
)
from app.domain.collection.subscriptions import SpanEnd, SubscriptionStatus, announce
from app.domain.ingest import IngestResult, ingest_tables
from app.domain.notifications.events import EventType, record_event
from app.domain.runtime import Runtime
from app.ids import new_id
from engine.segments import records_table
from engine.timestamps import format_timestamp, now_ns


class LeaseLost(Exception):
    """Another collector holds this datastream now: stop collecting it, store nothing."""


@dataclass(frozen=True)
class Feed:
    """What a collector needs to connect to a datastream's feed."""

    datastream_id: int
    exchange: str
    market: str  # spot, linear, ...
    symbol: str
    wire_format: str


async def wanted(runtime: Runtime) -> set[int]:
    """Datastreams with at least one ACTIVE subscription."""
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(CollectionSubscriptionRow.datastream_id)
            .where(CollectionSubscriptionRow.status == SubscriptionStatus.ACTIVE.value)
            .distinct()
        )
        return set(rows)


async def claim(
    runtime: Runtime, collector_id: str, lease_ns: int, limit: int, held: set[int]
) -> list[Feed]:
    """Take up to `limit` wanted datastreams (other than those `held` already) whose lease is
    free or expired. A taken-over datastream's open spans end where its last holder's lease
    ran out."""
    now = now_ns()
    claimed: list[Feed] = []
    for datastream_id in sorted(await wanted(runtime) - held):
        if len(claimed) >= limit:
            break
        async with runtime.sessions() as session:
            row = await session.get(CollectionRow, datastream_id)
            if row is None:
                session.add(CollectionRow(datastream_id=datastream_id, updated_at=now))
                await session.flush()
                row = await session.get(CollectionRow, datastream_id)
                assert row is not None
            previous = row.collector_id
            expired = row.lease_expires_at
            taken = await session.execute(
                update(CollectionRow)
                .where(
                    CollectionRow.datastream_id == datastream_id,
                    (CollectionRow.collector_id.is_(None)) | (CollectionRow.lease_expires_at < now),
                )
                .values(
                    collector_id=collector_id,
                    lease_expires_at=now + lease_ns,
                    connected=False,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if rows_changed(taken) != 1:
                await session.rollback()
                continue
            if previous is not None and previous != collector_id:
                await _end_spans(session, datastream_id, expired or now, SpanEnd.COLLECTOR_LOST)
            feed = await _feed(session, datastream_id)
            await session.commit()
        claimed.append(feed)
    return claimed


async def _feed(session: AsyncSession, datastream_id: int) -> Feed:
    datastream = await session.get(DatastreamRow, datastream_id)
    assert datastream is not None
    instrument = await session.get(InstrumentRow, datastream.instrument_id)
    return Feed(
        datastream_id,
        datastream.exchange_code,
        instrument.type if instrument else "",
        instrument.symbol if instrument else "",
        datastream.wire_format,
    )


def _held(collector_id: str, datastream_id: int) -> Update:
    """An update of the datastream's collection row that matches only while we hold it."""
    return update(CollectionRow).where(
        CollectionRow.datastream_id == datastream_id, CollectionRow.collector_id == collector_id
    )


async def renew(runtime: Runtime, collector_id: str, datastream_id: int, lease_ns: int) -> None:
    """Extend the lease; LeaseLost if it is no longer ours."""
    now = now_ns()
    async with runtime.sessions() as session:
        result = await session.execute(
            _held(collector_id, datastream_id).values(
                lease_expires_at=now + lease_ns, updated_at=now
            )
        )
        await session.commit()
    if rows_changed(result) != 1:
        raise LeaseLost(datastream_id)


async def release(runtime: Runtime, collector_id: str, datastream_id: int, reason: SpanEnd) -> None:
    """Let go of a datastream (nobody wants it, or the collector stops): its spans end now."""
    now = now_ns()
    async with runtime.sessions() as session:
        result = await session.execute(
            _held(collector_id, datastream_id).values(
                collector_id=None, lease_expires_at=None, connected=False, updated_at=now
            )
        )
        if rows_changed(result) == 1:
            await _end_spans(session, datastream_id, now, reason)
        await session.commit()


async def connected(
    runtime: Runtime, collector_id: str, datastream_id: int, is_connected: bool, reason: SpanEnd
) -> None:
    """The feed came up (spans open for every ACTIVE subscription) or went down (they end)."""
    now = now_ns()
    async with runtime.sessions() as session:
        result = await session.execute(
            _held(collector_id, datastream_id).values(
                connected=is_connected, error=None, updated_at=now
            )
        )
        if rows_changed(result) != 1:
            await session.rollback()
            raise LeaseLost(datastream_id)
        if is_connected:
            await _open_spans(session, datastream_id, collector_id, now)
        else:
            await _end_spans(session, datastream_id, now, reason)
        await session.commit()
        subscriptions = await _active(session, datastream_id)
    for subscription in subscriptions:  # their spans changed
        announce(runtime, subscription, subscription.status)


async def sync_spans(runtime: Runtime, collector_id: str, datastream_id: int) -> None:
    """While connected: subscriptions resumed (or created) since get their span."""
    now = now_ns()
    async with runtime.sessions() as session:
        row = await session.get(CollectionRow, datastream_id)
        if row is None or row.collector_id != collector_id or not row.connected:
            return
        opened = await _open_spans(session, datastream_id, collector_id, now)
        await session.commit()
    for subscription in opened:
        announce(runtime, subscription, subscription.status)


async def failed(runtime: Runtime, collector_id: str, datastream_id: int, reason: str) -> None:
    """The feed cannot be collected (unknown wire format, refused subscription): every ACTIVE
    subscription to it goes to ERROR with the reason, and the lease is released."""
    now = now_ns()
    async with runtime.sessions() as session:
        subscriptions = await _active(session, datastream_id)
        for subscription in subscriptions:
            subscription.status = SubscriptionStatus.ERROR.value
            subscription.reason = reason[:2000]
            subscription.updated_at = now
            record_event(  # told in the same transaction (the outbox)
                session,
                subscription.workspace_id,
                EventType.COLLECTION_ERROR.value,
                {
                    "kind": "collection",
                    "subscriptionId": subscription.id,
                    "datastreamId": datastream_id,
                    "status": SubscriptionStatus.ERROR.value,
                    "reason": reason[:2000],
                    "time": format_timestamp(now),
                },
            )
        await session.execute(
            _held(collector_id, datastream_id).values(
                collector_id=None, lease_expires_at=None, connected=False, error=reason[:2000]
            )
        )
        await _end_spans(session, datastream_id, now, SpanEnd.ERROR)
        await session.commit()
    for subscription in subscriptions:
        announce(runtime, subscription, subscription.status)


async def _active(session: AsyncSession, datastream_id: int) -> list[CollectionSubscriptionRow]:
    rows = await session.scalars(
        select(CollectionSubscriptionRow).where(
            CollectionSubscriptionRow.datastream_id == datastream_id,
            CollectionSubscriptionRow.status == SubscriptionStatus.ACTIVE.value,
        )
    )
    return list(rows)


async def _open_spans(
    session: AsyncSession, datastream_id: int, collector_id: str, now: int
) -> list[CollectionSubscriptionRow]:
    """A span for each ACTIVE subscription without an open one; the subscriptions given one."""
    open_for = set(
        await session.scalars(
            select(CollectionSpanRow.subscription_id).where(
                CollectionSpanRow.datastream_id == datastream_id,
                CollectionSpanRow.ended_at.is_(None),
            )
        )
    )
    opened = [s for s in await _active(session, datastream_id) if s.id not in open_for]
    session.add_all(
        CollectionSpanRow(
            id=new_id("collection_span"),
            subscription_id=s.id,
            datastream_id=datastream_id,
            started_at=now,
            collector_id=collector_id,
        )
        for s in opened
    )
    return opened


async def _end_spans(session: AsyncSession, datastream_id: int, at: int, reason: SpanEnd) -> None:
    await session.execute(
        update(CollectionSpanRow)
        .where(
            CollectionSpanRow.datastream_id == datastream_id,
            CollectionSpanRow.ended_at.is_(None),
        )
        .values(ended_at=at, end_reason=reason.value)
    )


async def flush(
    runtime: Runtime, collector_id: str, datastream_id: int, records: Sequence[tuple[int, str]]
) -> IngestResult:
    """Store received records as one segment, visible with the catalog entry in one
    transaction, and only while the lease is ours (else LeaseLost, nothing stored). Only
    records received inside a span are kept (not those that arrive between a pause and the
    collector closing the feed), so that spans say exactly what was collected."""

    def still_ours(session: Session) -> None:
        holder = session.scalar(
            select(CollectionRow.collector_id)
            .where(CollectionRow.datastream_id == datastream_id)
            .with_for_update()
        )
        if holder != collector_id:
            raise LeaseLost(datastream_id)

    def store() -> IngestResult:
        ordered = sorted(records)  # received in order, but a clock may step back
        with runtime.sync_sessions() as session:
            still_ours(session)
            kept = _inside_spans(session, datastream_id, ordered)
        if not kept:
            return IngestResult(datastream_id, 0, 0, None, None)
        return ingest_tables(
            runtime, datastream_id, [records_table(kept)], before_commit=still_ours
        )

    return await anyio.to_thread.run_sync(store)


def _inside_spans(
    session: Session, datastream_id: int, records: list[tuple[int, str]]
) -> list[tuple[int, str]]:
    first, last = records[0][0], records[-1][0]
    spans = session.execute(
        select(CollectionSpanRow.started_at, CollectionSpanRow.ended_at).where(
            CollectionSpanRow.datastream_id == datastream_id,
            CollectionSpanRow.started_at <= last,
            (CollectionSpanRow.ended_at.is_(None)) | (CollectionSpanRow.ended_at > first),
        )
    ).all()
    return [
        record
        for record in records
        if any(start <= record[0] and (end is None or record[0] < end) for start, end in spans)
    ]
