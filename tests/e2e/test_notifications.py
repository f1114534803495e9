"""Notifications through the real server, delivered by the real worker (in-process or a
separate process): after an export, a receiver on a loopback port gets a signed
`export.succeeded` (verified with the standardwebhooks library) whose download link serves the
file, and a real SMTP server gets an email with the link."""

from __future__ import annotations

import hashlib
import time
from email.message import EmailMessage
from urllib.parse import urlsplit

import httpx
import pytest
from standardwebhooks import Webhook

from tests.helpers.environments import GatewayHandle
from tests.helpers.operations import create, final_update
from tests.helpers.receivers import webhook_receiver

pytestmark = pytest.mark.e2e

CREATE_WEBHOOK = """mutation($input: CreateWebhookInput!) { createWebhook(input: $input) {
  webhook { id } secret userErrors { code field message } } }"""
DELETE_WEBHOOK = "mutation($id: ID!) { deleteWebhook(input: {id: $id}) { deletedId } }"


def test_an_export_reaches_a_real_webhook_receiver_signed(gateway: GatewayHandle) -> None:
    client = gateway.client()
    with webhook_receiver() as receiver:
        created = client.execute(
            CREATE_WEBHOOK, {"input": {"url": receiver.url, "events": ["EXPORT_SUCCEEDED"]}}
        )["createWebhook"]
        assert created["userErrors"] == [], created
        try:
            job = create(gateway)["exportJob"]
            done = final_update(gateway, job["id"])
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not any(
                Webhook(created["secret"]).verify(r.body, r.headers)["data"]["id"] == job["id"]
                for r in receiver.requests
            ):
                time.sleep(0.1)
            [request] = [
                r
                for r in receiver.requests
                if Webhook(created["secret"]).verify(r.body, r.headers)["data"]["id"] == job["id"]
            ]
        finally:
            client.execute(DELETE_WEBHOOK, {"id": created["webhook"]["id"]})
    event = Webhook(created["secret"]).verify(request.body, request.headers)
    assert event["type"] == "export.succeeded" and event["id"] == request.headers["webhook-id"]
    assert event["data"]["status"] == "SUCCEEDED"
    assert event["data"]["progress"]["rowsWritten"] == done["progress"]["rowsWritten"]
    [artifact] = event["data"]["artifacts"]
    link = urlsplit(artifact["url"])
    # The link's origin is GATEWAY_PUBLIC_URL (unset here); its signed path is what counts.
    content = httpx.get(f"{gateway.gateway.url}{link.path}?{link.query}", timeout=30).content
    assert hashlib.sha256(content).hexdigest() == artifact["sha256"]
    with pytest.raises(Exception):  # noqa: B017  (a signature made with another secret)
        Webhook("whsec_" + "A" * 43 + "=").verify(request.body, request.headers)


CREATE_EMAIL = """mutation($input: CreateEmailNotificationInput!) {
  createEmailNotification(input: $input) { emailNotification { id } userErrors { code field } } }"""
DELETE_EMAIL = "mutation($id: ID!) { deleteEmailNotification(input: {id: $id}) { deletedId } }"


def test_an_export_sends_an_email_to_a_real_smtp_server(gateway: GatewayHandle) -> None:
    inbox = gateway.inbox
    assert inbox is not None
    client = gateway.client()
    created = client.execute(
        CREATE_EMAIL,
        {
            "input": {
                "recipients": ["desk@example.com"],
                "policy": "ON_SUCCESS",
                "subject": "Export $job_id $status",
                "text": "$rows rows are ready.",
            }
        },
    )["createEmailNotification"]
    assert created["userErrors"] == [], created
    try:
        job = create(gateway)["exportJob"]
        done = final_update(gateway, job["id"])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not _mail_about(inbox.messages, job["id"]):
            time.sleep(0.1)
    finally:
        client.execute(DELETE_EMAIL, {"id": created["emailNotification"]["id"]})
    [message] = _mail_about(inbox.messages, job["id"])
    assert message["To"] == "desk@example.com"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    rows = done["progress"]["rowsWritten"]
    assert f"{rows} rows are ready." in plain.get_content()
    link = next(w for w in plain.get_content().split() if "/downloads/" in w)
    parts = urlsplit(link)
    content = httpx.get(f"{gateway.gateway.url}{parts.path}?{parts.query}", timeout=30).content
    [artifact] = done["artifacts"]
    assert hashlib.sha256(content).hexdigest() == artifact["sha256"]
    assert "/downloads/" in html.get_content()


def _mail_about(messages: list[EmailMessage], job_id: str) -> list[EmailMessage]:
    return [m for m in messages if m["Subject"] == f"Export {job_id} SUCCEEDED"]
