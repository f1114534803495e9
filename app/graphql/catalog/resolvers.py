"""Catalog queries: datastreams (filtered, paged), one datastream, its availability."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.domain import availability as availability_domain
from app.domain import catalog, wire_formats
from app.graphql.arguments import datastream_id_arg
from app.graphql.catalog.types import Availability, Datastream, WireFormat
from app.graphql.context import Info, authenticated
from app.graphql.relay import After, Connection, First, cursor_value, make_connection, page_size


async def load_datastreams(info: Info, ids: list[int]) -> dict[int, Datastream]:
    async with info.context.sessions() as session:
        rows = [ds for i in ids if (ds := await catalog.get_datastream(session, i)) is not None]
        instruments = await catalog.instruments_by_id(session, [r.instrument_id for r in rows])
        exchanges_ = await catalog.exchanges_by_code(session, [r.exchange_code for r in rows])
    return {
        r.id: Datastream.from_rows(r, exchanges_[r.exchange_code], instruments[r.instrument_id])
        for r in rows
    }


@strawberry.type(description="Read the catalog and data availability.")
class CatalogQuery:
    @authenticated(description="Datastreams, filtered; ordered by id.")
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
        first: First = None,
        after: After = None,
    ) -> Connection[Datastream]:
        limit = page_size(info, first)
        after_value = cursor_value(after)
        after_id = datastream_id_arg(after_value, "after") if after_value is not None else None
        async with info.context.sessions() as session:
            rows, total = await catalog.list_datastreams(
                session,
                exchange=exchange,
                instrument=instrument,
                stream_type=stream_type,
                after_id=after_id,
                limit=limit + 1,
                include_archived=True,
            )
        found = await load_datastreams(info, [r.id for r in rows[:limit]])
        nodes = [found[r.id] for r in rows[:limit]]
        return make_connection(
            nodes,
            [str(n.datastream_id) for n in nodes],
            total,
            has_next=len(rows) > limit,
            has_previous=after is not None,
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
