"""Lists through the API: exportJobs filters, orders, cursors and limits; the catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.timestamps import parse_timestamp
from tests.api.helpers import CANCEL, DELETE, LIST, create_job, graphql_error, idle_app, iso
from tests.helpers.inprocess import (
    BOOK,
    BYBIT_TRADES,
    TRADES,
    ApiClient,
    Seed,
    copy_seed,
    settings_for,
)

DATASTREAMS = """query($first: Int, $after: String, $exchange: String, $streamType: String,
  $instrument: String) {
  datastreams(first: $first, after: $after, exchange: $exchange, streamType: $streamType,
              instrument: $instrument) {
    totalCount
    edges { cursor node { id datastreamId exchange { code displayName }
                          instrument { symbol base quote type } streamType wireFormat } }
    pageInfo { hasNextPage hasPreviousPage endCursor } } }"""
AVAILABILITY = """query($id: ID!) { availability(datastreamId: $id) {
  datastreamId ranges { fromTime toTime rowCount } updatedAt } }"""


async def listed(api: ApiClient, **variables: Any) -> dict[str, Any]:
    return dict((await api.execute(LIST, {"order": "CREATED_AT_DESC", **variables}))["exportJobs"])


async def all_pages(api: ApiClient, size: int, **variables: Any) -> tuple[list[str], int]:
    """Every id, following endCursor page by page (at most 20 pages); and totalCount."""
    ids: list[str] = []
    after = None
    for _ in range(20):
        page = await listed(api, first=size, after=after, **variables)
        ids += [e["node"]["id"] for e in page["edges"]]
        assert len(page["edges"]) <= size
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            return ids, int(page["totalCount"])
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("paging did not end")


async def test_export_jobs_filters_and_both_orders_page_by_cursor(idle_api: ApiClient) -> None:
    specs: list[dict[str, Any]] = [
        {"format": "CSV"},
        {"format": "JSONL"},
        {"format": "CSV"},
        {"format": "PARQUET", "datastreamId": str(BYBIT_TRADES.id)},
        {"format": "CSV"},
    ]
    jobs = [await create_job(idle_api, **spec) for spec in specs]
    ids = [j["id"] for j in jobs]
    created = [j["createdAt"] for j in jobs]
    canceled = (await idle_api.execute(CANCEL, {"id": ids[1]}))["cancelExport"]
    assert canceled["exportJob"]["status"] == "CANCELED"

    everything = await listed(idle_api)
    assert [e["node"]["id"] for e in everything["edges"]] == ids[::-1]  # newest first
    assert int(everything["totalCount"]) == 5 and everything["pageInfo"]["hasNextPage"] is False
    assert await all_pages(idle_api, 2) == (ids[::-1], 5)
    assert await all_pages(idle_api, 2, order="CREATED_AT_ASC") == (ids, 5)
    assert await all_pages(idle_api, 1, order="CREATED_AT_ASC", format="CSV") == (
        [ids[0], ids[2], ids[4]],
        3,
    )
    assert await all_pages(idle_api, 10, status="CANCELED") == ([ids[1]], 1)
    assert await all_pages(idle_api, 3, status="QUEUED") == ([ids[4], ids[3], ids[2], ids[0]], 4)
    assert await all_pages(idle_api, 2, datastreamId=str(BYBIT_TRADES.id)) == ([ids[3]], 1)
    assert await all_pages(idle_api, 2, datastreamId=f"ds_{TRADES.id}") == (
        [ids[4], ids[2], ids[1], ids[0]],
        4,
    )
    window = {"createdAfter": created[1], "createdBefore": created[4]}  # [after, before)
    assert await all_pages(idle_api, 2, **window) == ([ids[3], ids[2], ids[1]], 3)
    assert await all_pages(idle_api, 1, order="CREATED_AT_ASC", format="CSV", **window) == (
        [ids[2]],
        1,
    )
    as_ns = {"createdAfter": str(parse_timestamp(created[3]))}  # nanoseconds as a string
    assert await all_pages(idle_api, 5, order="CREATED_AT_ASC", **as_ns) == (ids[3:], 2)
    assert await all_pages(idle_api, 5, format="JSONL", status="QUEUED") == ([], 0)


async def test_cursors_are_positions_that_survive_inserts_and_deletes(idle_api: ApiClient) -> None:
    ids = [(await create_job(idle_api))["id"] for _ in range(5)]
    first = await listed(idle_api, first=2)
    assert [e["node"]["id"] for e in first["edges"]] == [ids[4], ids[3]]
    assert first["edges"][-1]["cursor"] == first["pageInfo"]["endCursor"]
    # The job at the cursor is deleted and a newer one added: the next page is unchanged.
    deleted = (await idle_api.execute(DELETE, {"id": ids[3]}))["deleteExport"]
    assert deleted == {"deletedId": ids[3], "userErrors": []}
    newest = (await create_job(idle_api))["id"]
    rest = await listed(idle_api, first=10, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in rest["edges"]] == [ids[2], ids[1], ids[0]]
    assert int(rest["totalCount"]) == 5 and rest["pageInfo"]["hasPreviousPage"] is True
    assert [e["node"]["id"] for e in (await listed(idle_api, first=1))["edges"]] == [newest]


COUNTED = """query { plain: exportJobs(first: 1) { edges { node { id } } }
  aliased: exportJobs(first: 1) { n: totalCount }
  spread: exportJobs(first: 1) { ...Total }
  inline: exportJobs(first: 1) { ... on ExportJobConnection { totalCount } } }
