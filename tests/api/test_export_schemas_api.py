"""Export schemas over the API: create, drafts and versions, use by name, preview, errors."""

from __future__ import annotations

import copy
import json
from typing import Any

from tests.api.helpers import (
    create_job,
    create_payload,
    csv_dicts,
    download,
    records_in,
    run_export,
)
from tests.helpers.inprocess import BOOK, BYBIT_TRADES, MINUTE, START, TRADES, ApiClient, Seed
from tests.helpers.schema_documents import (
    CREATE_SCHEMA,
    DISCARD,
    DRAFT,
    PREVIEW,
    PUBLISH,
    RENAME,
    TRADE_SCHEMA,
    UPDATE_DRAFT,
    V2_COLUMNS,
)

SCHEMA_LIST = """query($first: Int, $after: String, $category: String) {
  exportSchemas(first: $first, after: $after, streamCategory: $category) {
    totalCount edges { cursor node { id name builtin streamCategory version } }
    pageInfo { hasNextPage endCursor } } }"""


def expected_trades(seed: Seed, datastream: int, start: int, end: int) -> list[list[str]]:
    """[ts, price, side] rows of TRADE_SCHEMA, decoded from the JSON with the standard library."""
    rows: list[list[str]] = []
    for ts, text in records_in(seed, datastream, start, end):
        data = json.loads(text)["data"]
        if isinstance(data, dict):  # Binance: `m` is true when the buyer is the maker
            rows.append([str(ts), data["p"], "sell" if data["m"] else "buy"])
        else:
            rows.extend([str(ts), t["p"], t["S"].lower()] for t in data)
    return rows


async def new_schema(api: ApiClient, name: str, definition: dict[str, Any]) -> dict[str, Any]:
    data = await api.execute(CREATE_SCHEMA, {"input": {"name": name, "definition": definition}})
    payload = data["createExportSchema"]
    assert payload["userErrors"] == [], payload["userErrors"]
    return dict(payload["exportSchema"])


async def change(api: ApiClient, mutation: str, **fields: Any) -> dict[str, Any]:
    """The payload of a schema mutation (the only field of its data)."""
    [payload] = (await api.execute(mutation, {"input": fields})).values()
    return dict(payload)


async def test_a_saved_schema_is_used_by_name_and_by_id_and_reads_back(
    api: ApiClient, seed: Seed
) -> None:
    schema = await new_schema(api, "taker_trades", TRADE_SCHEMA)
    assert schema["id"].startswith("sch_") and schema["version"] == 1
    assert schema["columns"] == ["ts", "price", "side"] and schema["builtin"] is False
    end = START + MINUTE
    for datastream, reference in ((TRADES.id, "taker_trades"), (BYBIT_TRADES.id, schema["id"])):
        job = await run_export(api, datastreamId=str(datastream), schema=reference)
        [artifact] = job["artifacts"]
        rows = csv_dicts(await download(api, artifact))
        assert [[r["ts"], r["price"], r["side"]] for r in rows] == expected_trades(
            seed, datastream, START, end
        )


async def test_drafts_and_publishing_bump_the_version_and_jobs_keep_theirs(
    idle_api: ApiClient,
) -> None:
    sid = (await new_schema(idle_api, "lifecycle", TRADE_SCHEMA))["id"]
    early = await publish_error(idle_api, sid)
    assert early == "FAILED_PRECONDITION"  # nothing to publish yet
    opened = await change(idle_api, DRAFT, id=sid)
    assert opened["exportSchema"]["draft"]["definition"]["columns"][0]["outputColumn"] == "ts"
    assert (await change(idle_api, DRAFT, id=sid))["userErrors"][0]["code"] == "CONFLICT"
    for columns in (TRADE_SCHEMA["columns"][:1], V2_COLUMNS):  # replaceable, repeatedly
        updated = await change(
            idle_api, UPDATE_DRAFT, id=sid, definition={**TRADE_SCHEMA, "columns": columns}
        )
        assert updated["userErrors"] == []
        assert updated["exportSchema"]["version"] == 1
        assert updated["exportSchema"]["columns"] == ["ts", "price", "side"]  # still v1
    before = await create_job(idle_api, schema="lifecycle")
    assert before["schema"] == {
        "name": "lifecycle",
        "id": sid,
        "version": 1,
        "columns": ["ts", "price", "side"],
    }
    published = (await change(idle_api, PUBLISH, id=sid))["exportSchema"]
    assert published["version"] == 2 and published["draft"] is None
    assert published["columns"] == ["ts", "price", "side", "when"]
    assert [v["version"] for v in published["versions"]] == [1, 2]
    first_columns = published["versions"][0]["definition"]["columns"]
    assert [c["outputColumn"] for c in first_columns] == ["ts", "price", "side"]
    after = await create_job(idle_api, schema=sid)
    assert (after["schema"]["version"], after["schema"]["columns"][-1]) == (2, "when")
    # The job created before the publish keeps its snapshot.
    job = await idle_api.execute(
        "query($id: ID!) { exportJob(id: $id) { schema { id version columns } } }",
        {"id": before["id"]},
    )
    assert job["exportJob"]["schema"] == {
        "id": sid,
        "version": 1,
        "columns": ["ts", "price", "side"],
    }
    # Discarding a draft leaves the published versions alone.
    await change(idle_api, DRAFT, id=sid)
    discarded = (await change(idle_api, DISCARD, id=sid))["exportSchema"]
    assert (discarded["draft"], discarded["version"]) == (None, 2)


