"""Export schemas through the API: custom schemas, drafts and versions, the snapshot rule,
by-name / by-id / inline use, preview, and the built-in book schema; files read back with
independent readers and compared with values computed from the ingested JSON."""

from __future__ import annotations

import io
import json
import uuid
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.helpers.clients import GraphQLClient
from tests.helpers.data import BINANCE, BINANCE_BOOK, BYBIT, BYBIT_BOOK, START, Dataset
from tests.helpers.environments import GatewayHandle
from tests.helpers.operations import (
    CREATE,
    WINDOW,
    download,
    expected_raw,
    final_update,
    read_text_rows,
    run_export,
)
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

pytestmark = pytest.mark.e2e

DELETE = """mutation($input: ExportSchemaIdInput!) { deleteExportSchema(input: $input) {
  deletedId userErrors { code field message } } }"""


def expected_trades(dataset: Dataset, datastream: int) -> list[list[str]]:
    rows = []
    for ts, text in expected_raw(dataset, datastream):
        message = json.loads(text)
        if datastream == BINANCE.id:
            data = message["data"]
            rows.append([str(ts), data["p"], "sell" if data["m"] else "buy"])
        else:
            rows.extend([str(ts), t["p"], t["S"].lower()] for t in message["data"])
    return rows


def new_schema(client: GraphQLClient, name: str, definition: dict[str, Any]) -> dict[str, Any]:
    payload = client.execute(CREATE_SCHEMA, {"input": {"name": name, "definition": definition}})
    assert payload["createExportSchema"]["userErrors"] == []
    return dict(payload["createExportSchema"]["exportSchema"])


def change(client: GraphQLClient, mutation: str, **input: Any) -> dict[str, Any]:
    data = client.execute(mutation, {"input": input})
    return dict(next(iter(data.values())))


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def csv_rows(job: dict[str, Any]) -> list[dict[str, Any]]:
    [artifact] = job["artifacts"]
    return read_text_rows("CSV", download(artifact), gzipped=True)


@pytest.mark.parametrize("datastream", [BINANCE.id, BYBIT.id])
def test_custom_schema_by_name_produces_the_reference_rows(
    gateway: GatewayHandle, dataset: Dataset, datastream: int
) -> None:
    name = unique("ticks")
    schema = new_schema(gateway.client(), name, TRADE_SCHEMA)
    assert schema["id"].startswith("sch_") and schema["version"] == 1
    assert schema["columns"] == ["ts", "price", "side"] and schema["builtin"] is False
    rows = csv_rows(run_export(gateway, datastream, name, "CSV"))
    assert [[r["ts"], r["price"], r["side"]] for r in rows] == expected_trades(dataset, datastream)


def test_drafts_versions_and_the_snapshot_rule(gateway: GatewayHandle) -> None:
    client = gateway.client()
    schema = new_schema(client, unique("lifecycle"), TRADE_SCHEMA)
    sid = schema["id"]
    assert change(client, PUBLISH, id=sid)["userErrors"][0]["code"] == "FAILED_PRECONDITION"
    opened = change(client, DRAFT, id=sid)
    assert opened["exportSchema"]["draft"]["definition"]["columns"][0]["outputColumn"] == "ts"
    assert change(client, DRAFT, id=sid)["userErrors"][0]["code"] == "CONFLICT"
    for columns in (TRADE_SCHEMA["columns"][:1], V2_COLUMNS):  # replace, repeatable
        updated = change(
            client, UPDATE_DRAFT, id=sid, definition={**TRADE_SCHEMA, "columns": columns}
        )
        assert updated["userErrors"] == []
        assert updated["exportSchema"]["columns"] == ["ts", "price", "side"]  # still v1
    # A job created now keeps version 1, whatever is published later.
    before = client.execute(
        CREATE,
        {"input": {"datastreamId": str(BINANCE.id), "schema": sid, "format": "CSV", **WINDOW}},
    )["createExport"]["exportJob"]
    published = change(client, PUBLISH, id=sid)["exportSchema"]
    assert published["version"] == 2 and published["draft"] is None
    assert published["columns"] == ["ts", "price", "side", "when"]
    assert [v["version"] for v in published["versions"]] == [1, 2]
    assert [c["outputColumn"] for c in published["versions"][0]["definition"]["columns"]] == [
        "ts",
        "price",
        "side",
    ]
    final = final_update(gateway, before["id"])
    assert list(csv_rows(final)[0]) == ["ts", "price", "side"]
    after = run_export(gateway, BINANCE.id, sid, "CSV")
    first = csv_rows(after)[0]
    assert list(first) == ["ts", "price", "side", "when"]
    assert first["when"].startswith("2024-03-01T00:1") and first["when"].endswith("Z")
    # Discard throws a draft away without touching the published versions.
    change(client, DRAFT, id=sid)
    discarded = change(client, DISCARD, id=sid)["exportSchema"]
    assert discarded["draft"] is None and discarded["version"] == 2
    job = client.execute(
        "query($id: ID!) { exportJob(id: $id) { schema { id version columns } } }",
        {"id": before["id"]},
    )["exportJob"]
    assert job["schema"] == {"id": sid, "version": 1, "columns": ["ts", "price", "side"]}


