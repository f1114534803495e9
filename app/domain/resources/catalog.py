"""The catalog as files: exchanges, instruments and datastreams. Instruments are named by
(exchange, symbol, type) and datastreams by their ids, which are chosen by people and the
same on every gateway; instruments' internal ids never appear. Rows are checked by the rules
of `catalog_admin` (the registration mutations'), and an import writes the same rows."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.config import Settings
from app.db.models import DatastreamRow, ExchangeRow, InstrumentRow
from app.domain import catalog_admin
from app.domain.auth import Principal, Role
from app.domain.catalog_admin import InstrumentRegistration
from app.domain.exports.requests import parse_datastream_id
from app.domain.resources.model import (
    ExportFilter,
    Outcome,
    Record,
    Resource,
    ResourceKind,
    Row,
)
from app.domain.resources.values import ABSENT, Absent, RowReader
from engine.timestamps import now_ns

InstrumentKey = tuple[str, str, str]  # exchange, symbol, type


def _containing(text: str, *columns: InstrumentedAttribute[str]) -> ColumnElement[bool]:
    """One of `columns` contains `text`, in any case, literally (`%` and `_` too)."""
    return or_(*(c.icontains(text, autoescape=True) for c in columns))


# -- exchanges --------------------------------------------------------------------------------

EXCHANGE_FIELDS = {"exchange": "code", "exchangeDisplayName": "display_name"}


async def exchange_rows(session: AsyncSession, who: Principal, where: ExportFilter) -> list[Row]:
    """Every exchange (exchanges are never archived), ordered by code."""
    query = select(ExchangeRow)
    if where.text:
        query = query.where(_containing(where.text, ExchangeRow.code, ExchangeRow.display_name))
    found = await session.scalars(query.order_by(ExchangeRow.code).limit(where.limit))
    return [{"code": e.code, "display_name": e.display_name} for e in found]


class ExchangeImporter:
    def __init__(self, exchanges: dict[str, ExchangeRow], session: AsyncSession) -> None:
        self.exchanges, self.session = exchanges, session

    @classmethod
    async def load(
        cls, session: AsyncSession, who: Principal, settings: Settings
    ) -> ExchangeImporter:
        return cls({e.code: e for e in await session.scalars(select(ExchangeRow))}, session)

    async def apply(self, record: Record) -> Outcome:
        cells = RowReader(record)
        code = cells.text("code")
        # An exchange always has a name: an empty cell means "not given", as a missing column.
        name = cells.optional_text("display_name")
        given = name if isinstance(name, str) else None
        cells.domain_problems(catalog_admin.exchange_problems(code, given), EXCHANGE_FIELDS)
        cells.done()
        existing = self.exchanges.get(code)
        if existing is None:
            self.exchanges[code] = row = ExchangeRow(
                code=code, display_name=given or catalog_admin.default_display_name(code)
            )
            self.session.add(row)
            return Outcome.CREATED
        if given is None or given == existing.display_name:
            return Outcome.UNCHANGED
        existing.display_name = given
        return Outcome.UPDATED


# -- instruments ------------------------------------------------------------------------------


async def instrument_rows(session: AsyncSession, who: Principal, where: ExportFilter) -> list[Row]:
    """Ordered by exchange, symbol and type; archived ones only if asked for."""
    query = select(InstrumentRow)
    if where.text:
        named_by = (InstrumentRow.exchange_code, InstrumentRow.symbol)
        query = query.where(
            _containing(where.text, *named_by, InstrumentRow.base, InstrumentRow.quote)
        )
    if not where.include_archived:
        query = query.where(InstrumentRow.archived.is_(false()))
    order = (InstrumentRow.exchange_code, InstrumentRow.symbol, InstrumentRow.type)
    found = await session.scalars(query.order_by(*order).limit(where.limit))
    return [
        {
            "exchange": i.exchange_code,
            "symbol": i.symbol,
            "base": i.base,
            "quote": i.quote,
            "type": i.type,
            "archived": i.archived,
        }
        for i in found
    ]


def _instrument_key(row: InstrumentRow) -> InstrumentKey:
    return (row.exchange_code, row.symbol, row.type)


class InstrumentImporter:
    """Creates the exchange of a new instrument when there is none (named after its code, as
    registerInstrument does); exchanges' names come from importing exchanges."""

    def __init__(
        self,
        session: AsyncSession,
        exchanges: set[str],
        instruments: dict[InstrumentKey, InstrumentRow],
    ) -> None:
        self.session, self.exchanges, self.instruments = session, exchanges, instruments

    @classmethod
    async def load(
        cls, session: AsyncSession, who: Principal, settings: Settings
    ) -> InstrumentImporter:
        exchanges = set(await session.scalars(select(ExchangeRow.code)))
        instruments = {_instrument_key(i): i for i in await session.scalars(select(InstrumentRow))}
        return cls(session, exchanges, instruments)

    async def apply(self, record: Record) -> Outcome:
        cells = RowReader(record)
        key = (cells.text("exchange"), cells.text("symbol"), cells.text("type"))
        existing = self.instruments.get(key)
        base, quote = cells.optional_text("base"), cells.optional_text("quote")
        archived = cells.flag("archived")
        wanted = InstrumentRegistration(
            exchange=key[0],
            symbol=key[1],
            base=_asset(base, existing.base if existing else ""),
            quote=_asset(quote, existing.quote if existing else ""),
            type=key[2],
        )
        cells.domain_problems(catalog_admin.instrument_problems(wanted), {})  # the same names
        cells.done()
        if existing is None:
            self._create(wanted, archived is True)
            return Outcome.CREATED
        changed = (existing.base, existing.quote) != (wanted.base, wanted.quote) or (
            archived is not ABSENT and archived != existing.archived
        )
        existing.base, existing.quote = wanted.base, wanted.quote
        if archived is not ABSENT:
            existing.archived = archived
        return Outcome.UPDATED if changed else Outcome.UNCHANGED

    def _create(self, wanted: InstrumentRegistration, archived: bool) -> None:
        if wanted.exchange not in self.exchanges:
            name = catalog_admin.default_display_name(wanted.exchange)
            self.session.add(ExchangeRow(code=wanted.exchange, display_name=name))
            self.exchanges.add(wanted.exchange)
        row = InstrumentRow(
            exchange_code=wanted.exchange,
            symbol=wanted.symbol,
            base=wanted.base,
            quote=wanted.quote,
            type=wanted.type,
            archived=archived,
        )
        self.session.add(row)
        self.instruments[_instrument_key(row)] = row