async def publish_error(api: ApiClient, schema_id: str) -> str:
    payload = await change(api, PUBLISH, id=schema_id)
    assert payload["exportSchema"] is None
    return str(payload["userErrors"][0]["code"])


async def test_names_are_unique_and_the_builtin_names_reserved(idle_api: ApiClient) -> None:
    sid = (await new_schema(idle_api, "mine", TRADE_SCHEMA))["id"]
    await new_schema(idle_api, "taken", TRADE_SCHEMA)
    again = await change(idle_api, CREATE_SCHEMA, name="mine", definition=TRADE_SCHEMA)
    assert [(e["code"], e["field"]) for e in again["userErrors"]] == [
        ("CONFLICT", ["input", "name"])
    ]
    reserved = await change(idle_api, CREATE_SCHEMA, name="raw", definition=TRADE_SCHEMA)
    assert [(e["code"], e["field"]) for e in reserved["userErrors"]] == [
        ("CONFLICT", ["input", "name"])
    ]
    for name in ("normalized", "taken"):
        renamed = await change(idle_api, RENAME, id=sid, name=name)
        assert renamed["userErrors"][0]["code"] == "CONFLICT", name
    assert (await change(idle_api, RENAME, id=sid, name="renamed"))["userErrors"] == []
    gone = await create_payload(idle_api, schema="mine")
    assert gone["userErrors"] == [
        {
            "code": "NOT_FOUND",
            "field": ["input", "schema"],
            "message": "no export schema 'mine'",
            "retryAfter": None,
        }
    ]
    assert (await create_job(idle_api, schema=sid))["schema"]["name"] == "renamed"


async def test_schemas_are_private_to_their_workspace(idle_api: ApiClient) -> None:
    sid = (await new_schema(idle_api, "private", TRADE_SCHEMA))["id"]
    lookup = "query($n: String) { exportSchema(name: $n) { id } }"
    assert (await idle_api.execute(lookup, {"n": "private"}, key="beta")) == {"exportSchema": None}
    for reference in ("private", sid):
        payload = await create_payload(idle_api, key="beta", schema=reference)
        assert [e["code"] for e in payload["userErrors"]] == ["NOT_FOUND"]
    draft = await idle_api.execute(DRAFT, {"input": {"id": sid}}, key="beta")
    assert draft["createExportSchemaDraft"]["userErrors"][0]["code"] == "NOT_FOUND"
    theirs = (await idle_api.execute(SCHEMA_LIST, {"first": 100}, key="beta"))["exportSchemas"]
    assert "private" not in {e["node"]["name"] for e in theirs["edges"]}
    # The same name is free in the other workspace.
    created = await idle_api.execute(
        CREATE_SCHEMA, {"input": {"name": "private", "definition": TRADE_SCHEMA}}, key="beta"
    )
    assert created["createExportSchema"]["userErrors"] == []


