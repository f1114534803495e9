"""Which time ranges of a datastream hold data, from the segment catalog alone."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import SegmentRow


@dataclass(frozen=True)
class AvailableRange:
    from_ns: int
    to_ns: int  # exclusive
    row_count: int


@dataclass(frozen=True)
class DataAvailability:
    ranges: list[AvailableRange]
    updated_at: int | None


def merge_ranges(segments: list[tuple[int, int, int]], max_gap_ns: int) -> list[AvailableRange]:
    """(min_ts, max_ts, rows) per segment -> disjoint half-open ranges; small gaps are bridged."""
    ranges: list[AvailableRange] = []
    for min_ts, max_ts, rows in sorted(segments):
        if ranges and min_ts <= ranges[-1].to_ns + max_gap_ns:
            last = ranges[-1]
            ranges[-1] = AvailableRange(
                last.from_ns, max(last.to_ns, max_ts + 1), last.row_count + rows
            )
        else:
            ranges.append(AvailableRange(min_ts, max_ts + 1, rows))
    return ranges


async def availability(
    session: AsyncSession, datastream_id: int, max_gap_ns: int
) -> DataAvailability:
    rows = (
        await session.execute(
            select(SegmentRow.min_ts, SegmentRow.max_ts, SegmentRow.row_count).where(
                SegmentRow.datastream_id == datastream_id, SegmentRow.retired_at.is_(None)
            )
        )
    ).all()
    updated = (
        await session.execute(
            select(func.max(SegmentRow.created_at)).where(SegmentRow.datastream_id == datastream_id)
        )
    ).scalar_one()
    return DataAvailability(merge_ranges([(r[0], r[1], r[2]) for r in rows], max_gap_ns), updated)