def _asset(given: str | Absent | None, current: str) -> str:
    """A missing column keeps the current asset; an empty cell means none."""
    if given is ABSENT:
        return current
    return given or ""


# -- datastreams ------------------------------------------------------------------------------

DATASTREAM_FIELDS = {
    "datastreamId": "datastream_id",
    "streamType": "stream_type",
    "wireFormat": "wire_format",
    "source": "source",
}


async def datastream_rows(session: AsyncSession, who: Principal, where: ExportFilter) -> list[Row]:
    """Ordered by id; those of archived instruments only if asked for."""
    query = select(DatastreamRow, InstrumentRow).join(
        InstrumentRow, InstrumentRow.id == DatastreamRow.instrument_id
    )
    if where.text:
        named_by = (InstrumentRow.exchange_code, InstrumentRow.symbol, DatastreamRow.stream_type)
        query = query.where(_containing(where.text, *named_by))
    if not where.include_archived:
        query = query.where(InstrumentRow.archived.is_(false()))
    found = await session.execute(query.order_by(DatastreamRow.id).limit(where.limit))
    return [
        {
            "datastream_id": d.id,
            "exchange": i.exchange_code,
            "symbol": i.symbol,
            "instrument_type": i.type,
            "stream_type": d.stream_type,
            "wire_format": d.wire_format,
            "source": d.source,
        }
        for d, i in found
    ]