async def test_the_schema_list_has_builtins_first_and_pages_by_cursor(idle_api: ApiClient) -> None:
    for name in ("zeta", "alpha_trades"):
        await new_schema(idle_api, name, TRADE_SCHEMA)
    names: list[tuple[str, bool]] = []
    after = None
    for _ in range(10):
        page = (await idle_api.execute(SCHEMA_LIST, {"first": 2, "after": after}))["exportSchemas"]
        assert int(page["totalCount"]) == 5
        names += [(e["node"]["name"], e["node"]["builtin"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    builtins = [n for n, builtin in names if builtin]
    assert sorted(builtins) == ["normalized", "normalized", "raw"]
    assert names[3:] == [("alpha_trades", False), ("zeta", False)]  # yours, by name
    books = (await idle_api.execute(SCHEMA_LIST, {"category": "book"}))["exportSchemas"]
    assert [(e["node"]["name"], e["node"]["streamCategory"]) for e in books["edges"]] == [
        ("normalized", "book")
    ]


async def test_preview_of_an_inline_or_saved_schema_gives_the_first_rows(
    idle_api: ApiClient, seed: Seed
) -> None:
    await new_schema(idle_api, "preview_me", TRADE_SCHEMA)
    first_rows = expected_trades(seed, BYBIT_TRADES.id, START, START + MINUTE)[:7]
    for variables in ({"inline": TRADE_SCHEMA}, {"schema": "preview_me"}):
        preview = (
            await idle_api.execute(PREVIEW, {"ds": str(BYBIT_TRADES.id), "limit": 7, **variables})
        )["previewExportSchema"]
        assert preview["userErrors"] == []
        assert preview["columns"] == [
            {"name": "ts", "type": "int"},
            {"name": "price", "type": "decimal(8)"},
            {"name": "side", "type": "string"},
        ]
        assert preview["rows"] == first_rows
    too_many = await idle_api.execute(PREVIEW, {"ds": str(TRADES.id), "limit": 201})
    assert too_many["previewExportSchema"]["userErrors"][0]["field"] == ["limit"]
    book = await idle_api.execute(PREVIEW, {"ds": str(BOOK.id), "limit": 3, "schema": "preview_me"})
    assert book["previewExportSchema"]["userErrors"][0]["code"] == "INVALID_ARGUMENT"


def with_duplicates() -> list[tuple[dict[str, Any], list[str]]]:
    """Definitions naming a source twice, and the path (after the argument) at fault."""
    sources = copy.deepcopy(TRADE_SCHEMA)
    sources["sources"] = sources["sources"] * 2
    mappings = copy.deepcopy(TRADE_SCHEMA)
    mappings["columns"][1]["data"].append(mappings["columns"][1]["data"][0])
    return [(sources, ["sources"]), (mappings, ["columns", "1", "data"])]


async def test_a_source_given_twice_is_a_user_error_not_a_graphql_error(
    idle_api: ApiClient,
) -> None:
    for definition, path in with_duplicates():
        payload = await create_payload(idle_api, inlineSchema=definition)
        [error] = payload["userErrors"]
        assert (error["code"], error["field"]) == (
            "INVALID_ARGUMENT",
            ["input", "inlineSchema", *path],
        )
        assert "appears twice" in error["message"]
        saved = await change(idle_api, CREATE_SCHEMA, name="dup", definition=definition)
        assert saved["exportSchema"] is None
        assert [e["field"] for e in saved["userErrors"]] == [["input", "definition", *path]]
        preview = await idle_api.execute(
            PREVIEW, {"ds": str(BYBIT_TRADES.id), "limit": 3, "inline": definition}
        )
        [error] = preview["previewExportSchema"]["userErrors"]
        assert error["field"] == ["inlineSchema", *path]


async def test_a_transform_error_names_its_column_and_position(idle_api: ApiClient) -> None:
    bad = copy.deepcopy(TRADE_SCHEMA)
    bad["columns"][2]["data"][0]["transform"] = "CASE WHEN {v} THEN (SELECT 1) END"
    bad["columns"][1]["data"][0]["type"] = "decimal(99)"
    payload = await create_payload(idle_api, inlineSchema=bad)
    assert payload["exportJob"] is None
    by_field = {".".join(e["field"]): e for e in payload["userErrors"]}
    transform = by_field["input.inlineSchema.columns[2].data.binance.transform"]
    assert transform["code"] == "INVALID_ARGUMENT"
    assert "Subquery is not allowed" in transform["message"]
    assert transform["message"].endswith("(at character 20)")
    assert (
        "unknown type 'decimal(99)'"
        in by_field["input.inlineSchema.columns[1].data.binance.type"]["message"]
    )
    unclosed = copy.deepcopy(TRADE_SCHEMA)
    unclosed["columns"][2]["data"][1]["transform"] = "lower({v}"
    saved = await change(idle_api, CREATE_SCHEMA, name="unclosed", definition=unclosed)
    [error] = saved["userErrors"]
    assert ".".join(error["field"]) == "input.definition.columns[2].data.bybit_linear.transform"
    assert error["message"] == "cannot parse transform: Expecting ) (at character 9)"
    both = await create_payload(idle_api, schema="raw", inlineSchema=TRADE_SCHEMA)
    assert [(e["code"], e["field"]) for e in both["userErrors"]] == [
        ("INVALID_ARGUMENT", ["input", "schema"])
    ]


async def test_preview_errors_name_the_preview_arguments(idle_api: ApiClient) -> None:
    bad = copy.deepcopy(TRADE_SCHEMA)
    bad["columns"][1]["data"][0]["type"] = "decimal(99)"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"schema": "no_such_schema"}, "schema"),
        ({"inline": bad}, "inlineSchema"),
    ]
    for variables, argument in cases:
        preview = await idle_api.execute(PREVIEW, {"ds": str(TRADES.id), "limit": 3, **variables})
        [error] = preview["previewExportSchema"]["userErrors"]
        assert error["field"][0] == argument, error
