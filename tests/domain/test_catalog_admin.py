"""Registering and changing the catalog: admins only; idempotent registration, CONFLICT naming
each field that differs, every malformed value at once with its field, and archiving."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from app.db.models import DatastreamRow, ExchangeRow, InstrumentRow
from app.domain import catalog_admin
from app.domain.auth import Principal
from app.domain.catalog_admin import (
    DatastreamChanges,
    DatastreamRegistration,
    InstrumentChanges,
    InstrumentRegistration,
)
from app.domain.errors import ErrorCode
from app.domain.runtime import Runtime
from tests.domain.helpers import problems_of
from tests.helpers.inprocess import Seed

ETH = InstrumentRegistration(
    exchange="kraken", symbol="ETHUSD", base="ETH", quote="USD", type="spot"
)


def instrument(**changes: Any) -> InstrumentRegistration:
    return dataclasses.replace(ETH, **changes)


async def register(runtime: Runtime, who: Principal, request: InstrumentRegistration) -> Any:
    async with runtime.sessions() as session:
        return await catalog_admin.register_instrument(session, who, request)


async def register_stream(runtime: Runtime, who: Principal, **fields: Any) -> DatastreamRow:
    request = DatastreamRegistration(
        **{"datastream_id": "9001", "stream_type": "trades", "wire_format": "custom", **fields}
    )
    async with runtime.sessions() as session:
        return await catalog_admin.register_datastream(session, who, request)


async def update(runtime: Runtime, who: Principal, instrument_id: object, **changes: Any) -> Any:
    async with runtime.sessions() as session:
        return await catalog_admin.update_instrument(
            session, who, instrument_id, InstrumentChanges(**changes)
        )


async def update_stream(runtime: Runtime, who: Principal, ds: object, **changes: Any) -> Any:
    async with runtime.sessions() as session:
        return await catalog_admin.update_datastream(session, who, ds, DatastreamChanges(**changes))


async def stored(runtime: Runtime, row_type: Any, key: object) -> Any:
    async with runtime.sessions() as session:
        return await session.get(row_type, key)


@pytest.fixture
def admin(seed: Seed) -> Principal:
    return seed.principals["alpha"]


async def test_registering_creates_the_exchange_and_is_idempotent(
    runtime: Runtime, admin: Principal
) -> None:
    first = await register(runtime, admin, ETH)
    again = await register(runtime, admin, ETH)
    assert again.id == first.id and not first.archived
    exchange = await stored(runtime, ExchangeRow, "kraken")
    assert exchange.display_name == "Kraken"  # its code, titled, when none is given
    named = await register(runtime, admin, instrument(symbol="XBTUSD", base="XBT"))
    assert named.id != first.id and named.exchange_code == "kraken"


async def test_a_new_exchange_takes_the_display_name_and_a_different_one_conflicts(
    runtime: Runtime, admin: Principal
) -> None:
    await register(runtime, admin, instrument(exchange="okx", exchange_display_name="OKX"))
    assert (await stored(runtime, ExchangeRow, "okx")).display_name == "OKX"
    same = await register(runtime, admin, instrument(exchange="okx", exchange_display_name="OKX"))
    assert same.exchange_code == "okx"
    assert await problems_of(
        register(runtime, admin, instrument(exchange="okx", exchange_display_name="Okex"))
    ) == [
        (
            ErrorCode.CONFLICT,
            ("input", "exchangeDisplayName"),
            "exchange 'okx' is named 'OKX'",
        )
    ]


async def test_the_same_instrument_with_other_assets_is_a_conflict_naming_each(
    runtime: Runtime, admin: Principal
) -> None:
    first = await register(runtime, admin, ETH)
    problems = await problems_of(register(runtime, admin, instrument(base="WETH", quote="USDC")))
    assert [(code, field) for code, field, _ in problems] == [
        (ErrorCode.CONFLICT, ("input", "base")),
        (ErrorCode.CONFLICT, ("input", "quote")),
    ]
    assert f"ins_{first.id}" in problems[0][2] and "'ETH'" in problems[0][2]
    # Another type is another instrument.
    assert (await register(runtime, admin, instrument(type="linear", base="X"))).id != first.id


async def test_every_malformed_value_is_reported_at_once_with_its_field(
    runtime: Runtime, admin: Principal
) -> None:
    bad = InstrumentRegistration(
        exchange="Kraken!",
        symbol="",
        base="B" * 33,
        quote=" USD",
        type="t" * 33,
        exchange_display_name="two\nlines",
    )
    problems = await problems_of(register(runtime, admin, bad))
    assert {field[1] for _, field, _ in problems} == {
        "exchange",
        "symbol",
        "base",
        "quote",
        "type",
        "exchangeDisplayName",
    }
    assert {code for code, _, _ in problems} == {ErrorCode.INVALID_ARGUMENT}
    for code in ("x" * 65, "", "a b", "ünicode"):
        [(_, field, _)] = await problems_of(register(runtime, admin, instrument(exchange=code)))
        assert field == ("input", "exchange")
    # At the limits: accepted. Base and quote may be empty (a stream that is no pair).
    edge = instrument(symbol="S" * 64, base="", quote="Q" * 32, type="t" * 32)
    assert (await register(runtime, admin, edge)).symbol == "S" * 64


@pytest.mark.parametrize("role", ["alpha-viewer", "alpha-member"])
async def test_only_admins_change_the_catalog(runtime: Runtime, seed: Seed, role: str) -> None:
    who = seed.principals[role]
    forbidden = [
        register(runtime, who, ETH),
        update(runtime, who, "ins_1", archived=True),
        register_stream(runtime, who, instrument_id="ins_1"),
        update_stream(runtime, who, "601", source="wss://example"),
    ]
    for action in forbidden:
        [(code, field, message)] = await problems_of(action)
        assert (code, field) == (ErrorCode.FORBIDDEN, ("input",)) and "ADMIN" in message
    async with runtime.sessions() as session:
        assert await session.get(ExchangeRow, "kraken") is None


async def test_archiving_and_correcting_an_instrument(runtime: Runtime, admin: Principal) -> None:
    eth = await register(runtime, admin, ETH)
    archived = await update(runtime, admin, f"ins_{eth.id}", archived=True)
    assert archived.archived and archived.base == "ETH"
    # Registering it again returns it as it is: archived (updateInstrument lists it again).
    assert (await register(runtime, admin, ETH)).archived
    fixed = await update(runtime, admin, str(eth.id), archived=False, quote="USDT")
    assert not fixed.archived and fixed.quote == "USDT"
    assert (await stored(runtime, InstrumentRow, eth.id)).quote == "USDT"
    assert await problems_of(update(runtime, admin, "ins_424242", archived=True)) == [
        (ErrorCode.NOT_FOUND, ("input", "id"), "no instrument ins_424242")
    ]
    problems = await problems_of(update(runtime, admin, "ins_²", base="\x00"))
    assert [field for _, field, _ in problems] == [("input", "id"), ("input", "base")]


async def test_registering_a_datastream_is_idempotent_and_conflicts_name_each_field(
    runtime: Runtime, admin: Principal
) -> None:
    eth = await register(runtime, admin, ETH)
    ins = f"ins_{eth.id}"
    created = await register_stream(runtime, admin, instrument_id=ins, source="wss://feed/eth")
    assert (created.id, created.exchange_code, created.instrument_id) == (9001, "kraken", eth.id)
    again = await register_stream(
        runtime, admin, datastream_id="ds_9001", instrument_id=str(eth.id), source="wss://feed/eth"
    )
    assert again.id == 9001 and again.created_at == created.created_at
    problems = await problems_of(
        register_stream(runtime, admin, instrument_id="ins_1", stream_type="book")
    )
    assert [(code, field) for code, field, _ in problems] == [
        (ErrorCode.CONFLICT, ("input", "instrumentId")),
        (ErrorCode.CONFLICT, ("input", "streamType")),
        (ErrorCode.CONFLICT, ("input", "source")),
    ]
    assert "datastream 9001 is registered with instrumentId 'ins_" in problems[0][2]


async def test_bad_datastream_registrations_are_typed_errors(
    runtime: Runtime, admin: Principal
) -> None:
    problems = await problems_of(
        register_stream(
            runtime,
            admin,
            datastream_id="-5",
            instrument_id="ins_x",
            stream_type="",
            wire_format="binance.nope",
            source="s" * 2001,
        )
    )
    assert [(code, field[1]) for code, field, _ in problems] == [
        (ErrorCode.INVALID_ARGUMENT, "datastreamId"),
        (ErrorCode.INVALID_ARGUMENT, "instrumentId"),
        (ErrorCode.INVALID_ARGUMENT, "streamType"),
        (ErrorCode.INVALID_ARGUMENT, "wireFormat"),
        (ErrorCode.INVALID_ARGUMENT, "source"),
    ]
    assert "use one of binance.trade" in problems[3][2]
    for datastream_id in ("0", "9" * 20, "²", str(2**63)):
        [(code, field, _)] = await problems_of(
            register_stream(runtime, admin, datastream_id=datastream_id, instrument_id="ins_1")
        )
        assert (code, field) == (ErrorCode.INVALID_ARGUMENT, ("input", "datastreamId"))
    # A known wire format sends one stream type; an unknown instrument is not found.
    assert await problems_of(
        register_stream(runtime, admin, instrument_id="ins_1", wire_format="binance.depthUpdate")
    ) == [
        (
            ErrorCode.INVALID_ARGUMENT,
            ("input", "wireFormat"),
            "binance.depthUpdate messages are book, not 'trades'",
        )
    ]
    assert await problems_of(register_stream(runtime, admin, instrument_id="ins_2147483647")) == [
        (ErrorCode.NOT_FOUND, ("input", "instrumentId"), "no instrument ins_2147483647")
    ]


async def test_updating_a_datastream_source_and_wire_format(
    runtime: Runtime, admin: Principal
) -> None:
    changed = await update_stream(runtime, admin, "ds_601", source="wss://stream.example/ws")
    assert changed.source == "wss://stream.example/ws" and changed.wire_format == "binance.trade"
    kept = await update_stream(runtime, admin, "601", wire_format="custom")
    assert (kept.source, kept.wire_format) == ("wss://stream.example/ws", "custom")
    cleared = await update_stream(runtime, admin, "601", source=None)
    assert cleared.source is None and (await stored(runtime, DatastreamRow, 601)).source is None
    assert await problems_of(
        update_stream(runtime, admin, "601", wire_format="bybit.orderbook")
    ) == [
        (
            ErrorCode.INVALID_ARGUMENT,
            ("input", "wireFormat"),
            "bybit.orderbook messages are book, not 'trades'",
        )
    ]
    assert await problems_of(update_stream(runtime, admin, "424242", source="x")) == [
        (ErrorCode.NOT_FOUND, ("input", "id"), "no datastream 424242")
    ]


async def test_a_registration_that_loses_a_race_returns_the_winner(
    runtime: Runtime, admin: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another gateway registers the same datastream between our look and our insert."""
    registered_meanwhile = False

    def a_competitor_registers_first() -> int:
        nonlocal registered_meanwhile
        if not registered_meanwhile:
            registered_meanwhile = True
            with runtime.sync_sessions() as session:
                session.add(
                    DatastreamRow(
                        id=9001,
                        exchange_code="binance",
                        instrument_id=1,
                        stream_type="trades",
                        wire_format="custom",
                        created_at=1,
                    )
                )
                session.commit()
        return 2

    monkeypatch.setattr(catalog_admin, "now_ns", a_competitor_registers_first)
    found = await register_stream(runtime, admin, instrument_id="ins_1")
    assert registered_meanwhile and (found.id, found.created_at) == (9001, 1)


async def test_concurrent_registrations_of_one_instrument_agree(
    runtime: Runtime, admin: Principal
) -> None:
    new_exchange = instrument(exchange="bitstamp", symbol="btcusd", base="BTC")
    rows = await asyncio.gather(*(register(runtime, admin, new_exchange) for _ in range(5)))
    assert len({r.id for r in rows}) == 1
