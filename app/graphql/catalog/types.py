"""GraphQL types of the catalog and of data availability, and the pages of datastreams that
both the root query and an exchange resolve."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import strawberry

from app.db import models
from app.domain import catalog
from app.domain.availability import DataAvailability
from app.domain.errors import DomainError
from app.graphql.arguments import datastream_id_arg
from app.graphql.context import Info, computed
from app.graphql.errors import ApiError, UserError
from app.graphql.relay import (
    After,
    Connection,
    First,
    Node,
    cursor_value,
    make_connection,
    page_size,
)
from app.graphql.scalars import Long, Timestamp

IncludeArchived = Annotated[
    bool,
    strawberry.argument(
        description="Also the datastreams of archived (delisted) instruments; default false."
    ),
]


@strawberry.type(description="A trading venue.")
class Exchange:
    code: str = strawberry.field(description="Stable lowercase code, e.g. `binance`.")
    display_name: str = strawberry.field(description="Name for people, e.g. `Binance`.")

    @computed(description="How many instruments it lists, archived ones not counted.")
    async def instrument_count(self, info: Info) -> int:
        return await info.context.instrument_counts.load(self.code)

    @computed(description="Its datastreams, ordered by id (the same pages as `datastreams`).")
    async def datastreams(
        self,
        info: Info,
        include_archived: IncludeArchived = False,
        first: First = None,
        after: After = None,
    ) -> Connection[Datastream]:
        return await datastream_page(
            info, exchange=self.code, include_archived=include_archived, first=first, after=after
        )

    @classmethod
    def from_row(cls, row: models.ExchangeRow) -> Exchange:
        return cls(code=row.code, display_name=row.display_name)


@strawberry.type(description="A tradable instrument on an exchange (`ins_<id>`).")
class Instrument(Node):
    exchange: str = strawberry.field(description="Exchange code.")
    symbol: str = strawberry.field(description="Exchange symbol, e.g. `BTCUSDT`.")
    base: str = strawberry.field(description="Base asset, e.g. `BTC`.")
    quote: str = strawberry.field(description="Quote asset, e.g. `USDT`.")
    type: str = strawberry.field(description="Market type, e.g. `spot` or `linear`.")
    archived: bool = strawberry.field(
        description="Delisted: hidden from listings unless asked for; its datastreams and "
        "their records stay."
    )
    instrument_id: strawberry.Private[int]

    @computed(description="Its datastreams (archived or not), ordered by id.")
    async def datastreams(self, info: Info) -> list[Datastream]:
        views = await info.context.instrument_datastreams.load(self.instrument_id)
        return [Datastream.from_view(v) for v in views]

    @classmethod
    def from_row(cls, row: models.InstrumentRow) -> Instrument:
        return cls(
            id=strawberry.ID(f"ins_{row.id}"),
            exchange=row.exchange_code,
            symbol=row.symbol,
            base=row.base,
            quote=row.quote,
            type=row.type,
            archived=row.archived,
            instrument_id=row.id,
        )


@strawberry.type(description="A half-open time range [fromTime, toTime) that holds records.")
class AvailableRange:
    from_time: Timestamp = strawberry.field(description="First record's collection time.")
    to_time: Timestamp = strawberry.field(description="Just after the last record (exclusive).")
    row_count: Long = strawberry.field(description="Records in the range.")


@strawberry.type(description="Which time ranges of a datastream hold data.")
class Availability:
    datastream_id: strawberry.ID = strawberry.field(description="The datastream (`ds_<id>`).")
    ranges: list[AvailableRange] = strawberry.field(description="Disjoint ranges, oldest first.")
    updated_at: Timestamp | None = strawberry.field(
        description="When data was last added; null if the datastream has none."
    )

    @classmethod
    def from_data(cls, datastream_id: int, data: DataAvailability) -> Availability:
        return cls(
            datastream_id=strawberry.ID(f"ds_{datastream_id}"),
            ranges=[
                AvailableRange(from_time=r.from_ns, to_time=r.to_ns, row_count=r.row_count)
                for r in data.ranges
            ],
            updated_at=data.updated_at,
        )


@strawberry.type(description="A stream of timestamped records from one exchange and instrument.")
class Datastream(Node):
    datastream_id: Long = strawberry.field(description="The numeric int64 id used in inputs.")
    exchange: Exchange = strawberry.field(description="Where the records come from.")
    instrument: Instrument = strawberry.field(description="What they are about.")
    stream_type: str = strawberry.field(description="Kind of records, e.g. `trades`.")
    wire_format: str = strawberry.field(description="Message shape, e.g. `binance.trade`.")
    source: str | None = strawberry.field(
        description="Where it comes from (a feed URL or topic), as registered; null if unknown."
    )

    @classmethod
    def from_rows(
        cls,
        ds: models.DatastreamRow,
        exchange: models.ExchangeRow,
        instrument: models.InstrumentRow,
    ) -> Datastream:
        return cls(
            id=strawberry.ID(f"ds_{ds.id}"),
            datastream_id=ds.id,
            exchange=Exchange.from_row(exchange),
            instrument=Instrument.from_row(instrument),
            stream_type=ds.stream_type,
            wire_format=ds.wire_format,
            source=ds.source,
        )

    @classmethod
    def from_view(cls, view: catalog.DatastreamView) -> Datastream:
        return cls.from_rows(view.datastream, view.exchange, view.instrument)


async def datastream_nodes(info: Info, rows: Sequence[models.DatastreamRow]) -> list[Datastream]:
    async with info.context.sessions() as session:
        views = await catalog.datastream_views(session, rows)
    return [Datastream.from_view(v) for v in views]


async def datastream_page(
    info: Info,
    *,
    exchange: str | None = None,
    instrument: str | None = None,
    stream_type: str | None = None,
    include_archived: bool,
    first: int | None,
    after: str | None,
) -> Connection[Datastream]:
    """A page of datastreams ordered by id; a cursor is the last one's id."""
    limit = page_size(info, first)
    after_value = cursor_value(after)
    after_id = datastream_id_arg(after_value, "after") if after_value is not None else None
    try:
        async with info.context.sessions() as session:
            rows, total = await catalog.list_datastreams(
                session,
                exchange=exchange,
                instrument=instrument,
                stream_type=stream_type,
                after_id=after_id,
                limit=limit + 1,
                include_archived=include_archived,
            )
    except DomainError as exc:
        raise ApiError.from_domain(exc) from None
    page = rows[:limit]
    return make_connection(
        await datastream_nodes(info, page),
        [str(r.id) for r in page],
        total,
        has_next=len(rows) > limit,
        has_previous=after is not None,
    )


@strawberry.type(description="A message shape the gateway knows: collected live and normalized.")
class WireFormat:
    name: str = strawberry.field(description="e.g. `binance.trade`; a datastream's wireFormat.")
    exchange: str = strawberry.field(description="The exchange whose feed sends it.")
    stream_type: str = strawberry.field(description="`trades` or `book`.")
    description: str = strawberry.field(description="What the messages hold.")
    example: str = strawberry.field(description="A message as received, exactly.")


@strawberry.type(description="Result of registerInstrument and updateInstrument.")
class InstrumentPayload:
    instrument: Instrument | None = strawberry.field(
        default=None, description="The instrument as registered (or as it already was)."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was registered or changed."
    )


@strawberry.type(description="Result of registerDatastream and updateDatastream.")
class DatastreamPayload:
    datastream: Datastream | None = strawberry.field(
        default=None, description="The datastream as registered (or as it already was)."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was registered or changed."
    )
