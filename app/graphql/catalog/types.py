"""GraphQL types of the catalog and of data availability."""

from __future__ import annotations

import strawberry

from app.db import models
from app.domain.availability import DataAvailability
from app.graphql.relay import Node
from app.graphql.scalars import Long, Timestamp


@strawberry.type(description="A trading venue.")
class Exchange:
    code: str = strawberry.field(description="Stable lowercase code, e.g. `binance`.")
    display_name: str = strawberry.field(description="Name for people, e.g. `Binance`.")


@strawberry.type(description="A tradable instrument on an exchange.")
class Instrument:
    exchange: str = strawberry.field(description="Exchange code.")
    symbol: str = strawberry.field(description="Exchange symbol, e.g. `BTCUSDT`.")
    base: str = strawberry.field(description="Base asset, e.g. `BTC`.")
    quote: str = strawberry.field(description="Quote asset, e.g. `USDT`.")
    type: str = strawberry.field(description="Market type, e.g. `spot` or `linear`.")


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
            exchange=Exchange(code=exchange.code, display_name=exchange.display_name),
            instrument=Instrument(
                exchange=instrument.exchange_code,
                symbol=instrument.symbol,
                base=instrument.base,
                quote=instrument.quote,
                type=instrument.type,
            ),
            stream_type=ds.stream_type,
            wire_format=ds.wire_format,
        )


@strawberry.type(description="A message shape the gateway knows: collected live and normalized.")
class WireFormat:
    name: str = strawberry.field(description="e.g. `binance.trade`; a datastream's wireFormat.")
    exchange: str = strawberry.field(description="The exchange whose feed sends it.")
    stream_type: str = strawberry.field(description="`trades` or `book`.")
    description: str = strawberry.field(description="What the messages hold.")
    example: str = strawberry.field(description="A message as received, exactly.")
