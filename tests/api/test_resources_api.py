"""Backup and migration over the API, in process: exportResources as CSV and JSON, and
importResources with the file in a multipart request or from a signed upload; roles, typed
errors, rejections with their lines, dry runs, and a workspace's schemas cloned into another."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx

from tests.helpers.inprocess import ApiClient

EXPORT = """query($resource: ResourceKind!, $format: ResourceFormat!, $filter: String,
  $archived: Boolean!) {
  exportResources(resource: $resource, format: $format, filter: $filter,
                  includeArchived: $archived) {
    filename contentType rowCount content userErrors { code field message } } }"""
IMPORT = """mutation($input: ImportResourcesInput!) { importResources(input: $input) {
  created updated unchanged rejectedRows applied rejected { line field reason }
  userErrors { code field message } } }"""
CREATE_UPLOAD = """mutation($input: CreateImportUploadInput!) { createImportUpload(input: $input) {
  upload { id url } userErrors { code field message } } }"""
CREATE_SCHEMA = """mutation($input: CreateExportSchemaInput!) { createExportSchema(input: $input) {
  exportSchema { id } userErrors { code field message } } }"""
DEFINITION = {
    "streamCategory": "trade",
    "columns": [{"outputColumn": "ts", "meta": "collection_timestamp_ns", "format": "ns"}],
}
NEW_INSTRUMENTS = (
    "exchange,symbol,base,quote,type,archived\n"
    "kraken,ETHUSD,ETH,USD,spot,false\n"
    "binance,BTCUSDT,BTC,USDT,spot,false\n"
)


async def exported(
    api: ApiClient,
    resource: str,
    format: str = "CSV",
    key: str = "alpha",
    filter: str | None = None,
    archived: bool = False,
) -> dict[str, Any]:
    variables = {"resource": resource, "format": format, "filter": filter, "archived": archived}
    return dict((await api.execute(EXPORT, variables, key=key))["exportResources"])


async def multipart(
    api: ApiClient, filename: str, content: bytes | str, key: str = "alpha", **input: Any
) -> dict[str, Any]:
    """importResources with the file in the request (the GraphQL multipart request spec)."""
    data = content.encode() if isinstance(content, str) else content
    operations = {"query": IMPORT, "variables": {"input": {"file": None, **input}}}
    response: httpx.Response = await api.http.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": (filename, data, "application/octet-stream")},
        headers={"X-Api-Key": api.keys[key]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body
    return dict(body["data"]["importResources"])


async def test_any_key_exports_the_catalog_as_csv_or_json(idle_api: ApiClient) -> None:
    as_csv = await exported(idle_api, "INSTRUMENTS", key="alpha-viewer")
    assert as_csv["userErrors"] == [] and as_csv["filename"] == "instruments.csv"
    assert as_csv["contentType"] == "text/csv; charset=utf-8" and as_csv["rowCount"] == 2
    rows = list(csv.DictReader(io.StringIO(as_csv["content"], newline="")))
    assert rows[0] == {
        "exchange": "binance",
        "symbol": "BTCUSDT",
        "base": "BTC",
        "quote": "USDT",
        "type": "spot",
        "archived": "false",
    }
    as_json = await exported(idle_api, "DATASTREAMS", "JSON", key="alpha-viewer", filter="bybit")
    assert as_json["contentType"] == "application/json"
    assert [r["datastream_id"] for r in json.loads(as_json["content"])] == [602]


async def test_archived_instruments_are_exported_only_if_asked(idle_api: ApiClient) -> None:
    archive = """mutation { updateInstrument(input: {id: "ins_2", archived: true}) {
      instrument { symbol archived } userErrors { code } } }"""
    assert (await idle_api.execute(archive))["updateInstrument"]["userErrors"] == []
    listed = await exported(idle_api, "INSTRUMENTS", "JSON")
    everything = await exported(idle_api, "INSTRUMENTS", "JSON", archived=True)
    assert listed["rowCount"] == 1 and everything["rowCount"] == 2
    assert [r["archived"] for r in json.loads(everything["content"])].count(True) == 1


async def test_a_multipart_import_upserts_and_a_dry_run_writes_nothing(
    idle_api: ApiClient,
) -> None:
    dry = await multipart(
        idle_api, "instruments.csv", NEW_INSTRUMENTS, resource="INSTRUMENTS", dryRun=True
    )
    assert (dry["created"], dry["unchanged"], dry["applied"]) == (1, 1, False)
    assert (await exported(idle_api, "INSTRUMENTS"))["rowCount"] == 2
    done = await multipart(idle_api, "instruments.csv", NEW_INSTRUMENTS, resource="INSTRUMENTS")
    assert (done["created"], done["updated"], done["unchanged"], done["applied"]) == (1, 0, 1, True)
    assert done["rejected"] == [] and done["userErrors"] == []
    assert (await exported(idle_api, "INSTRUMENTS", filter="kraken"))["rowCount"] == 1


async def test_abort_reports_every_rejected_row_with_its_line_and_writes_nothing(
    idle_api: ApiClient,
) -> None:
    content = NEW_INSTRUMENTS + "Kraken!,XBTUSD,XBT,USD,spot,false\nkraken,,,,spot,no\n"
    payload = await multipart(
        idle_api, "i.csv", content, resource="INSTRUMENTS", identifierColumn="symbol"
    )
    assert (payload["applied"], payload["rejectedRows"]) == (False, 2)
    assert [(r["line"], r["field"]) for r in payload["rejected"]] == [
        (4, "exchange"),
        (5, "symbol"),
        (5, "archived"),
    ]
    assert (await exported(idle_api, "INSTRUMENTS", filter="kraken"))["rowCount"] == 0
    skipped = await multipart(idle_api, "i.csv", content, resource="INSTRUMENTS", onError="SKIP")
    assert (skipped["applied"], skipped["created"], skipped["rejectedRows"]) == (True, 1, 2)


async def test_files_that_are_not_rows_are_typed_user_errors(idle_api: ApiClient) -> None:
    not_an_array = await multipart(
        idle_api, "i.json", '{"exchange": "kraken"}', resource="INSTRUMENTS"
    )
    [error] = not_an_array["userErrors"]
    assert (error["code"], error["field"]) == ("INVALID_ARGUMENT", ["input", "file"])
    assert "array of objects" in error["message"] and not not_an_array["applied"]
    wrong_key = await multipart(
        idle_api, "i.csv", NEW_INSTRUMENTS, resource="INSTRUMENTS", identifierColumn="base"
    )
    assert wrong_key["userErrors"][0]["field"] == ["input", "identifierColumn"]
    no_file = await idle_api.execute(IMPORT, {"input": {"resource": "INSTRUMENTS"}})
    assert no_file["importResources"]["userErrors"][0]["field"] == ["input", "file"]


async def test_viewers_export_members_import_schemas_and_only_admins_the_catalog(
    idle_api: ApiClient,
) -> None:
    for key, resource in (
        ("alpha-viewer", "EXPORT_SCHEMAS"),
        ("alpha-member", "INSTRUMENTS"),
        ("alpha-member", "DATASTREAMS"),
    ):
        refused = await multipart(idle_api, "f.csv", NEW_INSTRUMENTS, key=key, resource=resource)
        assert [e["code"] for e in refused["userErrors"]] == ["FORBIDDEN"], (key, resource)
    content = json.dumps([{"name": "mine", "version": 1, "definition": DEFINITION}])
    member = await multipart(
        idle_api, "s.json", content, key="alpha-member", resource="EXPORT_SCHEMAS"
    )
    assert (member["created"], member["applied"]) == (1, True)


async def test_a_workspaces_schemas_are_cloned_into_another_with_their_versions(
    idle_api: ApiClient,
) -> None:
    created = await idle_api.execute(
        CREATE_SCHEMA, {"input": {"name": "prices", "definition": DEFINITION}}
    )
    schema_id = created["createExportSchema"]["exportSchema"]["id"]
    draft = {"columns": [*DEFINITION["columns"], {"outputColumn": "raw", "meta": "data"}]}
    await idle_api.execute(
        """mutation($id: ID!, $definition: ExportSchemaDefinitionInput!) {
          createExportSchemaDraft(input: {id: $id}) { userErrors { code } }
          updateExportSchemaDraft(input: {id: $id, definition: $definition}) { userErrors { code } }
          publishExportSchemaDraft(input: {id: $id}) { userErrors { code } } }""",
        {"id": schema_id, "definition": {"streamCategory": "trade", **draft}},
    )
    backup = await exported(idle_api, "EXPORT_SCHEMAS")
    assert backup["rowCount"] == 2
    assert (await exported(idle_api, "EXPORT_SCHEMAS", key="beta"))["rowCount"] == 0
    cloned = await multipart(
        idle_api, backup["filename"], backup["content"], key="beta", resource="EXPORT_SCHEMAS"
    )
    assert (cloned["created"], cloned["rejected"]) == (2, [])
    assert await exported(idle_api, "EXPORT_SCHEMAS", key="beta") == backup


async def test_an_upload_is_imported_once(idle_api: ApiClient) -> None:
    created = await idle_api.execute(CREATE_UPLOAD, {"input": {"filename": "instruments.csv"}})
    upload = created["createImportUpload"]["upload"]
    put = await idle_api.http.put(upload["url"], content=NEW_INSTRUMENTS.encode())
    assert put.status_code == 201, put.text
    variables = {"input": {"resource": "INSTRUMENTS", "uploadId": upload["id"]}}
    payload = (await idle_api.execute(IMPORT, variables))["importResources"]
    assert (payload["created"], payload["unchanged"], payload["applied"]) == (1, 1, True)
    again = (await idle_api.execute(IMPORT, variables))["importResources"]
    assert again["userErrors"][0]["code"] == "NOT_FOUND"


CREATE_SCHEDULE = """mutation($input: CreateExportScheduleInput!) {
  createExportSchedule(input: $input) {
    exportSchedule { name export nextPeriodStart } userErrors { code field message } } }"""
CREATE_WEBHOOK = """mutation($input: CreateWebhookInput!) { createWebhook(input: $input) {
  webhook { url events } userErrors { code field message } } }"""
SCHEDULES = """{ exportSchedules(first: 10) { edges { node {
  name status every periodStart delay timezone catchUp export nextPeriodStart } } } }"""
WEBHOOKS = "{ webhooks(first: 10) { edges { node { url events description enabled } } } }"
PUBLIC_URL = "https://93.184.215.14/hook"  # an address literal: checked without a resolver


async def test_schedules_and_webhooks_are_cloned_into_another_workspace(
    idle_api: ApiClient,
) -> None:
    schedule = {
        "name": "hourly",
        "export": {"datastreamId": "601", "format": "JSONL", "columns": ["data"]},
        "every": "PT1H",
        "periodStart": "2024-03-01T00:00:00Z",
        "delay": "PT5M",
    }
    made = await idle_api.execute(CREATE_SCHEDULE, {"input": schedule})
    assert made["createExportSchedule"]["userErrors"] == []
    hook = {"url": PUBLIC_URL, "events": ["EXPORT_FAILED"], "description": "ops"}
    assert (await idle_api.execute(CREATE_WEBHOOK, {"input": hook}))["createWebhook"][
        "userErrors"
    ] == []
    for resource, listing in (("EXPORT_SCHEDULES", SCHEDULES), ("WEBHOOKS", WEBHOOKS)):
        backup = await exported(idle_api, resource, "JSON")
        assert backup["rowCount"] == 1 and backup["userErrors"] == []
        cloned = await multipart(
            idle_api, backup["filename"], backup["content"], key="beta", resource=resource
        )
        assert (cloned["created"], cloned["rejected"], cloned["applied"]) == (1, [], True)
        assert await exported(idle_api, resource, "JSON", key="beta") == backup
        shown = await idle_api.execute(listing, key="beta")
        assert shown == await idle_api.execute(listing)
    [row] = json.loads((await exported(idle_api, "EXPORT_SCHEDULES", "JSON"))["content"])
    assert row["export"] == made["createExportSchedule"]["exportSchedule"]["export"]
    [hook_row] = json.loads((await exported(idle_api, "WEBHOOKS", "JSON"))["content"])
    assert hook_row == {
        "url": PUBLIC_URL,
        "events": ["EXPORT_FAILED"],
        "description": "ops",
        "enabled": True,
    }


async def test_members_import_schedules_and_only_admins_webhooks(idle_api: ApiClient) -> None:
    schedules = json.dumps(
        [
            {
                "name": "daily",
                "every": "P1D",
                "period_start": "2024-03-01T00:00:00Z",
                "export": {"datastreamId": "601"},
            }
        ]
    )
    webhooks = json.dumps([{"url": PUBLIC_URL, "events": ["EXPORT_SUCCEEDED"]}])
    for key, resource, content in (
        ("alpha-viewer", "EXPORT_SCHEDULES", schedules),
        ("alpha-member", "WEBHOOKS", webhooks),
    ):
        refused = await multipart(idle_api, "f.json", content, key=key, resource=resource)
        assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
            ("FORBIDDEN", ["input"])
        ], (key, resource)
        assert not refused["applied"]
    member = await multipart(
        idle_api, "s.json", schedules, key="alpha-member", resource="EXPORT_SCHEDULES"
    )
    assert (member["created"], member["applied"]) == (1, True)
    admin = await multipart(idle_api, "w.json", webhooks, resource="WEBHOOKS")
    assert (admin["created"], admin["applied"]) == (1, True)
    wrong_key = await multipart(
        idle_api, "w.json", webhooks, resource="WEBHOOKS", identifierColumn="events"
    )
    assert wrong_key["userErrors"][0]["field"] == ["input", "identifierColumn"]
