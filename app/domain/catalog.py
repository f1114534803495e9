"""Exchanges, instruments, datastreams and the segment catalog; browsing it in keyset pages.
Registering and changing entries, for admins, is `catalog_admin`."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Select, false, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.config import Settings
from app.db.models import DatastreamRow, ExchangeRow, InstrumentRow, SegmentRow
from app.domain.errors import DomainError, ErrorCode, Problem, user_error
from app.storage import storage_for
from engine.logical import SourceContext
from engine.segments import SegmentFile
from engine.strict import StrictParseError, parse_int64
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


def segments_in_range(
    session: Session, datastream_id: int, start_ns: int, end_ns: int
) -> list[SegmentInfo]:
    rows = session.scalars(_segments_query([datastream_id], start_ns, end_ns))
    return [_segment_info(s) for s in rows]


def segments_in_range_many(
    session: Session, datastream_ids: list[int], start_ns: int, end_ns: int
) -> dict[int, list[SegmentInfo]]:
    """`segments_in_range` of several datastreams in one query, by datastream."""
    found: dict[int, list[SegmentInfo]] = {i: [] for i in datastream_ids}
    if not datastream_ids:
        return found
    query = _segments_query(datastream_ids, start_ns, end_ns)
    for row in session.scalars(query):
        found[row.datastream_id].append(_segment_info(row))
    return found


async def segments_in_range_async(
    session: AsyncSession, datastream_id: int, start_ns: int, end_ns: int
) -> list[SegmentInfo]:
    rows = await session.scalars(_segments_query([datastream_id], start_ns, end_ns))
    return [_segment_info(s) for s in rows]


def _segments_query(datastream_ids: list[int], start_ns: int, end_ns: int) -> Select[Any]:
    """The live segments of these datastreams that overlap [start_ns, end_ns), by datastream
    then start: one definition of "in range" for the single and the many-stream reads."""
    return (
        select(SegmentRow)
        .where(
            SegmentRow.datastream_id.in_(datastream_ids),
            SegmentRow.max_ts >= start_ns,
            SegmentRow.min_ts < end_ns,
            SegmentRow.retired_at.is_(None),  # replaced by a compacted segment
        )
        .order_by(SegmentRow.datastream_id, SegmentRow.min_ts)
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
    include_archived: bool,
) -> tuple[list[DatastreamRow], int]:
    """Ordered by id. Unless `include_archived`, the datastreams of archived instruments are
    left out (they still resolve one by one)."""
    check_filters(exchange=exchange, instrument=instrument, streamType=stream_type)
    query = select(DatastreamRow)
    if exchange:
        query = query.where(DatastreamRow.exchange_code == exchange)
    if stream_type:
        query = query.where(DatastreamRow.stream_type == stream_type)
    if instrument or not include_archived:
        query = query.join(InstrumentRow, InstrumentRow.id == DatastreamRow.instrument_id)
    if instrument:
        query = query.where(InstrumentRow.symbol == instrument)
    if not include_archived:
        query = query.where(InstrumentRow.archived.is_(false()))
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    if after_id is not None:
        query = query.where(DatastreamRow.id > after_id)
    rows = (await session.scalars(query.order_by(DatastreamRow.id).limit(limit))).all()
    return list(rows), int(total)


@dataclass(frozen=True)
class DatastreamView:
    """A datastream with its exchange and instrument: what clients see of it."""

    datastream: DatastreamRow
    exchange: ExchangeRow
    instrument: InstrumentRow


async def datastream_views(
    session: AsyncSession, rows: Sequence[DatastreamRow]
) -> list[DatastreamView]:
    """In the rows' order, with two queries whatever their number."""
    instruments = await instruments_by_id(session, [r.instrument_id for r in rows])
    exchanges = await exchanges_by_code(session, [r.exchange_code for r in rows])
    return [
        DatastreamView(r, exchanges[r.exchange_code], instruments[r.instrument_id]) for r in rows
    ]


async def datastreams_by_id(session: AsyncSession, ids: Sequence[int]) -> list[DatastreamRow]:
    """Those that exist, in the order asked for."""
    rows = await session.scalars(select(DatastreamRow).where(DatastreamRow.id.in_(ids)))
    found = {r.id: r for r in rows}
    return [found[i] for i in ids if i in found]


async def datastreams_of_instruments(
    session: AsyncSession, instrument_ids: Sequence[int]
) -> dict[int, list[DatastreamView]]:
    """Each instrument's datastreams, ordered by id."""
    rows = await session.scalars(
        select(DatastreamRow)
        .where(DatastreamRow.instrument_id.in_(instrument_ids))
        .order_by(DatastreamRow.id)
    )
    found: dict[int, list[DatastreamView]] = {i: [] for i in instrument_ids}
    for view in await datastream_views(session, list(rows)):
        found[view.datastream.instrument_id].append(view)
    return found


# -- browsing ---------------------------------------------------------------------------------

MAX_FILTER = 200  # characters of a text filter: longer than any code, symbol or asset
_NOT_A_CURSOR = "after is not a cursor of this list"