class DatastreamImporter:
    """A datastream's instrument must exist (import instruments first). Its instrument and
    stream type never change (its records are of that instrument and kind); its wire format
    and source do."""

    def __init__(
        self,
        session: AsyncSession,
        instruments: dict[InstrumentKey, InstrumentRow],
        datastreams: dict[int, DatastreamRow],
    ) -> None:
        self.session, self.instruments, self.datastreams = session, instruments, datastreams
        self.instruments_by_id = {i.id: i for i in instruments.values()}

    @classmethod
    async def load(
        cls, session: AsyncSession, who: Principal, settings: Settings
    ) -> DatastreamImporter:
        instruments = {_instrument_key(i): i for i in await session.scalars(select(InstrumentRow))}
        datastreams = {d.id: d for d in await session.scalars(select(DatastreamRow))}
        return cls(session, instruments, datastreams)

    async def apply(self, record: Record) -> Outcome:
        cells = RowReader(record)
        datastream_id = cells.parsed("datastream_id", parse_datastream_id)
        key = (cells.text("exchange"), cells.text("symbol"), cells.text("instrument_type"))
        stream_type, wire_format = cells.text("stream_type"), cells.text("wire_format")
        given_source = cells.optional_text("source")
        existing = self.datastreams.get(datastream_id) if datastream_id else None
        source = (existing.source if existing else None) if given_source is ABSENT else given_source
        cells.domain_problems(
            catalog_admin.datastream_attribute_problems(stream_type, wire_format, source),
            DATASTREAM_FIELDS,
        )
        instrument = self.instruments.get(key)
        if instrument is None and all(key):
            cells.problem(
                "symbol", f"no instrument {key[0]} {key[1]} ({key[2]}): import instruments first"
            )
        if existing is not None and instrument is not None:
            self._unchangeable(cells, existing, instrument, stream_type)
        cells.done()
        assert datastream_id is not None and instrument is not None
        if existing is None:
            self._create(datastream_id, instrument, stream_type, wire_format, source)
            return Outcome.CREATED
        if (existing.wire_format, existing.source) == (wire_format, source):
            return Outcome.UNCHANGED
        existing.wire_format, existing.source = wire_format, source
        return Outcome.UPDATED

    def _unchangeable(
        self,
        cells: RowReader,
        existing: DatastreamRow,
        instrument: InstrumentRow,
        stream_type: str,
    ) -> None:
        if existing.instrument_id != instrument.id:
            registered = self.instruments_by_id[existing.instrument_id]
            cells.problem(
                "symbol",
                f"datastream {existing.id} is of {registered.exchange_code} {registered.symbol} "
                f"({registered.type}); its instrument cannot change",
            )
        if existing.stream_type != stream_type:
            cells.problem(
                "stream_type",
                f"datastream {existing.id} has stream type {existing.stream_type!r}, which "
                "cannot change",
            )

    def _create(
        self,
        datastream_id: int,
        instrument: InstrumentRow,
        stream_type: str,
        wire_format: str,
        source: str | None,
    ) -> None:
        row = DatastreamRow(
            id=datastream_id,
            exchange_code=instrument.exchange_code,
            instrument_id=instrument.id,
            stream_type=stream_type,
            wire_format=wire_format,
            source=source,
            created_at=now_ns(),
        )
        self.session.add(row)
        self.datastreams[datastream_id] = row


# -- the resources ------------------------------------------------------------------------------

EXCHANGES = Resource(
    kind=ResourceKind.EXCHANGES,
    columns=("code", "display_name"),
    required=("code",),
    identifier="code",
    identity="an exchange's code",
    import_role=Role.ADMIN,
    rows=exchange_rows,
    importer=ExchangeImporter.load,
)
INSTRUMENTS = Resource(
    kind=ResourceKind.INSTRUMENTS,
    columns=("exchange", "symbol", "base", "quote", "type", "archived"),
    required=("exchange", "symbol", "type"),
    identifier="symbol",
    identity="the same exchange, symbol and type are the same instrument",
    import_role=Role.ADMIN,
    rows=instrument_rows,
    importer=InstrumentImporter.load,
)
DATASTREAMS = Resource(
    kind=ResourceKind.DATASTREAMS,
    columns=(
        "datastream_id",
        "exchange",
        "symbol",
        "instrument_type",
        "stream_type",
        "wire_format",
        "source",
    ),
    required=(
        "datastream_id",
        "exchange",
        "symbol",
        "instrument_type",
        "stream_type",
        "wire_format",
    ),
    identifier="datastream_id",
    identity="a datastream's id",
    import_role=Role.ADMIN,
    rows=datastream_rows,
    importer=DatastreamImporter.load,
)
