"""Notifications over the API: a webhook created by an admin receives a signed
`export.succeeded` at a real local receiver, its deliveries are listed and can be sent again;
an email notification sends a plain-text and HTML email to a real local SMTP server; URLs of
the gateway's own network are refused unless the gateway allows them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from app.config import Settings
from tests.api.helpers import run_export
from tests.helpers.inprocess import ApiClient, Seed, copy_seed, running_app, settings_for
from tests.helpers.receivers import Inbox, Receiver, smtp_inbox, webhook_receiver

CREATE_WEBHOOK = """mutation($input: CreateWebhookInput!) { createWebhook(input: $input) {
  webhook { id url events enabled } secret userErrors { code field message } } }"""
DELIVERIES = """query($id: ID!) { webhookDeliveries(webhookId: $id, first: 10) { totalCount
  edges { node { id eventId eventType status attemptCount lastStatusCode nextAttemptAt
  attempts { number statusCode latencyMs error } } } } }"""


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_inbox() as received:
        yield received


def notifying_settings(seed: Seed, folder: Path, **overrides: Any) -> Settings:
    return settings_for(
        copy_seed(seed, folder),
        webhook_allow_private_addresses=True,
        notify_poll_seconds=0.05,
        notify_retry_base_seconds=0.1,
        **overrides,
    )


@pytest.fixture
async def notifying_api(seed: Seed, tmp_path: Path) -> AsyncIterator[ApiClient]:
    async with running_app(notifying_settings(seed, tmp_path / "data"), seed.keys) as client:
        yield client


async def _arrivals(receiver: Receiver, count: int, timeout: float = 20) -> None:
    async with asyncio.timeout(timeout):
        while len(receiver.requests) < count:
            await asyncio.sleep(0.05)


async def test_an_export_reaches_a_webhook_signed_and_can_be_sent_again(
    notifying_api: ApiClient,
) -> None:
    api = notifying_api
    with webhook_receiver() as receiver:
        created = (
            await api.execute(
                CREATE_WEBHOOK,
                {"input": {"url": receiver.url, "events": ["EXPORT_SUCCEEDED", "EXPORT_FAILED"]}},
            )
        )["createWebhook"]
        assert created["userErrors"] == [] and created["secret"].startswith("whsec_")
        hook_id = created["webhook"]["id"]
        listed = await api.execute("{ webhooks { totalCount edges { node { id url } } } }")
        assert int(listed["webhooks"]["totalCount"]) == 1
        job = await run_export(api)
        assert job["status"] == "SUCCEEDED"
        await _arrivals(receiver, 1)
        request = receiver.requests[0]
        event = Webhook(created["secret"]).verify(request.body, request.headers)
        assert event["type"] == "export.succeeded" and event["data"]["id"] == job["id"]
        assert [a["filename"] for a in event["data"]["artifacts"]] == [
            a["filename"] for a in job["artifacts"]
        ]
        deliveries = (await api.execute(DELIVERIES, {"id": hook_id}))["webhookDeliveries"]
        [edge] = deliveries["edges"]
        node = edge["node"]
        assert (node["status"], node["attemptCount"], node["lastStatusCode"]) == (
            "SUCCEEDED",
            1,
            204,
        )
        assert node["eventId"] == request.headers["webhook-id"] and node["nextAttemptAt"] is None
        again = (
            await api.execute(
                """mutation($id: ID!) { redeliverWebhook(input: {deliveryId: $id}) {
                delivery { id status } userErrors { code } } }""",
                {"id": node["id"]},
            )
        )["redeliverWebhook"]
        assert again["userErrors"] == [] and again["delivery"]["status"] == "PENDING"
        await _arrivals(receiver, 2)
        assert receiver.requests[1].headers["webhook-id"] == request.headers["webhook-id"]
        ping = (
            await api.execute(
                "mutation($id: ID!) { testWebhook(input: {id: $id}) { delivery { eventType } "
                "userErrors { code } } }",
                {"id": hook_id},
            )
        )["testWebhook"]
        assert ping["delivery"]["eventType"] == "webhook.ping"
        await _arrivals(receiver, 3)
        pinged = Webhook(created["secret"]).verify(
            receiver.requests[2].body, receiver.requests[2].headers
        )
        assert pinged["type"] == "webhook.ping"
        node = await api.execute(
            "query($id: ID!) { node(id: $id) { ... on Webhook { url } } }", {"id": hook_id}
        )
        assert node["node"] == {"url": receiver.url}
        deleted = await api.execute(
            "mutation($id: ID!) { deleteWebhook(input: {id: $id}) { deletedId } }", {"id": hook_id}
        )
        assert deleted["deleteWebhook"]["deletedId"] == hook_id


async def test_webhooks_to_the_gateways_own_network_are_refused_by_default(
    idle_api: ApiClient,
) -> None:
    for url in ("http://127.0.0.1:8080/x", "http://[::1]/x", "http://192.168.1.1/", "ftp://x"):
        payload = (
            await idle_api.execute(
                CREATE_WEBHOOK, {"input": {"url": url, "events": ["EXPORT_FAILED"]}}
            )
        )["createWebhook"]
        assert payload["webhook"] is None
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("INVALID_ARGUMENT", ["input", "url"])
        ], url


async def test_an_email_notification_sends_text_and_html_with_the_links(
    seed: Seed, tmp_path: Path, inbox: Inbox
) -> None:
    settings = notifying_settings(
        seed, tmp_path / "data", smtp_host="127.0.0.1", smtp_port=inbox.port, smtp_security="NONE"
    )
    async with running_app(settings, seed.keys) as api:
        created = (
            await api.execute(
                """mutation($input: CreateEmailNotificationInput!) {
                createEmailNotification(input: $input) {
                emailNotification { id policy events } userErrors { code field message } } }""",
                {
                    "input": {
                        "recipients": ["ops@example.com"],
                        "policy": "ON_SUCCESS",
                        "subject": "Export ${job_id} $status",
                        "text": "<b>$rows</b> rows from datastream $datastream_id.",
                    }
                },
            )
        )["createEmailNotification"]
        assert created["userErrors"] == []
        job = await run_export(api)
        async with asyncio.timeout(20):
            while not inbox.messages:
                await asyncio.sleep(0.05)
    [message] = inbox.messages
    assert message["Subject"] == f"Export {job['id']} SUCCEEDED"
    assert message["To"] == "ops@example.com"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    text, markup = plain.get_content(), html.get_content()
    rows = int(job["progress"]["rowsWritten"])
    assert f"<b>{rows}</b> rows" in text and f"&lt;b&gt;{rows}&lt;/b&gt; rows" in markup
    assert "/downloads/" in text and "/downloads/" in markup


async def test_email_templates_refuse_unknown_fields(idle_api: ApiClient) -> None:
    payload = (
        await idle_api.execute(
            """mutation { createEmailNotification(input: {recipients: ["a@example.com"],
            subject: "$nope", text: "ok"}) { userErrors { code field } } }"""
        )
    )["createEmailNotification"]
    assert payload["userErrors"] == [{"code": "INVALID_ARGUMENT", "field": ["input", "subject"]}]