def check_filters(**filters: str | None) -> None:
    """Text filters as given (by their argument names): bounded, and without control
    characters (PostgreSQL refuses a NUL in text), each violation INVALID_ARGUMENT."""
    problems = [
        Problem(
            ErrorCode.INVALID_ARGUMENT,
            (name,),
            f"{name} is at most {MAX_FILTER} printable characters",
        )
        for name, value in filters.items()
        if value is not None and (len(value) > MAX_FILTER or not value.isprintable())
    ]
    if problems:
        raise DomainError(problems)


INSTRUMENT_ID_MAX = 2**31 - 1  # an INTEGER column, 32 bits in PostgreSQL


def parse_instrument_id(value: object, field: str) -> int:
    """`12` or `ins_12`: a positive 32-bit integer in ASCII digits."""
    text = value.removeprefix("ins_") if isinstance(value, str) else value
    try:
        return parse_int64(
            text, minimum=1, maximum=INSTRUMENT_ID_MAX, signed=False, what="an instrument id"
        )
    except StrictParseError:
        raise user_error(
            ErrorCode.INVALID_ARGUMENT,
            field,
            f"{str(value)[:40]!r} is not an instrument id (ins_ and a positive 32-bit integer)",
        ) from None


def exchange_cursor(exchange: ExchangeRow) -> str:
    return f"exchange:{exchange.code}"


async def list_exchanges(
    session: AsyncSession, *, after: str | None, limit: int
) -> tuple[list[ExchangeRow], int]:
    """Ordered by code; keyset pages after `after` (an `exchange_cursor` value)."""
    query = select(ExchangeRow)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    if after is not None:
        kind, _, code = after.partition(":")
        if kind != "exchange" or not code:
            raise user_error(ErrorCode.INVALID_ARGUMENT, "after", _NOT_A_CURSOR)
        query = query.where(ExchangeRow.code > code)
    rows = (await session.scalars(query.order_by(ExchangeRow.code).limit(limit))).all()
    return list(rows), int(total)


async def instrument_counts(session: AsyncSession, codes: Sequence[str]) -> dict[str, int]:
    """How many instruments each exchange lists (archived ones are not counted)."""
    rows = await session.execute(
        select(InstrumentRow.exchange_code, func.count())
        .where(InstrumentRow.exchange_code.in_(codes), InstrumentRow.archived.is_(false()))
        .group_by(InstrumentRow.exchange_code)
    )
    counted = {code: int(count) for code, count in rows}
    return {code: counted.get(code, 0) for code in codes}


@dataclass(frozen=True)
class InstrumentFilter:
    """Which instruments to list: all given conditions hold. `search` is a case-insensitive
    substring of the symbol, the base or the quote, taken literally (`%` and `_` too)."""

    exchange: str | None = None
    search: str | None = None
    type: str | None = None
    include_archived: bool = False


# Unique and never changed once registered (only base, quote and archived are), so the
# position of an instrument in this order is fixed, and a cursor needs only its id.
INSTRUMENT_ORDER = (
    InstrumentRow.exchange_code,
    InstrumentRow.symbol,
    InstrumentRow.type,
    InstrumentRow.id,
)


def instrument_cursor(instrument: InstrumentRow) -> str:
    return f"instrument:{instrument.id}"


async def _instrument_position(session: AsyncSession, after: str) -> tuple[Any, ...]:
    kind, _, number = after.partition(":")
    found = None
    if kind == "instrument":
        with contextlib.suppress(DomainError):
            found = await session.get(InstrumentRow, parse_instrument_id(number, "after"))
    if found is None:
        raise user_error(ErrorCode.INVALID_ARGUMENT, "after", _NOT_A_CURSOR)
    return (found.exchange_code, found.symbol, found.type, found.id)


async def list_instruments(
    session: AsyncSession, where: InstrumentFilter, *, after: str | None, limit: int
) -> tuple[list[InstrumentRow], int]:
    """Ordered by (exchange, symbol, type, id); keyset pages after `after` (an
    `instrument_cursor` value). Archived instruments only if asked for."""
    check_filters(exchange=where.exchange, search=where.search, type=where.type)
    query = select(InstrumentRow)
    if where.exchange:
        query = query.where(InstrumentRow.exchange_code == where.exchange)
    if where.type:
        query = query.where(InstrumentRow.type == where.type)
    if where.search:
        query = query.where(
            or_(
                *(
                    column.icontains(where.search, autoescape=True)
                    for column in (InstrumentRow.symbol, InstrumentRow.base, InstrumentRow.quote)
                )
            )
        )
    if not where.include_archived:
        query = query.where(InstrumentRow.archived.is_(false()))
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    if after is not None:
        position = await _instrument_position(session, after)
        query = query.where(tuple_(*INSTRUMENT_ORDER) > tuple_(*position))
    rows = (await session.scalars(query.order_by(*INSTRUMENT_ORDER).limit(limit))).all()
    return list(rows), int(total)


async def get_instrument(session: AsyncSession, instrument_id: int) -> InstrumentRow | None:
    return await session.get(InstrumentRow, instrument_id)


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


def segment_files(
    settings: Settings, segments: Sequence[SegmentInfo | SegmentRow]
) -> list[SegmentFile]:
    """Catalogued segments as the engine reads them, wherever the storage keeps them."""
    storage = storage_for(settings)
    return [
        SegmentFile(
            str(storage.path(s.path)), s.min_ts, s.max_ts, s.row_count, 0, storage.filesystem
        )
        for s in segments
    ]
