"""The catalog over the API: exchanges and instruments browsed in pages with their totals,
search, cursors of other lists refused, archived instruments hidden unless asked for, and
the admin mutations that register and change instruments and datastreams."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.helpers import graphql_error
from tests.helpers.inprocess import BOOK, BYBIT_TRADES, TRADES, ApiClient

INSTRUMENTS = """query($first: Int, $after: String, $exchange: String, $search: String,
  $type: String, $archived: Boolean!) {
  instruments(first: $first, after: $after, exchange: $exchange, search: $search, type: $type,
              includeArchived: $archived) {
    totalCount
    edges { cursor node { id exchange symbol base quote type archived
                          datastreams { datastreamId } } }
    pageInfo { hasNextPage hasPreviousPage endCursor } } }"""
EXCHANGES = """query($first: Int, $after: String, $archived: Boolean!) {
  exchanges(first: $first, after: $after) {
    totalCount
    edges { cursor node { code displayName instrumentCount
      datastreams(first: 10, includeArchived: $archived) {
        totalCount edges { node { datastreamId } } } } }
    pageInfo { hasNextPage endCursor } } }"""
DATASTREAMS = """query($archived: Boolean!, $after: String) {
  datastreams(includeArchived: $archived, after: $after) {
    totalCount edges { node { datastreamId source instrument { id archived } } } } }"""
REGISTER = """mutation($input: RegisterInstrumentInput!) { registerInstrument(input: $input) {
  instrument { id exchange symbol base quote type archived }
  userErrors { code field message } } }"""
UPDATE = """mutation($input: UpdateInstrumentInput!) { updateInstrument(input: $input) {
  instrument { id archived base quote } userErrors { code field message } } }"""
REGISTER_DS = """mutation($input: RegisterDatastreamInput!) { registerDatastream(input: $input) {
  datastream { id datastreamId streamType wireFormat source exchange { code }
               instrument { id symbol datastreams { datastreamId } } }
  userErrors { code field message } } }"""
UPDATE_DS = """mutation($input: UpdateDatastreamInput!) { updateDatastream(input: $input) {
  datastream { datastreamId wireFormat source } userErrors { code field message } } }"""


def eth(**fields: Any) -> dict[str, Any]:
    return {
        "exchange": "kraken",
        "symbol": "ETH_USD",
        "base": "ETH",
        "quote": "USD",
        "type": "spot",
        **fields,
    }


async def register(api: ApiClient, key: str = "alpha", **fields: Any) -> dict[str, Any]:
    data = await api.execute(REGISTER, {"input": eth(**fields)}, key=key)
    return dict(data["registerInstrument"])


async def registered(api: ApiClient, **fields: Any) -> dict[str, Any]:
    payload = await register(api, **fields)
    assert payload["userErrors"] == [], payload
    return dict(payload["instrument"])


async def instruments(api: ApiClient, **variables: Any) -> dict[str, Any]:
    given = {"archived": False, **variables}
    return dict((await api.execute(INSTRUMENTS, given))["instruments"])


async def every_page(api: ApiClient, size: int, **variables: Any) -> tuple[list[str], int]:
    """The `exchange/symbol/type` of every instrument, page by page; and totalCount."""
    found: list[str] = []
    after = None
    for _ in range(20):
        page = await instruments(api, first=size, after=after, **variables)
        found += [
            f"{e['node']['exchange']}/{e['node']['symbol']}/{e['node']['type']}"
            for e in page["edges"]
        ]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            return found, int(page["totalCount"])
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("paging did not end")


def codes(payload: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


async def test_instruments_page_in_order_with_their_total(idle_api: ApiClient) -> None:
    for symbol in ("SOLUSD", "ADAUSD", "ETH%USD"):
        await registered(idle_api, symbol=symbol, base=symbol[:3])
    everything = [
        "binance/BTCUSDT/spot",
        "bybit/BTCUSDT/linear",
        "kraken/ADAUSD/spot",
        "kraken/ETH%USD/spot",
        "kraken/SOLUSD/spot",
    ]
    for size in (1, 2, 5, 20):
        assert await every_page(idle_api, size) == (everything, 5)
    assert await every_page(idle_api, 1, exchange="kraken") == (everything[2:], 3)
    assert await every_page(idle_api, 1, type="linear") == (everything[1:2], 1)
    first = (await instruments(idle_api, first=1))["edges"][0]["node"]
    assert first["id"].startswith("ins_") and first["archived"] is False
    assert [int(d["datastreamId"]) for d in first["datastreams"]] == [TRADES.id, BOOK.id]


async def test_search_ignores_case_and_takes_wildcards_literally(idle_api: ApiClient) -> None:
    await registered(idle_api)  # ETH_USD
    await registered(idle_api, symbol="ETHXUSD", base="ETHX")
    await registered(idle_api, symbol="ETH%USD", base="ETH")
    assert await every_page(idle_api, 2, search="eth") == (
        ["kraken/ETH%USD/spot", "kraken/ETHXUSD/spot", "kraken/ETH_USD/spot"],
        3,
    )
    assert await every_page(idle_api, 2, search="h_u") == (["kraken/ETH_USD/spot"], 1)
    assert await every_page(idle_api, 2, search="%") == (["kraken/ETH%USD/spot"], 1)
    assert await every_page(idle_api, 2, search="usdt") == (
        ["binance/BTCUSDT/spot", "bybit/BTCUSDT/linear"],
        2,
    )
    assert await every_page(idle_api, 2, search="Ethx") == (["kraken/ETHXUSD/spot"], 1)


async def test_cursors_of_other_lists_are_invalid_arguments(idle_api: ApiClient) -> None:
    async def end_cursor(query: str, name: str, **variables: Any) -> str:
        data = await idle_api.execute(query, {"first": 1, "archived": False, **variables})
        return str(data[name]["pageInfo"]["endCursor"])

    exchange_cursor = await end_cursor(EXCHANGES, "exchanges")
    instrument_cursor = await end_cursor(INSTRUMENTS, "instruments")
    datastream_cursor = (
        await idle_api.execute("{ datastreams(first: 1) { pageInfo { endCursor } } }")
    )["datastreams"]["pageInfo"]["endCursor"]
    cases = [
        (INSTRUMENTS, datastream_cursor),
        (INSTRUMENTS, exchange_cursor),
        (INSTRUMENTS, "bm90IGEgY3Vyc29y"),  # base64 of "not a cursor"
        (EXCHANGES, instrument_cursor),
        (EXCHANGES, datastream_cursor),
        (DATASTREAMS, instrument_cursor),
        (DATASTREAMS, exchange_cursor),
    ]
    for query, cursor in cases:
        response = await idle_api.post(query, {"after": cursor, "archived": False})
        error = graphql_error(response)
        assert error["extensions"]["code"] == "INVALID_ARGUMENT", (query, cursor, error)
        assert error["extensions"]["field"] == "after"


async def test_bad_filters_are_invalid_arguments(idle_api: ApiClient) -> None:
    for variables, field in (
        ({"search": "\x00"}, "search"),
        ({"search": "x" * 201}, "search"),
        ({"exchange": "a\nb"}, "exchange"),
        ({"first": 101}, "first"),
    ):
        error = graphql_error(await idle_api.post(INSTRUMENTS, {"archived": False, **variables}))
        assert error["extensions"]["code"] == "INVALID_ARGUMENT", error
        assert error["extensions"]["field"] == field


async def test_exchanges_with_their_counts_and_datastreams(idle_api: ApiClient) -> None:
    await registered(idle_api, exchangeDisplayName="Kraken Pro")
    data = await idle_api.execute(EXCHANGES, {"archived": False})
    page = data["exchanges"]
    assert int(page["totalCount"]) == 3 and page["pageInfo"]["hasNextPage"] is False
    found = {
        e["node"]["code"]: (
            e["node"]["displayName"],
            e["node"]["instrumentCount"],
            [int(d["node"]["datastreamId"]) for d in e["node"]["datastreams"]["edges"]],
        )
        for e in page["edges"]
    }
    assert found == {
        "binance": ("Binance", 1, [TRADES.id, BOOK.id]),
        "bybit": ("Bybit", 1, [BYBIT_TRADES.id]),
        "kraken": ("Kraken Pro", 1, []),
    }
    assert [e["node"]["code"] for e in page["edges"]] == ["binance", "bybit", "kraken"]
    second = (
        await idle_api.execute(
            EXCHANGES, {"first": 1, "after": page["edges"][0]["cursor"], "archived": False}
        )
    )["exchanges"]
    assert [e["node"]["code"] for e in second["edges"]] == ["bybit"]
    assert int(second["totalCount"]) == 3 and second["pageInfo"]["hasNextPage"] is True


async def test_archived_instruments_are_hidden_unless_asked_for(idle_api: ApiClient) -> None:
    binance = (await instruments(idle_api, exchange="binance"))["edges"][0]["node"]
    archived = (await idle_api.execute(UPDATE, {"input": {"id": binance["id"], "archived": True}}))[
        "updateInstrument"
    ]
    assert archived == {
        "instrument": {"id": binance["id"], "archived": True, "base": "BTC", "quote": "USDT"},
        "userErrors": [],
    }
    assert int((await instruments(idle_api, exchange="binance"))["totalCount"]) == 0
    shown = await instruments(idle_api, exchange="binance", archived=True)
    assert [e["node"]["archived"] for e in shown["edges"]] == [True]
    listed = (await idle_api.execute(DATASTREAMS, {"archived": False}))["datastreams"]
    assert [int(e["node"]["datastreamId"]) for e in listed["edges"]] == [BYBIT_TRADES.id]
    assert int(listed["totalCount"]) == 1
    every = (await idle_api.execute(DATASTREAMS, {"archived": True}))["datastreams"]
    assert int(every["totalCount"]) == 3
    assert {e["node"]["instrument"]["archived"] for e in every["edges"]} == {True, False}
    exchanges = (await idle_api.execute(EXCHANGES, {"archived": False}))["exchanges"]["edges"]
    binance_exchange = exchanges[0]["node"]
    assert binance_exchange["instrumentCount"] == 0
    assert int(binance_exchange["datastreams"]["totalCount"]) == 0
    # One by one, everything still resolves.
    one = await idle_api.execute(
        """query($ins: ID!) { datastream(id: "601") { datastreamId instrument { archived } }
           node(id: $ins) { id ... on Instrument { symbol archived } } }""",
        {"ins": binance["id"]},
    )
    assert one["datastream"] == {"datastreamId": str(TRADES.id), "instrument": {"archived": True}}
    assert one["node"] == {"id": binance["id"], "symbol": "BTCUSDT", "archived": True}
    # Listed again.
    await idle_api.execute(UPDATE, {"input": {"id": binance["id"], "archived": False}})
    assert int((await instruments(idle_api, exchange="binance"))["totalCount"]) == 1


async def test_registering_an_instrument_is_idempotent_and_conflicts_name_fields(
    idle_api: ApiClient,
) -> None:
    first = await registered(idle_api)
    assert first["id"].startswith("ins_") and first["archived"] is False
    assert await registered(idle_api) == first
    conflict = await register(idle_api, quote="USDC")
    assert conflict["instrument"] is None
    assert codes(conflict) == [("CONFLICT", ["input", "quote"])]
    assert "'USD'" in conflict["userErrors"][0]["message"]
    renamed = await register(idle_api, exchangeDisplayName="Kraken Pro")
    assert codes(renamed) == [("CONFLICT", ["input", "exchangeDisplayName"])]


async def test_bad_registrations_are_invalid_arguments_naming_each_field(
    idle_api: ApiClient,
) -> None:
    payload = await register(
        idle_api,
        exchange="Kraken",
        symbol="S" * 65,
        base="B" * 33,
        quote="",
        type="",
        exchangeDisplayName="N" * 201,
    )
    assert payload["instrument"] is None
    assert sorted(codes(payload)) == sorted(
        ("INVALID_ARGUMENT", ["input", f])
        for f in ("symbol", "base", "type", "exchangeDisplayName", "exchange")
    )
    ds = {
        "datastreamId": "²",
        "instrumentId": "ins_-1",
        "streamType": "trades",
        "wireFormat": "nope",
        "source": "\x00",
    }
    refused = (await idle_api.execute(REGISTER_DS, {"input": ds}))["registerDatastream"]
    assert refused["datastream"] is None
    assert codes(refused) == [
        ("INVALID_ARGUMENT", ["input", "datastreamId"]),
        ("INVALID_ARGUMENT", ["input", "instrumentId"]),
        ("INVALID_ARGUMENT", ["input", "wireFormat"]),
        ("INVALID_ARGUMENT", ["input", "source"]),
    ]
    unknown = (await idle_api.execute(UPDATE, {"input": {"id": "ins_424242", "archived": True}}))[
        "updateInstrument"
    ]
    assert codes(unknown) == [("NOT_FOUND", ["input", "id"])]


async def test_registering_and_updating_a_datastream(idle_api: ApiClient) -> None:
    instrument = await registered(idle_api)
    ds = {
        "datastreamId": "ds_9001",
        "instrumentId": instrument["id"],
        "streamType": "trades",
        "wireFormat": "custom",
        "source": "wss://ws.kraken.example/v2",
    }
    created = (await idle_api.execute(REGISTER_DS, {"input": ds}))["registerDatastream"]
    assert created["userErrors"] == []
    assert created["datastream"] == {
        "id": "ds_9001",
        "datastreamId": "9001",  # a Long: a decimal string
        "streamType": "trades",
        "wireFormat": "custom",
        "source": "wss://ws.kraken.example/v2",
        "exchange": {"code": "kraken"},
        "instrument": {
            "id": instrument["id"],
            "symbol": "ETH_USD",
            "datastreams": [{"datastreamId": "9001"}],
        },
    }
    again = await idle_api.execute(REGISTER_DS, {"input": {**ds, "datastreamId": "9001"}})
    assert again["registerDatastream"] == created
    clash = (
        await idle_api.execute(REGISTER_DS, {"input": {**ds, "source": None, "streamType": "book"}})
    )["registerDatastream"]
    assert codes(clash) == [
        ("CONFLICT", ["input", "streamType"]),
        ("CONFLICT", ["input", "source"]),
    ]
    mismatch = (
        await idle_api.execute(
            REGISTER_DS, {"input": {**ds, "datastreamId": "9002", "wireFormat": "bybit.orderbook"}}
        )
    )["registerDatastream"]
    assert codes(mismatch) == [("INVALID_ARGUMENT", ["input", "wireFormat"])]
    # Left out: unchanged; null: forgotten.
    changed = await idle_api.execute(UPDATE_DS, {"input": {"id": "9001", "wireFormat": "custom"}})
    assert changed["updateDatastream"]["datastream"]["source"] == "wss://ws.kraken.example/v2"
    cleared = await idle_api.execute(UPDATE_DS, {"input": {"id": "9001", "source": None}})
    assert cleared["updateDatastream"]["datastream"] == {
        "datastreamId": "9001",  # a Long: a decimal string
        "wireFormat": "custom",
        "source": None,
    }
    listed = (await idle_api.execute(DATASTREAMS, {"archived": False}))["datastreams"]
    assert int(listed["totalCount"]) == 4


async def test_viewers_and_members_may_browse_but_not_register(idle_api: ApiClient) -> None:
    for key in ("alpha-viewer", "alpha-member"):
        assert (await idle_api.execute(INSTRUMENTS, {"archived": True}, key=key))["instruments"]
        payload = await register(idle_api, key=key)
        assert payload["instrument"] is None
        assert codes(payload) == [("FORBIDDEN", ["input"])]
        assert "ADMIN" in payload["userErrors"][0]["message"]
    assert int((await instruments(idle_api, exchange="kraken"))["totalCount"]) == 0
    # Another workspace's admin shares the catalog: its registration is everyone's.
    await registered(idle_api)
    theirs = await register(idle_api, key="beta")
    assert theirs["userErrors"] == [] and theirs["instrument"]["exchange"] == "kraken"


async def test_long_values_travel_as_decimal_strings(idle_api: ApiClient) -> None:
    instrument = await registered(idle_api)
    big = 2**53 + 1  # the first integer a double cannot hold
    ds = {
        "datastreamId": f"ds_{big}",
        "instrumentId": instrument["id"],
        "streamType": "trades",
        "wireFormat": "custom",
    }
    response = await idle_api.post(REGISTER_DS, {"input": ds})
    # Read as JavaScript's JSON.parse reads it, every number a double: nothing is lost.
    body = json.loads(response.text, parse_int=float)
    assert body["data"]["registerDatastream"]["datastream"]["datastreamId"] == str(big)
    listed = await idle_api.execute(DATASTREAMS, {"archived": False})
    assert isinstance(listed["datastreams"]["totalCount"], str)
    assert str(big) in [e["node"]["datastreamId"] for e in listed["datastreams"]["edges"]]


LONG_INPUT = """mutation Upload($size: Long!) {
  createImportUpload(input: {filename: "a.csv", byteSize: $size}) { userErrors { code field } } }"""


@pytest.mark.parametrize("size", [12, "12", "+12"])
async def test_long_inputs_take_a_number_or_a_decimal_string(
    idle_api: ApiClient, size: object
) -> None:
    response = await idle_api.http.post(
        "/graphql",
        json={"query": LONG_INPUT, "variables": {"size": size}, "operationName": "Upload"},
        headers={"X-Api-Key": idle_api.keys["alpha"]},
    )
    assert response.json()["data"]["createImportUpload"]["userErrors"] == []


@pytest.mark.parametrize("size", [1.5, "1e3", "12.0", " 12", "9223372036854775808", True])
async def test_long_inputs_refuse_fractions_and_values_past_int64(
    idle_api: ApiClient, size: object
) -> None:
    response = await idle_api.http.post(
        "/graphql",
        json={"query": LONG_INPUT, "variables": {"size": size}, "operationName": "Upload"},
        headers={"X-Api-Key": idle_api.keys["alpha"]},
    )
    error = graphql_error(response)
    assert error["extensions"]["code"] == "BAD_REQUEST", error
    assert "$size" in error["message"], error
