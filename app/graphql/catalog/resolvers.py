"""Catalog queries: exchanges, instruments and datastreams (filtered, paged), one datastream,
its availability; and for admins, registering and changing instruments and datastreams."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.domain import availability as availability_domain
from app.domain import catalog, catalog_admin, wire_formats
from app.domain.errors import DomainError
from app.graphql.arguments import datastream_id_arg
from app.graphql.catalog.inputs import (
    RegisterDatastreamInput,
    RegisterInstrumentInput,
    UpdateDatastreamInput,
    UpdateInstrumentInput,
)
from app.graphql.catalog.types import (
    Availability,
    Datastream,
    DatastreamPayload,
    Exchange,
    IncludeArchived,
    Instrument,
    InstrumentPayload,
    WireFormat,
    datastream_nodes,
    datastream_page,
)
from app.graphql.context import Info, authenticated
from app.graphql.errors import ApiError, guarded
from app.graphql.relay import After, Connection, First, cursor_value, page_connection, page_size


async def load_datastreams(info: Info, ids: list[int]) -> dict[int, Datastream]:
    async with info.context.sessions() as session:
        rows = await catalog.datastreams_by_id(session, ids)
    return {d.datastream_id: d for d in await datastream_nodes(info, rows)}


async def one_instrument(info: Info, instrument_id: str) -> Instrument | None:
    """By `ins_<id>`; null if there is none, or if the id cannot be one."""
    try:
        parsed = catalog.parse_instrument_id(instrument_id, "id")
    except DomainError:
        return None
    async with info.context.sessions() as session:
        row = await catalog.get_instrument(session, parsed)
    return Instrument.from_row(row) if row is not None else None


async def _registered_instrument(info: Info, input: RegisterInstrumentInput) -> InstrumentPayload:
    async with info.context.sessions() as session:
        row = await catalog_admin.register_instrument(
            session, info.context.caller, input.to_domain()
        )
    return InstrumentPayload(instrument=Instrument.from_row(row))


async def _updated_instrument(info: Info, input: UpdateInstrumentInput) -> InstrumentPayload:
    async with info.context.sessions() as session:
        row = await catalog_admin.update_instrument(
            session, info.context.caller, input.id, input.to_domain()
        )
    return InstrumentPayload(instrument=Instrument.from_row(row))


async def _registered_datastream(info: Info, input: RegisterDatastreamInput) -> DatastreamPayload:
    async with info.context.sessions() as session:
        row = await catalog_admin.register_datastream(
            session, info.context.caller, input.to_domain()
        )
    [datastream] = await datastream_nodes(info, [row])
    return DatastreamPayload(datastream=datastream)


async def _updated_datastream(info: Info, input: UpdateDatastreamInput) -> DatastreamPayload:
    async with info.context.sessions() as session:
        row = await catalog_admin.update_datastream(
            session, info.context.caller, input.id, input.to_domain()
        )
    [datastream] = await datastream_nodes(info, [row])
    return DatastreamPayload(datastream=datastream)


@strawberry.type(description="Read the catalog and data availability.")
class CatalogQuery:
    @authenticated(description="Exchanges, ordered by code.")
    async def exchanges(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Exchange]:
        limit = page_size(info, first)
        try:
            async with info.context.sessions() as session:
                rows, total = await catalog.list_exchanges(
                    session, after=cursor_value(after), limit=limit + 1
                )
        except DomainError as exc:
            raise ApiError.from_domain(exc) from None
        return page_connection(
            rows, limit, after, total, Exchange.from_row, catalog.exchange_cursor
        )

    @authenticated(
        description="Instruments, filtered (all given conditions hold); ordered by exchange, "
        "symbol, type and id."
    )
    async def instruments(
        self,
        info: Info,
        exchange: Annotated[
            str | None, strawberry.argument(description="Exchange code, e.g. `binance`.")
        ] = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Part of the symbol, base or quote, in any case, taken literally "
                "(`%` and `_` are not wildcards), e.g. `btc`."
            ),
        ] = None,
        instrument_type: Annotated[
            str | None,
            strawberry.argument(name="type", description="Market type, e.g. `spot`."),
        ] = None,
        include_archived: Annotated[
            bool,
            strawberry.argument(description="Also archived (delisted) instruments; default false."),
        ] = False,
        first: First = None,
        after: After = None,
    ) -> Connection[Instrument]:
        limit = page_size(info, first)
        where = catalog.InstrumentFilter(exchange, search, instrument_type, include_archived)
        try:
            async with info.context.sessions() as session:
                rows, total = await catalog.list_instruments(
                    session, where, after=cursor_value(after), limit=limit + 1
                )
        except DomainError as exc:
            raise ApiError.from_domain(exc) from None
        return page_connection(
            rows, limit, after, total, Instrument.from_row, catalog.instrument_cursor
        )

    @authenticated(
        description="Datastreams, filtered; ordered by id. Those of archived instruments only "
        "with includeArchived (each still resolves by its id)."
    )
    async def datastreams(
        self,
        info: Info,
        exchange: Annotated[
            str | None, strawberry.argument(description="Exchange code, e.g. `binance`.")
        ] = None,
        instrument: Annotated[
            str | None, strawberry.argument(description="Instrument symbol, e.g. `BTCUSDT`.")
        ] = None,
        stream_type: Annotated[
            str | None, strawberry.argument(description="e.g. `trades`.")
        ] = None,
        include_archived: IncludeArchived = False,
        first: First = None,
        after: After = None,
    ) -> Connection[Datastream]:
        return await datastream_page(
            info,
            exchange=exchange,
            instrument=instrument,
            stream_type=stream_type,
            include_archived=include_archived,
            first=first,
            after=after,
        )

    @authenticated(description="One datastream by id (`101` or `ds_101`); null if unknown.")
    async def datastream(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Datastream id.")],
    ) -> Datastream | None:
        datastream_id = datastream_id_arg(id, "id")
        return (await load_datastreams(info, [datastream_id])).get(datastream_id)

    @authenticated(
        description="The wire formats the gateway collects and normalizes; a datastream's "
        "wireFormat is one of these or `custom`."
    )
    async def wire_formats(self, info: Info) -> list[WireFormat]:
        return [
            WireFormat(
                name=w.name,
                exchange=w.exchange,
                stream_type=w.stream_type,
                description=w.description,
                example=w.example,
            )
            for w in wire_formats.KNOWN
        ]

    @authenticated(description="Time ranges that hold data for a datastream.")
    async def availability(
        self,
        info: Info,
        datastream_id: Annotated[strawberry.ID, strawberry.argument(description="Datastream id.")],
    ) -> Availability | None:
        ds_id = datastream_id_arg(datastream_id, "datastreamId")
        gap = int(info.context.settings.availability_gap_seconds * 1e9)
        async with info.context.sessions() as session:
            if await catalog.get_datastream(session, ds_id) is None:
                return None
            data = await availability_domain.availability(session, ds_id, gap)
        return Availability.from_data(ds_id, data)


@strawberry.type(description="Register and change instruments and datastreams (ADMIN only).")
class CatalogMutation:
    @authenticated(
        description="Register an instrument, and its exchange if new. Registering the same "
        "exchange, symbol and type again returns it; with another base or quote it is a "
        "CONFLICT."
    )
    async def register_instrument(
        self,
        info: Info,
        input: Annotated[
            RegisterInstrumentInput, strawberry.argument(description="The instrument.")
        ],
    ) -> InstrumentPayload:
        return await guarded(InstrumentPayload, _registered_instrument(info, input))

    @authenticated(
        description="Archive a delisted instrument (or list it again), or fix its assets."
    )
    async def update_instrument(
        self,
        info: Info,
        input: Annotated[UpdateInstrumentInput, strawberry.argument(description="The changes.")],
    ) -> InstrumentPayload:
        return await guarded(InstrumentPayload, _updated_instrument(info, input))

    @authenticated(
        description="Register a datastream of an instrument. The same id with the same "
        "attributes again returns it; with others it is a CONFLICT naming each."
    )
    async def register_datastream(
        self,
        info: Info,
        input: Annotated[
            RegisterDatastreamInput, strawberry.argument(description="The datastream.")
        ],
    ) -> DatastreamPayload:
        return await guarded(DatastreamPayload, _registered_datastream(info, input))

    @authenticated(description="Change a datastream's wire format or source.")
    async def update_datastream(
        self,
        info: Info,
        input: Annotated[UpdateDatastreamInput, strawberry.argument(description="The changes.")],
    ) -> DatastreamPayload:
        return await guarded(DatastreamPayload, _updated_datastream(info, input))