def test_rename_pins_ids_and_delete_keeps_existing_exports(gateway: GatewayHandle) -> None:
    client = gateway.client()
    old, new = unique("old"), unique("new")
    sid = new_schema(client, old, TRADE_SCHEMA)["id"]
    job = run_export(gateway, BINANCE.id, old, "CSV")
    assert change(client, RENAME, id=sid, name=new)["exportSchema"]["name"] == new
    errors = client.execute(
        CREATE,
        {"input": {"datastreamId": str(BINANCE.id), "schema": old, "format": "CSV", **WINDOW}},
    )["createExport"]["userErrors"]
    assert errors == [
        {"code": "NOT_FOUND", "field": ["input", "schema"], "message": f"no export schema {old!r}"}
    ]
    run_export(gateway, BINANCE.id, new, "CSV")
    run_export(gateway, BINANCE.id, sid, "CSV")  # the id survives renames
    assert change(client, RENAME, id=sid, name="normalized")["userErrors"][0]["code"] == "CONFLICT"
    taken = new_schema(client, unique("taken"), TRADE_SCHEMA)["name"]
    assert change(client, RENAME, id=sid, name=taken)["userErrors"][0]["code"] == "CONFLICT"
    duplicate = client.execute(CREATE_SCHEMA, {"input": {"name": new, "definition": TRADE_SCHEMA}})[
        "createExportSchema"
    ]["userErrors"]
    assert [e["code"] for e in duplicate] == ["CONFLICT"]
    reserved = client.execute(
        CREATE_SCHEMA, {"input": {"name": "raw", "definition": TRADE_SCHEMA}}
    )["createExportSchema"]["userErrors"]
    assert [(e["code"], e["field"]) for e in reserved] == [("CONFLICT", ["input", "name"])]
    assert change(client, DELETE, id=sid) == {"deletedId": sid, "userErrors": []}
    lookup = "query($id: ID) { exportSchema(id: $id) { name } }"
    assert client.execute(lookup, {"id": sid})["exportSchema"] is None
    [artifact] = job["artifacts"]
    assert download(artifact)  # the export made with the deleted schema is unaffected
    assert change(client, DELETE, id=sid)["userErrors"][0]["code"] == "NOT_FOUND"


def test_other_workspaces_cannot_see_or_use_a_schema(gateway: GatewayHandle) -> None:
    name = unique("private")
    sid = new_schema(gateway.client(), name, TRADE_SCHEMA)["id"]
    other = gateway.client("b")
    assert other.execute("query($n: String) { exportSchema(name: $n) { id } }", {"n": name}) == {
        "exportSchema": None
    }
    for reference in (name, sid):
        errors = other.execute(
            CREATE,
            {"input": {"datastreamId": "501", "schema": reference, "format": "CSV", **WINDOW}},
        )["createExport"]["userErrors"]
        assert [e["code"] for e in errors] == ["NOT_FOUND"]
    assert change(other, DRAFT, id=sid)["userErrors"][0]["code"] == "NOT_FOUND"
    listed = other.execute("{ exportSchemas(first: 100) { edges { node { name } } } }")
    assert name not in {e["node"]["name"] for e in listed["exportSchemas"]["edges"]}


def test_inline_schema_and_positioned_transform_errors(
    gateway: GatewayHandle, dataset: Dataset
) -> None:
    client = gateway.client()
    inline = {**TRADE_SCHEMA, "sources": []}
    payload = client.execute(
        CREATE,
        {
            "input": {
                "datastreamId": str(BINANCE.id),
                "inlineSchema": inline,
                "format": "CSV",
                **WINDOW,
            }
        },
    )["createExport"]
    assert payload["userErrors"] == []
    rows = csv_rows(final_update(gateway, payload["exportJob"]["id"]))
    assert [[r["ts"], r["price"], r["side"]] for r in rows] == expected_trades(dataset, BINANCE.id)

    bad = json.loads(json.dumps(inline))
    bad["columns"][2]["data"][0]["transform"] = "CASE WHEN {v} THEN (SELECT 1) END"
    bad["columns"][1]["data"][0]["type"] = "decimal(99)"
    errors = client.execute(
        CREATE,
        {"input": {"datastreamId": "501", "inlineSchema": bad, "format": "CSV", **WINDOW}},
    )["createExport"]["userErrors"]
    by_field = {".".join(e["field"]): e for e in errors}
    transform = by_field["input.inlineSchema.columns[2].data.binance.transform"]
    assert transform["code"] == "INVALID_ARGUMENT"
    assert "Subquery is not allowed" in transform["message"]
    assert "(at character" in transform["message"]
    assert (
        "unknown type 'decimal(99)'"
        in by_field["input.inlineSchema.columns[1].data.binance.type"]["message"]
    )
    both = client.execute(
        CREATE,
        {
            "input": {
                "datastreamId": "501",
                "schema": "raw",
                "inlineSchema": inline,
                "format": "CSV",
                **WINDOW,
            }
        },
    )["createExport"]["userErrors"]
    assert [e["code"] for e in both] == ["INVALID_ARGUMENT"]


