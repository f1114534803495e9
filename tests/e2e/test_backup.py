"""Backup and migration through a real server in both modes: the catalog exported as CSV,
changed and imported back by upsert (an instrument archived as delisted), a workspace's
export schemas exported as JSON and tried out in another workspace, and its schedules and
webhooks cloned into another."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import pytest

from tests.helpers.data import BINANCE
from tests.helpers.environments import GatewayHandle

pytestmark = pytest.mark.e2e

REGISTER = """mutation($input: RegisterInstrumentInput!) { registerInstrument(input: $input) {
  instrument { id } userErrors { code field message } } }"""
EXPORT = """query($resource: ResourceKind!, $format: ResourceFormat!, $filter: String,
  $archived: Boolean!) { exportResources(resource: $resource, format: $format, filter: $filter,
  includeArchived: $archived) { filename rowCount content userErrors { code field message } } }"""
IMPORT = """mutation($input: ImportResourcesInput!) { importResources(input: $input) {
  created updated unchanged applied rejected { line field reason }
  userErrors { code field message } } }"""


def exported(gateway: GatewayHandle, resource: str, fmt: str, **args: Any) -> dict[str, Any]:
    variables = {"resource": resource, "format": fmt, "filter": None, "archived": False, **args}
    result = gateway.client().execute(EXPORT, variables)["exportResources"]
    assert result["userErrors"] == [], result
    return dict(result)


def imported(
    gateway: GatewayHandle, filename: str, content: str, key: str, **input: Any
) -> dict[str, Any]:
    """importResources with the file in a multipart request."""
    operations = {"query": IMPORT, "variables": {"input": {"file": None, **input}}}
    response = httpx.post(
        gateway.gateway.url + "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": (filename, content.encode(), "text/plain")},
        headers={"X-Api-Key": key},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    result = response.json()["data"]["importResources"]
    assert result["userErrors"] == [] and result["rejected"] == [], result
    return dict(result)


def test_the_catalog_round_trips_and_upserts(gateway: GatewayHandle) -> None:
    for symbol in ("BTCUSD", "ETHUSD"):
        instrument = {"exchange": "bitstamp", "symbol": symbol, "base": symbol[:3]}
        registered = gateway.client().execute(
            REGISTER, {"input": {**instrument, "quote": "USD", "type": "spot"}}
        )
        assert registered["registerInstrument"]["userErrors"] == []
    backup = exported(gateway, "INSTRUMENTS", "CSV", filter="bitstamp")
    rows = list(csv.DictReader(io.StringIO(backup["content"], newline="")))
    assert backup["rowCount"] == len(rows) == 2
    same = imported(
        gateway, "instruments.csv", backup["content"], gateway.key_a, resource="INSTRUMENTS"
    )
    assert (same["created"], same["updated"], same["unchanged"]) == (0, 0, 2)
    for row in rows:  # ETHUSD is delisted
        row["archived"] = "true" if row["symbol"] == "ETHUSD" else row["archived"]
    changed = io.StringIO()
    writer = csv.DictWriter(changed, [*rows[0], "note"])
    writer.writeheader()
    writer.writerows({**row, "note": "extra columns are ignored"} for row in rows)
    result = imported(
        gateway, "instruments.csv", changed.getvalue(), gateway.key_a, resource="INSTRUMENTS"
    )
    assert (result["updated"], result["unchanged"], result["applied"]) == (1, 1, True)
    listed = exported(gateway, "INSTRUMENTS", "JSON", filter="bitstamp")
    assert [r["symbol"] for r in json.loads(listed["content"])] == ["BTCUSD"]
    everything = exported(gateway, "INSTRUMENTS", "JSON", filter="bitstamp", archived=True)
    archived = {r["symbol"]: r["archived"] for r in json.loads(everything["content"])}
    assert archived == {"BTCUSD": False, "ETHUSD": True}


def test_export_schemas_move_to_another_workspace(gateway: GatewayHandle) -> None:
    create = """mutation($input: CreateExportSchemaInput!) { createExportSchema(input: $input) {
      exportSchema { name } userErrors { code field message } } }"""
    definition = {
        "streamCategory": "trade",
        "columns": [{"outputColumn": "ts", "meta": "collection_timestamp_ns"}],
    }
    made = gateway.client().execute(
        create, {"input": {"name": "backup_e2e", "definition": definition}}
    )["createExportSchema"]
    assert made["userErrors"] == []
    backup = exported(gateway, "EXPORT_SCHEMAS", "JSON", filter="backup_e2e")
    assert backup["rowCount"] == 1
    trial = imported(
        gateway,
        "schemas.json",
        backup["content"],
        gateway.key_b,
        resource="EXPORT_SCHEMAS",
        dryRun=True,
    )
    assert (trial["created"], trial["applied"]) == (1, False)


def test_schedules_and_webhooks_are_cloned_into_another_workspace(gateway: GatewayHandle) -> None:
    """The schedule lies in the future and the webhook is disabled: neither acts on the
    gateway the other tests share."""
    schedule = {
        "name": "backup_e2e hourly",
        "export": {"datastreamId": str(BINANCE.id), "format": "CSV"},
        "every": "PT1H",
        "periodStart": "2100-01-01T00:00:00Z",
    }
    create = """mutation($input: CreateExportScheduleInput!) { createExportSchedule(input: $input) {
      exportSchedule { id } userErrors { code field message } } }"""
    made = gateway.client().execute(create, {"input": schedule})["createExportSchedule"]
    assert made["userErrors"] == []
    hook = """mutation($input: CreateWebhookInput!) { createWebhook(input: $input) {
      webhook { id } userErrors { code field message } } }"""
    webhook_input = {"url": "https://93.184.215.14/backup_e2e", "events": ["EXPORT_SUCCEEDED"]}
    webhook = gateway.client().execute(hook, {"input": webhook_input})["createWebhook"]
    assert webhook["userErrors"] == []
    disable = """mutation($id: ID!) { updateWebhook(input: {id: $id, enabled: false}) {
      userErrors { code } } }"""
    gateway.client().execute(disable, {"id": webhook["webhook"]["id"]})
    for resource in ("EXPORT_SCHEDULES", "WEBHOOKS"):
        backup = exported(gateway, resource, "CSV", filter="backup_e2e")
        assert backup["rowCount"] == 1, resource
        cloned = imported(
            gateway, backup["filename"], backup["content"], gateway.key_b, resource=resource
        )
        assert (cloned["created"], cloned["applied"]) == (1, True), resource
        copy = gateway.client("b").execute(
            EXPORT,
            {"resource": resource, "format": "CSV", "filter": "backup_e2e", "archived": False},
        )["exportResources"]
        assert copy["content"] == backup["content"], resource
