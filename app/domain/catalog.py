"""Exchanges, instruments, datastreams and the segment catalog."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.config import Settings
from app.db.models import DatastreamRow, ExchangeRow, InstrumentRow, SegmentRow
from app.ids import new_id
from engine.logical import SourceContext
from engine.segments import SegmentFile
from engine.timestamps import now_ns


@dataclass(frozen=True)
class DatastreamSpec:
    id: int
    exchange: str
    exchange_name: str
    symbol: str
    base: str
    quote: str
    instrument_type: str
    stream_type: str
    wire_format: str


@dataclass(frozen=True)
class SegmentInfo:
    path: str
    min_ts: int
    max_ts: int
    row_count: int
    byte_size: int


def datastream_spec(session: Session, datastream_id: int) -> DatastreamSpec | None:
    """What the catalog knows of a datastream, as a spec; None if it does not exist."""
    datastream = session.get(DatastreamRow, datastream_id)
    if datastream is None:
        return None
    instrument = session.get(InstrumentRow, datastream.instrument_id)
    exchange = session.get(ExchangeRow, datastream.exchange_code)
    return DatastreamSpec(
        datastream.id,
        datastream.exchange_code,
        exchange.display_name if exchange else datastream.exchange_code,
        instrument.symbol if instrument else "",
        instrument.base if instrument else "",
        instrument.quote if instrument else "",
        instrument.type if instrument else "",
        datastream.stream_type,
        datastream.wire_format,
    )


def ensure_datastream(session: Session, spec: DatastreamSpec) -> DatastreamRow:
    """Create the exchange, instrument and datastream rows that do not exist yet."""
    if session.get(ExchangeRow, spec.exchange) is None:
        session.add(ExchangeRow(code=spec.exchange, display_name=spec.exchange_name))
    instrument = session.scalars(
        select(InstrumentRow).where(
            InstrumentRow.exchange_code == spec.exchange,
            InstrumentRow.symbol == spec.symbol,
            InstrumentRow.type == spec.instrument_type,
        )
    ).first()
    if instrument is None:
        instrument = InstrumentRow(
            exchange_code=spec.exchange,
            symbol=spec.symbol,
            base=spec.base,
            quote=spec.quote,
            type=spec.instrument_type,
        )
        session.add(instrument)
        session.flush()
    datastream = session.get(DatastreamRow, spec.id)
    if datastream is None:
        datastream = DatastreamRow(
            id=spec.id,
            exchange_code=spec.exchange,
            instrument_id=instrument.id,
            stream_type=spec.stream_type,
            wire_format=spec.wire_format,
            created_at=now_ns(),
        )
        session.add(datastream)
        session.flush()
    return datastream


def register_segments(
    session: Session, datastream_id: int, segments: Sequence[SegmentInfo]
) -> None:
    """Make segments visible; the caller commits, so an ingest is visible all at once or not."""
    created = now_ns()
    session.add_all(
        SegmentRow(
            id=new_id("segment"),
            datastream_id=datastream_id,
            path=s.path,
            min_ts=s.min_ts,
            max_ts=s.max_ts,
            row_count=s.row_count,
            byte_size=s.byte_size,
            created_at=created,
        )
        for s in segments
    )


def segments_in_range(
    session: Session, datastream_id: int, start_ns: int, end_ns: int
) -> list[SegmentInfo]:
    rows = session.scalars(_segments_query(datastream_id, start_ns, end_ns))
    return [_segment_info(s) for s in rows]


async def segments_in_range_async(
    session: AsyncSession, datastream_id: int, start_ns: int, end_ns: int
) -> list[SegmentInfo]:
    rows = await session.scalars(_segments_query(datastream_id, start_ns, end_ns))
    return [_segment_info(s) for s in rows]


def _segments_query(datastream_id: int, start_ns: int, end_ns: int) -> Select[Any]:
    return (
        select(SegmentRow)
        .where(
            SegmentRow.datastream_id == datastream_id,
            SegmentRow.max_ts >= start_ns,
            SegmentRow.min_ts < end_ns,
            SegmentRow.retired_at.is_(None),  # replaced by a compacted segment
        )
        .order_by(SegmentRow.min_ts)
    )


def _segment_info(s: SegmentRow) -> SegmentInfo:
    return SegmentInfo(s.path, s.min_ts, s.max_ts, s.row_count, s.byte_size)


class TimeRangeRows(Protocol):
    @property
    def min_ts(self) -> int: ...
    @property
    def max_ts(self) -> int: ...
    @property
    def row_count(self) -> int: ...


def estimate_rows(segments: Sequence[TimeRangeRows], start_ns: int, end_ns: int) -> int:
    """Rows in [start, end), assuming records are spread evenly inside each segment."""
    total = 0.0
    for s in segments:
        span = s.max_ts - s.min_ts + 1
        overlap = min(end_ns, s.max_ts + 1) - max(start_ns, s.min_ts)
        if overlap > 0:
            total += s.row_count * min(1.0, overlap / span)
    return round(total)


async def get_datastream(session: AsyncSession, datastream_id: int) -> DatastreamRow | None:
    return await session.get(DatastreamRow, datastream_id)


async def list_datastreams(
    session: AsyncSession,
    *,
    exchange: str | None,
    instrument: str | None,
    stream_type: str | None,
    after_id: int | None,
    limit: int,
) -> tuple[list[DatastreamRow], int]:
    query = select(DatastreamRow)
    if exchange:
        query = query.where(DatastreamRow.exchange_code == exchange)
    if stream_type:
        query = query.where(DatastreamRow.stream_type == stream_type)
    if instrument:
        query = query.join(InstrumentRow, InstrumentRow.id == DatastreamRow.instrument_id).where(
            InstrumentRow.symbol == instrument
        )
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    if after_id is not None:
        query = query.where(DatastreamRow.id > after_id)
    rows = (await session.scalars(query.order_by(DatastreamRow.id).limit(limit))).all()
    return list(rows), int(total)


async def instruments_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, InstrumentRow]:
    rows = await session.scalars(select(InstrumentRow).where(InstrumentRow.id.in_(ids)))
    return {i.id: i for i in rows}


async def exchanges_by_code(session: AsyncSession, codes: Sequence[str]) -> dict[str, ExchangeRow]:
    rows = await session.scalars(select(ExchangeRow).where(ExchangeRow.code.in_(codes)))
    return {e.code: e for e in rows}


def source_context(datastream: DatastreamRow, instrument: InstrumentRow | None) -> SourceContext:
    """What the engine knows of a datastream's source: exchange, market, symbol, id."""
    return SourceContext(
        datastream.exchange_code,
        instrument.symbol if instrument else "",
        datastream.id,
        instrument.type if instrument else "",
        datastream.wire_format,
    )


def segment_files(settings: Settings, segments: Sequence[SegmentInfo]) -> list[SegmentFile]:
    return [
        SegmentFile(str(settings.storage_dir / s.path), s.min_ts, s.max_ts, s.row_count)
        for s in segments
    ]
