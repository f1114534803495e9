"""What an operator watches, read from the rows that are the truth (so every gateway reports
the same, whichever process did the work): jobs by state, notification deliveries by state
and their health (retrying, the oldest undelivered, recent attempts by outcome), collections
with their feeds and their health (held by no live collector, failing), the rows and bytes of
exports finished lately, the running totals of what exports published, and the catalog
entries fsck marked broken."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import (
    EXPORT_TOTALS_ID,
    CollectionRow,
    ExportArtifactRow,
    ExportJobRow,
    ExportTotalsRow,
    ImportJobRow,
    NotificationAttemptRow,
    NotificationDeliveryRow,
    SegmentRow,
)
from engine.timestamps import now_ns

RECENT_SECONDS = 300


@dataclass
class OperationalCounts:
    jobs: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, status) -> count
    deliveries: dict[str, int] = field(default_factory=dict)  # status -> count
    collections: int = 0
    collections_connected: int = 0
    recent_export_rows: int = 0  # of exports finished in the last RECENT_SECONDS
    recent_export_bytes: int = 0
    broken: dict[str, int] = field(default_factory=dict)  # segment, artifact -> marked by fsck
    # Ever published (never decreasing: deleted and expired jobs still count).
    published_files: int = 0
    published_rows: int = 0
    published_bytes: int = 0
    deliveries_retrying: int = 0  # PENDING after a failed attempt
    oldest_undelivered_seconds: float = 0.0  # age of the oldest PENDING or DELIVERING
    recent_attempts: dict[str, int] = field(default_factory=dict)  # ok/failed -> count
    collections_unheld: int = 0  # no collector holds a live lease on it
    collections_failing: int = 0  # its feed reports an error


async def operational_counts(session: AsyncSession) -> OperationalCounts:
    counts = OperationalCounts()
    for kind, table in (("export", ExportJobRow), ("import", ImportJobRow)):
        rows = await session.execute(select(table.status, func.count()).group_by(table.status))
        counts.jobs.update({(kind, status): n for status, n in rows})
    deliveries = await session.execute(
        select(NotificationDeliveryRow.status, func.count()).group_by(
            NotificationDeliveryRow.status
        )
    )
    counts.deliveries = {status: n for status, n in deliveries}
    total, connected = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((CollectionRow.connected, 1), else_=0)), 0),
            )
        )
    ).one()
    counts.collections, counts.collections_connected = int(total), int(connected)
    since = now_ns() - RECENT_SECONDS * 10**9
    rows_written, bytes_written = (
        await session.execute(
            select(
                func.coalesce(func.sum(ExportJobRow.rows_written), 0),
                func.coalesce(func.sum(ExportJobRow.bytes_written), 0),
            ).where(ExportJobRow.finished_at >= since)
        )
    ).one()
    counts.recent_export_rows, counts.recent_export_bytes = int(rows_written), int(bytes_written)
    for kind, reason in (
        ("segment", SegmentRow.broken_reason),
        ("artifact", ExportArtifactRow.broken_reason),
    ):
        marked = select(func.count()).where(reason.is_not(None))
        counts.broken[kind] = int(await session.scalar(marked) or 0)
    totals = await session.get(ExportTotalsRow, EXPORT_TOTALS_ID)
    if totals is not None:
        counts.published_files = totals.files
        counts.published_rows = totals.rows_written
        counts.published_bytes = totals.bytes_written
    await _delivery_health(session, counts, since)
    await _collection_health(session, counts)
    return counts


async def _delivery_health(session: AsyncSession, counts: OperationalCounts, since: int) -> None:
    undelivered = NotificationDeliveryRow.status.in_(("PENDING", "DELIVERING"))
    retrying, oldest = (
        await session.execute(
            select(
                func.coalesce(
                    func.sum(
                        case(
                            (
                                (NotificationDeliveryRow.status == "PENDING")
                                & (NotificationDeliveryRow.attempts > 0),
                                1,
                            ),
                            else_=0,
                        )
                    ),
                    0,
                ),
                func.min(NotificationDeliveryRow.created_at),
            ).where(undelivered)
        )
    ).one()
    counts.deliveries_retrying = int(retrying)
    counts.oldest_undelivered_seconds = (
        max(0.0, (now_ns() - int(oldest)) / 1e9) if oldest is not None else 0.0
    )
    succeeded = NotificationAttemptRow.error.is_(None)  # a 2xx answer, or an email accepted
    attempts = await session.execute(
        select(case((succeeded, "ok"), else_="failed"), func.count())
        .where(NotificationAttemptRow.started_at >= since)
        .group_by(case((succeeded, "ok"), else_="failed"))
    )
    counts.recent_attempts = {"ok": 0, "failed": 0} | {outcome: n for outcome, n in attempts}


async def _collection_health(session: AsyncSession, counts: OperationalCounts) -> None:
    now = now_ns()
    unheld = CollectionRow.lease_expires_at.is_(None) | (CollectionRow.lease_expires_at < now)
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(case((unheld, 1), else_=0)), 0),
                func.coalesce(func.sum(case((CollectionRow.error.is_not(None), 1), else_=0)), 0),
            )
        )
    ).one()
    counts.collections_unheld, counts.collections_failing = int(row[0]), int(row[1])