fragment Total on ExportJobConnection { totalCount }"""


async def test_the_total_is_counted_however_it_is_asked_for(
    idle_api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page that does not ask for totalCount costs no count; asked for through an alias or
    a fragment, it is counted."""
    from app.domain.exports import queries

    for _ in range(3):
        await create_job(idle_api)
    counts: list[bool] = []
    original = queries.list_exports

    async def noted(*args: Any, **kwargs: Any) -> Any:
        counts.append(kwargs["count"])
        return await original(*args, **kwargs)

    monkeypatch.setattr(queries, "list_exports", noted)
    found = await idle_api.execute(COUNTED)
    assert len(found["plain"]["edges"]) == 1
    assert [int(found[k][c]) for k, c in (("aliased", "n"), ("spread", "totalCount"))] == [3, 3]
    assert int(found["inline"]["totalCount"]) == 3
    assert counts == [False, True, True, True]


@pytest.mark.parametrize("first", [-1, 101, 100000])
async def test_a_page_size_out_of_range_is_invalid_argument_without_a_traceback(
    idle_api: ApiClient, first: int
) -> None:
    for query in (
        "query($f: Int) { exportJobs(first: $f) { totalCount } }",
        "query($f: Int) { datastreams(first: $f) { totalCount } }",
        "query($f: Int) { exportSchemas(first: $f) { totalCount } }",
    ):
        response = await idle_api.post(query, {"f": first})
        error = graphql_error(response)
        assert error["message"] == "first must be between 0 and 100"
        assert error["extensions"] == {
            "code": "INVALID_ARGUMENT",
            "field": "first",
            "requestId": response.headers["x-request-id"],
        }
        assert "Traceback" not in response.text and "File " not in response.text


async def test_the_page_size_limit_is_a_setting(seed: Seed, tmp_path: Path) -> None:
    settings = settings_for(copy_seed(seed, tmp_path / "d"), max_page_size=3)
    async with idle_app(settings, seed.keys) as api:
        for _ in range(4):
            await create_job(api)
        default = await listed(api)  # the default page (20) is clamped to the limit
        assert len(default["edges"]) == 3 and default["pageInfo"]["hasNextPage"] is True
        assert len((await listed(api, first=3))["edges"]) == 3
        error = graphql_error(await api.post(LIST, {"order": "CREATED_AT_DESC", "first": 4}))
        assert error["extensions"]["code"] == "INVALID_ARGUMENT"
        assert error["message"] == "first must be between 0 and 3"


async def test_bad_list_arguments_are_invalid_argument_errors(idle_api: ApiClient) -> None:
    job = await create_job(idle_api)
    datastream_cursor = (await idle_api.execute(DATASTREAMS, {"first": 1}))["datastreams"][
        "pageInfo"
    ]["endCursor"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"createdAfter": "yesterday"}, "createdAfter"),
        ({"createdAfter": job["createdAt"], "createdBefore": job["createdAt"]}, "createdBefore"),
        ({"datastreamId": "abc"}, "datastreamId"),
        ({"after": "bm90IGEgY3Vyc29y"}, "after"),  # base64 of "not a cursor"
        ({"after": "%%%"}, "after"),
        ({"after": datastream_cursor}, "after"),  # a cursor of another list
    ]
    for variables, field in cases:
        response = await idle_api.post(LIST, {"order": "CREATED_AT_DESC", **variables})
        error = graphql_error(response)
        assert error["extensions"]["code"] == "INVALID_ARGUMENT", (variables, error)
        assert error["extensions"]["field"] == field, (variables, error)


