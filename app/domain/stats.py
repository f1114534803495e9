"""What an operator watches, read from the rows that are the truth (so every gateway reports
the same, whichever process did the work): jobs by state, notification deliveries by state,
collections and their feeds, the rows and bytes of exports finished lately, and the catalog
entries fsck marked broken."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import (
    CollectionRow,
    ExportArtifactRow,
    ExportJobRow,
    ImportJobRow,
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
    return counts
