"""Roles: every mutation with every role (VIEWER reads, MEMBER also changes exports and
schemas, ADMIN also manages keys, settings and the catalog), and the life of an API key over
the API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import build_schema

from tests.api.helpers import export_input
from tests.helpers.inprocess import ApiClient, Seed

SCHEMA = build_schema((Path(__file__).resolve().parents[2] / "schema.graphql").read_text())
ROLES = ("VIEWER", "MEMBER", "ADMIN")
KEYS = {"VIEWER": "alpha-viewer", "MEMBER": "alpha-member", "ADMIN": "alpha"}
DEFINITION = {
    "streamCategory": "trade",
    "columns": [{"outputColumn": "ts", "meta": "collection_timestamp_ns"}],
}
SCHEMA_ID = {"id": "sch_" + "0" * 32}
JOB_ID = {"id": "exp_" + "0" * 32}
SUB_ID = {"id": "sub_" + "0" * 32}
SCHEDULE_ID = {"id": "rec_" + "0" * 32}
SCHEDULE = {
    "name": "roles",
    "export": {"datastreamId": "601"},
    "every": "P1D",
    "periodStart": "2024-03-01T00:00:00Z",
}
WEBHOOK_ID = {"id": "whk_" + "0" * 32}
EMAIL_ID = {"id": "eml_" + "0" * 32}
EMAIL = {"recipients": ["ops@example.com"], "subject": "$status", "text": "$job_id"}
# The least role each mutation needs, and an input it can run with. A new mutation must be
# added here: the test below fails until it is.
MUTATIONS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "createExport": ("MEMBER", "CreateExportInput", export_input()),
    "cancelExport": ("MEMBER", "CancelExportInput", JOB_ID),
    "deleteExport": ("MEMBER", "DeleteExportInput", JOB_ID),
    "createExportSchedule": ("MEMBER", "CreateExportScheduleInput", SCHEDULE),
    "updateExportSchedule": ("MEMBER", "UpdateExportScheduleInput", {**SCHEDULE_ID, "name": "x"}),
    "pauseExportSchedule": ("MEMBER", "ExportScheduleIdInput", SCHEDULE_ID),
    "resumeExportSchedule": ("MEMBER", "ExportScheduleIdInput", SCHEDULE_ID),
    "deleteExportSchedule": ("MEMBER", "ExportScheduleIdInput", SCHEDULE_ID),
    "createExportSchema": (
        "MEMBER",
        "CreateExportSchemaInput",
        {"name": "roles", "definition": DEFINITION},
    ),
    "createExportSchemaDraft": ("MEMBER", "ExportSchemaIdInput", SCHEMA_ID),
    "updateExportSchemaDraft": (
        "MEMBER",
        "UpdateExportSchemaDraftInput",
        {**SCHEMA_ID, "definition": DEFINITION},
    ),
    "publishExportSchemaDraft": ("MEMBER", "ExportSchemaIdInput", SCHEMA_ID),
    "discardExportSchemaDraft": ("MEMBER", "ExportSchemaIdInput", SCHEMA_ID),
    "renameExportSchema": ("MEMBER", "RenameExportSchemaInput", {**SCHEMA_ID, "name": "x"}),
    "deleteExportSchema": ("MEMBER", "ExportSchemaIdInput", SCHEMA_ID),
    "createCollectionSubscription": (
        "MEMBER",
        "CreateCollectionSubscriptionInput",
        {"datastreamId": "601"},
    ),
    "pauseCollectionSubscription": ("MEMBER", "CollectionSubscriptionIdInput", SUB_ID),
    "resumeCollectionSubscription": ("MEMBER", "CollectionSubscriptionIdInput", SUB_ID),
    "deleteCollectionSubscription": ("MEMBER", "CollectionSubscriptionIdInput", SUB_ID),
    "createImportUpload": ("MEMBER", "CreateImportUploadInput", {"filename": "t.csv"}),
    "startImport": (
        "MEMBER",
        "StartImportInput",
        {"uploadId": "upl_" + "0" * 32, "datastreamId": "601"},
    ),
    "importRecords": ("MEMBER", "ImportRecordsInput", {"datastreamId": "601", "file": "x"}),
    "cancelImport": ("MEMBER", "ImportJobIdInput", {"id": "imp_" + "0" * 32}),
    # Export schemas need MEMBER; the catalog's resources need ADMIN (tested with them).
    "importResources": (
        "MEMBER",
        "ImportResourcesInput",
        {"resource": "EXPORT_SCHEMAS", "uploadId": "upl_" + "0" * 32},
    ),
    "createApiKey": ("ADMIN", "CreateApiKeyInput", {"name": "made by a test"}),
    "revokeApiKey": ("ADMIN", "RevokeApiKeyInput", {"id": "key_" + "0" * 32}),
    "updateWorkspaceSettings": (
        "ADMIN",
        "UpdateWorkspaceSettingsInput",
        {"requestsPerMinute": 1000},
    ),
    "registerInstrument": (
        "ADMIN",
        "RegisterInstrumentInput",
        {"exchange": "kraken", "symbol": "ETHUSD", "base": "ETH", "quote": "USD", "type": "spot"},
    ),
    "updateInstrument": ("ADMIN", "UpdateInstrumentInput", {"id": "ins_1", "archived": False}),
    "registerDatastream": (
        "ADMIN",
        "RegisterDatastreamInput",
        {
            "datastreamId": "9001",
            "instrumentId": "ins_1",
            "streamType": "trades",
            "wireFormat": "custom",
        },
    ),
    "updateDatastream": ("ADMIN", "UpdateDatastreamInput", {"id": "601", "source": "wss://x"}),
    # Notifications send workspace data to outside addresses: ADMIN, like keys and settings.
    "createWebhook": (
        "ADMIN",
        "CreateWebhookInput",
        {"url": "https://example.com/hook", "events": ["EXPORT_SUCCEEDED"]},
    ),
    "updateWebhook": ("ADMIN", "UpdateWebhookInput", {**WEBHOOK_ID, "enabled": False}),
    "deleteWebhook": ("ADMIN", "WebhookIdInput", WEBHOOK_ID),
    "testWebhook": ("ADMIN", "WebhookIdInput", WEBHOOK_ID),
    "redeliverWebhook": ("ADMIN", "RedeliverWebhookInput", {"deliveryId": "dlv_" + "0" * 32}),
    "createEmailNotification": ("ADMIN", "CreateEmailNotificationInput", EMAIL),
    "updateEmailNotification": ("ADMIN", "UpdateEmailNotificationInput", {**EMAIL_ID}),
    "deleteEmailNotification": ("ADMIN", "EmailNotificationIdInput", EMAIL_ID),
}


def test_every_mutation_declares_the_role_it_needs() -> None:
    assert SCHEMA.mutation_type is not None
    assert set(SCHEMA.mutation_type.fields) == set(MUTATIONS)


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@pytest.mark.parametrize("role", ROLES)
async def test_each_mutation_is_forbidden_below_its_role(
    idle_api: ApiClient, mutation: str, role: str
) -> None:
    needed, input_type, given = MUTATIONS[mutation]
    document = (
        f"mutation($input: {input_type}!) {{ {mutation}(input: $input) "
        "{ userErrors { code field message } } }"
    )
    payload = (await idle_api.execute(document, {"input": given}, key=KEYS[role]))[mutation]
    forbidden = [e for e in payload["userErrors"] if e["code"] == "FORBIDDEN"]
    if ROLES.index(role) < ROLES.index(needed):
        assert forbidden and needed in forbidden[0]["message"], payload
        assert payload["userErrors"] == forbidden  # nothing else was even looked at
    else:
        assert not forbidden, payload


KEYS_LIST = """query($revoked: Boolean!) { apiKeys(includeRevoked: $revoked) {
  totalCount edges { node { id name role prefix createdAt lastUsedAt expiresAt revokedAt } } } }"""
CREATE_KEY = """mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) {
  apiKey { id name role prefix expiresAt } token userErrors { code field message } } }"""
REVOKE_KEY = """mutation($id: ID!) { revokeApiKey(input: {id: $id}) {
  apiKey { id revokedAt } userErrors { code field message } } }"""
VIEWER = "{ viewer { workspace { id name } apiKey { id role name } } }"


async def test_reading_needs_only_a_viewer_key_but_listing_keys_needs_an_admin(
    idle_api: ApiClient,
) -> None:
    viewer = (await idle_api.execute(VIEWER, key="alpha-viewer"))["viewer"]
    assert viewer["apiKey"]["role"] == "VIEWER" and viewer["workspace"]["name"] == "alpha"
    assert await idle_api.execute("{ exportJobs { totalCount } }", key="alpha-viewer")
    for key in ("alpha-viewer", "alpha-member"):
        response = await idle_api.post(KEYS_LIST, {"revoked": False}, key=key)
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "FORBIDDEN"


async def test_an_admin_creates_lists_and_revokes_keys(idle_api: ApiClient, seed: Seed) -> None:
    created = (
        await idle_api.execute(CREATE_KEY, {"input": {"name": "dashboard", "role": "VIEWER"}})
    )["createApiKey"]
    assert created["userErrors"] == []
    token, key = created["token"], created["apiKey"]
    assert token.startswith(key["prefix"]) and key["role"] == "VIEWER"
    # The new key works, with its role; the listing shows it without its secret.
    idle_api.keys["dashboard"] = token
    assert (await idle_api.execute(VIEWER, key="dashboard"))["viewer"]["apiKey"]["id"] == key["id"]
    listed = (await idle_api.execute(KEYS_LIST, {"revoked": False}))["apiKeys"]
    nodes = {e["node"]["id"]: e["node"] for e in listed["edges"]}
    assert nodes[key["id"]]["lastUsedAt"] is not None
    assert token not in str(listed)
    # Revoked: its next request is unauthenticated, and it is listed only on request.
    revoked = (await idle_api.execute(REVOKE_KEY, {"id": key["id"]}))["revokeApiKey"]
    assert revoked["apiKey"]["revokedAt"] is not None
    response = await idle_api.post(VIEWER, key="dashboard")
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    live = (await idle_api.execute(KEYS_LIST, {"revoked": False}))["apiKeys"]["edges"]
    every = (await idle_api.execute(KEYS_LIST, {"revoked": True}))["apiKeys"]["edges"]
    assert key["id"] not in [e["node"]["id"] for e in live]
    assert key["id"] in [e["node"]["id"] for e in every]
    # Another workspace's admin cannot see or revoke it.
    other = (await idle_api.execute(REVOKE_KEY, {"id": key["id"]}, key="beta"))["revokeApiKey"]
    assert other["userErrors"][0]["code"] == "NOT_FOUND"


async def test_bad_key_inputs_are_user_errors(idle_api: ApiClient) -> None:
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"name": ""}, ["input", "name"]),
        ({"name": "x", "expiresAt": "2001-01-01T00:00:00Z"}, ["input", "expiresAt"]),
        ({"name": "x", "expiresAt": "soon"}, ["input", "expiresAt"]),
    ]
    for given, field in cases:
        payload = (await idle_api.execute(CREATE_KEY, {"input": given}))["createApiKey"]
        assert [e["field"] for e in payload["userErrors"]] == [field], payload
        assert payload["token"] is None
