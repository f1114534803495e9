"""Browsing the catalog: instruments searched in any case and literally (LIKE's wildcards are
plain characters), keyset pages in a fixed order with their total, cursors of other lists
refused, and archived instruments hidden from listings unless asked for."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.db.models import InstrumentRow
from app.domain import catalog, catalog_admin
from app.domain.catalog import InstrumentFilter
from app.domain.catalog_admin import InstrumentChanges, InstrumentRegistration
from app.domain.errors import ErrorCode
from app.domain.runtime import Runtime
from tests.domain.helpers import problems_of
from tests.helpers.inprocess import BOOK, BYBIT_TRADES, TRADES, Seed

# (exchange, symbol, base, quote, type), registered after the seed's binance BTCUSDT (spot)
# and bybit BTCUSDT (linear).
MORE = [
    ("kraken", "ETH%USD", "ETH", "USD", "spot"),
    ("kraken", "ETHAUSD", "ETHA", "USD", "spot"),
    ("kraken", "PF1", "SOL", "EUR", "spot"),
    ("binance", "BTC_USDT", "BTC", "USDT", "spot"),
    ("binance", "BTCXUSDT", "BTCX", "USDT", "spot"),
    ("binance", "ethbtc", "eth", "btc", "spot"),
    ("binance", "BTCUSDT", "BTC", "USDT", "linear"),
]


@pytest.fixture
async def instruments(runtime: Runtime, seed: Seed) -> dict[str, int]:
    """`exchange/symbol/type` to id, the seed's included."""
    async with runtime.sessions() as session:
        for exchange, symbol, base, quote, type_ in MORE:
            request = InstrumentRegistration(exchange, symbol, base, quote, type_)
            await catalog_admin.register_instrument(session, seed.principals["alpha"], request)
        rows = (await session.scalars(select(InstrumentRow))).all()
    return {f"{r.exchange_code}/{r.symbol}/{r.type}": r.id for r in rows}


async def symbols(runtime: Runtime, page: int = 100, **where: Any) -> tuple[list[str], int]:
    """Every page's symbols in order, following each page's last cursor; and the total."""
    found: list[str] = []
    totals: set[int] = set()
    after = None
    while True:
        async with runtime.sessions() as session:
            rows, total = await catalog.list_instruments(
                session, InstrumentFilter(**where), after=after, limit=page
            )
        totals.add(total)
        found += [f"{r.exchange_code}/{r.symbol}/{r.type}" for r in rows]
        if len(rows) < page:
            assert len(totals) == 1, "every page gives the same total"
            return found, total
        after = catalog.instrument_cursor(rows[-1])


async def test_instruments_are_ordered_by_exchange_symbol_and_type_and_paged(
    runtime: Runtime, instruments: dict[str, int]
) -> None:
    everything = [
        "binance/BTCUSDT/linear",
        "binance/BTCUSDT/spot",
        "binance/BTCXUSDT/spot",
        "binance/BTC_USDT/spot",
        "binance/ethbtc/spot",
        "bybit/BTCUSDT/linear",
        "kraken/ETH%USD/spot",
        "kraken/ETHAUSD/spot",
        "kraken/PF1/spot",
    ]
    assert await symbols(runtime) == (everything, 9)
    for page in (1, 2, 4):
        assert await symbols(runtime, page=page) == (everything, 9)
    assert await symbols(runtime, page=2, exchange="binance", type="spot") == (everything[1:5], 4)


async def test_search_is_case_insensitive_over_symbol_base_and_quote(
    runtime: Runtime, instruments: dict[str, int]
) -> None:
    found, total = await symbols(runtime, search="eth")
    assert found == ["binance/ethbtc/spot", "kraken/ETH%USD/spot", "kraken/ETHAUSD/spot"]
    assert total == 3
    assert (await symbols(runtime, search="Usd"))[1] == 7  # symbol or quote
    assert (await symbols(runtime, search="BTCx"))[0] == ["binance/BTCXUSDT/spot"]
    assert await symbols(runtime, search="sOl") == (["kraken/PF1/spot"], 1)  # its base
    assert await symbols(runtime, search="EUR") == (["kraken/PF1/spot"], 1)  # its quote