async def test_datastreams_page_by_cursor_and_filter(idle_api: ApiClient) -> None:
    seen: list[int] = []
    after = None
    for expected in (TRADES.id, BYBIT_TRADES.id, BOOK.id):
        page = (await idle_api.execute(DATASTREAMS, {"first": 1, "after": after}))["datastreams"]
        [edge] = page["edges"]
        assert (
            int(edge["node"]["datastreamId"]) == expected and edge["node"]["id"] == f"ds_{expected}"
        )
        assert int(page["totalCount"]) == 3
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        assert page["pageInfo"]["hasNextPage"] == (expected != BOOK.id)
        seen.append(expected)
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(seen)  # ordered by id
    bybit = (await idle_api.execute(DATASTREAMS, {"exchange": "bybit"}))["datastreams"]
    assert int(bybit["totalCount"]) == 1
    assert bybit["edges"][0]["node"] == {
        "id": f"ds_{BYBIT_TRADES.id}",
        "datastreamId": str(BYBIT_TRADES.id),
        "exchange": {"code": "bybit", "displayName": "Bybit"},
        "instrument": {"symbol": "BTCUSDT", "base": "BTC", "quote": "USDT", "type": "linear"},
        "streamType": "trades",
        "wireFormat": "bybit.publicTrade",
    }
    books = (await idle_api.execute(DATASTREAMS, {"streamType": "book"}))["datastreams"]
    assert [int(e["node"]["datastreamId"]) for e in books["edges"]] == [BOOK.id]
    both = await idle_api.execute(DATASTREAMS, {"exchange": "binance", "streamType": "trades"})
    assert [int(e["node"]["datastreamId"]) for e in both["datastreams"]["edges"]] == [TRADES.id]
    none = await idle_api.execute(DATASTREAMS, {"instrument": "ETHUSDT"})
    assert int(none["datastreams"]["totalCount"]) == 0 and none["datastreams"]["edges"] == []


@pytest.mark.parametrize("datastream", [TRADES.id, BYBIT_TRADES.id, BOOK.id])
async def test_availability_covers_the_seeded_records(
    idle_api: ApiClient, seed: Seed, datastream: int
) -> None:
    found = (await idle_api.execute(AVAILABILITY, {"id": str(datastream)}))["availability"]
    stamps = [ts for ts, _ in seed.records[datastream]]
    assert found["datastreamId"] == f"ds_{datastream}"
    assert found["ranges"] == [
        {"fromTime": iso(min(stamps)), "toTime": iso(max(stamps) + 1), "rowCount": str(len(stamps))}
    ]
    assert found["updatedAt"] is not None


async def test_unknown_datastreams_are_null_and_bad_ids_invalid(idle_api: ApiClient) -> None:
    data = await idle_api.execute(
        '{ availability(datastreamId: "999") { datastreamId } datastream(id: "ds_999") { id }'
        ' node(id: "ds_999") { id } }'
    )
    assert data == {"availability": None, "datastream": None, "node": None}
    node = await idle_api.execute(
        '{ node(id: "ds_601") { id ... on Datastream { datastreamId streamType } } }'
    )
    assert node["node"] == {"id": "ds_601", "datastreamId": "601", "streamType": "trades"}
    assert (await idle_api.execute('{ node(id: "sch_nothing") { id } }'))["node"] is None
    response = await idle_api.post('{ datastream(id: "abc") { id } }')
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "INVALID_ARGUMENT"
    assert error["extensions"]["field"] == "id"


async def test_export_schemas_reject_a_cursor_of_another_list(idle_api: ApiClient) -> None:
    await create_job(idle_api)
    cursor = (await listed(idle_api, first=1))["pageInfo"]["endCursor"]
    response = await idle_api.post(
        "query($c: String) { exportSchemas(first: 1, after: $c) { edges { node { name } } } }",
        {"c": cursor},
    )
    assert graphql_error(response)["extensions"]["code"] == "INVALID_ARGUMENT"