def test_preview_saved_and_inline_schemas(gateway: GatewayHandle, dataset: Dataset) -> None:
    client = gateway.client()
    name = unique("preview")
    new_schema(client, name, TRADE_SCHEMA)
    for variables in ({"schema": name}, {"inline": TRADE_SCHEMA}):
        preview = client.execute(PREVIEW, {"ds": str(BYBIT.id), "limit": 7, **variables})[
            "previewExportSchema"
        ]
        assert preview["userErrors"] == []
        assert preview["columns"] == [
            {"name": "ts", "type": "int"},
            {"name": "price", "type": "decimal(8)"},
            {"name": "side", "type": "string"},
        ]
        first_rows = [
            [str(ts), t["p"], t["S"].lower()]
            for ts, text in sorted(dataset.records[BYBIT.id])
            for t in json.loads(text)["data"]
        ][:7]
        assert preview["rows"] == first_rows
    wrong = client.execute(PREVIEW, {"ds": str(BYBIT.id), "limit": 5000, "schema": name})
    assert wrong["previewExportSchema"]["userErrors"][0]["field"] == ["limit"]
    book = client.execute(PREVIEW, {"ds": str(BINANCE_BOOK.id), "limit": 3, "schema": name})
    assert book["previewExportSchema"]["userErrors"][0]["code"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize("datastream", [BINANCE_BOOK.id, BYBIT_BOOK.id])
def test_normalized_book_export_has_one_row_per_level(
    gateway: GatewayHandle, dataset: Dataset, datastream: int
) -> None:
    client = gateway.client()
    payload = client.execute(
        CREATE,
        {
            "input": {
                "datastreamId": str(datastream),
                "schema": "normalized",
                "format": "PARQUET",
                "startTime": START,
                "endTime": "2100-01-01T00:00:00Z",
            }
        },
    )["createExport"]
    assert payload["userErrors"] == []
    assert payload["exportJob"]["schema"]["columns"] == [
        "collection_timestamp_ns",
        "exchange_timestamp_ns",
        "exchange",
        "symbol",
        "is_snapshot",
        "side",
        "price",
        "amount",
    ]
    job = final_update(gateway, payload["exportJob"]["id"])
    [artifact] = job["artifacts"]
    table = pq.read_table(io.BytesIO(download(artifact)))
    assert table.schema.field("price").type == pa.decimal128(38, 18)
    assert table.schema.field("is_snapshot").type == pa.bool_()
    expected: list[tuple[object, ...]] = []
    for ts, text in sorted(dataset.records[datastream]):
        message = json.loads(text)
        data = message["data"]
        exchange_ms = data["E"] if datastream == BINANCE_BOOK.id else message["ts"]
        snapshot = message.get("type") == "snapshot"
        for side, levels in (("bid", data["b"]), ("ask", data["a"])):
            expected.extend(
                (ts, exchange_ms * 10**6, side, snapshot, Decimal(p), Decimal(q)) for p, q in levels
            )
    got = list(
        zip(
            table.column("collection_timestamp_ns").cast(pa.int64()).to_pylist(),
            table.column("exchange_timestamp_ns").cast(pa.int64()).to_pylist(),
            table.column("side").to_pylist(),
            table.column("is_snapshot").to_pylist(),
            table.column("price").to_pylist(),
            table.column("amount").to_pylist(),
            strict=True,
        )
    )
    assert got == expected
    assert set(table.column("symbol").to_pylist()) == {"BTCUSDT"}
    if datastream == BYBIT_BOOK.id:
        assert got[0][3] is True  # Bybit starts with a snapshot


def test_a_trade_schema_does_not_apply_to_book_data(gateway: GatewayHandle) -> None:
    errors = gateway.client().execute(
        CREATE,
        {
            "input": {
                "datastreamId": str(BINANCE_BOOK.id),
                "schema": unique("missing"),
                "format": "CSV",
                **WINDOW,
            }
        },
    )["createExport"]["userErrors"]
    assert [e["code"] for e in errors] == ["NOT_FOUND"]
    name = unique("trades_only")
    new_schema(gateway.client(), name, TRADE_SCHEMA)
    errors = gateway.client().execute(
        CREATE,
        {
            "input": {
                "datastreamId": str(BINANCE_BOOK.id),
                "schema": name,
                "format": "CSV",
                **WINDOW,
            }
        },
    )["createExport"]["userErrors"]
    assert errors[0]["code"] == "INVALID_ARGUMENT" and "for trade data" in errors[0]["message"]