async def test_like_wildcards_in_a_search_match_only_themselves(
    runtime: Runtime, instruments: dict[str, int]
) -> None:
    assert await symbols(runtime, search="%") == (["kraken/ETH%USD/spot"], 1)
    assert await symbols(runtime, search="C_U") == (["binance/BTC_USDT/spot"], 1)
    assert await symbols(runtime, search="_") == (["binance/BTC_USDT/spot"], 1)
    assert await symbols(runtime, search="h%u") == (["kraken/ETH%USD/spot"], 1)
    assert await symbols(runtime, search="/") == ([], 0)  # the escape character itself


async def test_cursors_of_other_lists_are_refused(
    runtime: Runtime, instruments: dict[str, int]
) -> None:
    for after in ("601", "exchange:binance", "instrument:", "instrument:abc", "instrument:-1"):
        async with runtime.sessions() as session:
            listing = catalog.list_instruments(session, InstrumentFilter(), after=after, limit=5)
            assert await problems_of(listing) == [
                (ErrorCode.INVALID_ARGUMENT, ("after",), "after is not a cursor of this list")
            ]
    for after in ("instrument:424242", "instrument:" + "9" * 19, "ins_1"):
        async with runtime.sessions() as session:
            listing = catalog.list_instruments(session, InstrumentFilter(), after=after, limit=5)
            assert (await problems_of(listing))[0][0] == ErrorCode.INVALID_ARGUMENT
        async with runtime.sessions() as session:
            exchanges = catalog.list_exchanges(session, after=after, limit=5)
            assert (await problems_of(exchanges))[0][1] == ("after",)


async def test_text_filters_are_bounded_and_printable(runtime: Runtime) -> None:
    for where, field in (
        (InstrumentFilter(search="\x00"), "search"),
        (InstrumentFilter(search="x" * 201), "search"),
        (InstrumentFilter(exchange="a\nb"), "exchange"),
        (InstrumentFilter(type="\t"), "type"),
    ):
        async with runtime.sessions() as session:
            listing = catalog.list_instruments(session, where, after=None, limit=5)
            [(code, problem_field, _)] = await problems_of(listing)
        assert (code, problem_field) == (ErrorCode.INVALID_ARGUMENT, (field,))


async def test_archived_instruments_and_their_datastreams_are_hidden_unless_asked_for(
    runtime: Runtime, seed: Seed, instruments: dict[str, int]
) -> None:
    async with runtime.sessions() as session:
        await catalog_admin.update_instrument(
            session,
            seed.principals["alpha"],
            instruments["binance/BTCUSDT/spot"],
            InstrumentChanges(archived=True),
        )
        counts = await catalog.instrument_counts(session, ["binance", "bybit", "nowhere"])
        listed, total = await catalog.list_datastreams(
            session,
            exchange=None,
            instrument=None,
            stream_type=None,
            after_id=None,
            limit=10,
            include_archived=False,
        )
        every, every_total = await catalog.list_datastreams(
            session,
            exchange="binance",
            instrument=None,
            stream_type=None,
            after_id=None,
            limit=10,
            include_archived=True,
        )
        still = await catalog.get_datastream(session, TRADES.id)
    assert counts == {"binance": 4, "bybit": 1, "nowhere": 0}  # 5 on binance, one archived
    assert ([r.id for r in listed], total) == ([BYBIT_TRADES.id], 1)
    assert ([r.id for r in every], every_total) == ([TRADES.id, BOOK.id], 2)
    assert still is not None  # one by one, it still resolves
    hidden, _ = await symbols(runtime, exchange="binance")
    shown, _ = await symbols(runtime, exchange="binance", include_archived=True)
    assert "binance/BTCUSDT/spot" not in hidden and "binance/BTCUSDT/spot" in shown
    assert len(shown) == len(hidden) + 1


async def test_exchanges_page_by_code(runtime: Runtime, instruments: dict[str, int]) -> None:
    codes: list[str] = []
    after = None
    while True:
        async with runtime.sessions() as session:
            rows, total = await catalog.list_exchanges(session, after=after, limit=2)
        codes += [r.code for r in rows]
        assert total == 3
        if len(rows) < 2:
            break
        after = catalog.exchange_cursor(rows[-1])
    assert codes == ["binance", "bybit", "kraken"]
