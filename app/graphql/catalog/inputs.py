"""GraphQL inputs of catalog registration (ADMIN), and their conversion to domain requests."""

from __future__ import annotations

import strawberry

from app.domain import catalog_admin


@strawberry.input(description="An instrument to register (and its exchange, if new).")
class RegisterInstrumentInput:
    exchange: str = strawberry.field(
        description="Exchange code: 1 to 64 of a-z, 0-9, `_`, `.` and `-`, e.g. `binance`."
    )
    exchange_display_name: str | None = strawberry.field(
        default=None,
        description="The exchange's name for people (1 to 200 characters), used when the "
        "exchange is new; default its code, titled. Must match if the exchange exists.",
    )
    symbol: str = strawberry.field(description="Exchange symbol, e.g. `BTCUSDT` (1 to 64).")
    base: str = strawberry.field(description="Base asset, e.g. `BTC` (at most 32).")
    quote: str = strawberry.field(description="Quote asset, e.g. `USDT` (at most 32).")
    type: str = strawberry.field(description="Market type, e.g. `spot` or `linear` (1 to 32).")

    def to_domain(self) -> catalog_admin.InstrumentRegistration:
        return catalog_admin.InstrumentRegistration(
            exchange=self.exchange,
            symbol=self.symbol,
            base=self.base,
            quote=self.quote,
            type=self.type,
            exchange_display_name=self.exchange_display_name,
        )


@strawberry.input(description="Changes to an instrument; what is left out stays as it is.")
class UpdateInstrumentInput:
    id: strawberry.ID = strawberry.field(description="`ins_...` id.")
    archived: bool | None = strawberry.field(
        default=None,
        description="True archives a delisted instrument (hidden from listings, its data "
        "kept); false lists it again.",
    )
    base: str | None = strawberry.field(default=None, description="Base asset (at most 32).")
    quote: str | None = strawberry.field(default=None, description="Quote asset (at most 32).")

    def to_domain(self) -> catalog_admin.InstrumentChanges:
        return catalog_admin.InstrumentChanges(
            archived=self.archived, base=self.base, quote=self.quote
        )


@strawberry.input(description="A datastream to register, of a registered instrument.")
class RegisterDatastreamInput:
    datastream_id: strawberry.ID = strawberry.field(
        description="Its id, chosen by you: a positive 64-bit integer (`101` or `ds_101`)."
    )
    instrument_id: strawberry.ID = strawberry.field(description="`ins_...` id.")
    stream_type: str = strawberry.field(
        description="Kind of records, e.g. `trades` or `book` (1 to 32 characters)."
    )
    wire_format: str = strawberry.field(
        description="A known wire format (see `wireFormats`) of this stream type, or `custom`."
    )
    source: str | None = strawberry.field(
        default=None, description="Where it comes from: a feed URL or topic (1 to 2000)."
    )

    def to_domain(self) -> catalog_admin.DatastreamRegistration:
        return catalog_admin.DatastreamRegistration(
            datastream_id=self.datastream_id,
            instrument_id=self.instrument_id,
            stream_type=self.stream_type,
            wire_format=self.wire_format,
            source=self.source,
        )


@strawberry.input(description="Changes to a datastream; what is left out stays as it is.")
class UpdateDatastreamInput:
    id: strawberry.ID = strawberry.field(description="Datastream id (`101` or `ds_101`).")
    wire_format: str | None = strawberry.field(
        default=None,
        description="A known wire format of the datastream's stream type, or `custom`.",
    )
    source: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Where it comes from (1 to 2000 characters); null forgets it.",
    )

    def to_domain(self) -> catalog_admin.DatastreamChanges:
        if self.source is strawberry.UNSET:
            return catalog_admin.DatastreamChanges(wire_format=self.wire_format)
        return catalog_admin.DatastreamChanges(wire_format=self.wire_format, source=self.source)
