"""What a delivery sends: the webhook body (the event as JSON, with fresh signed download
links) and the email (subject, plain text and HTML from the notification's templates)."""

from __future__ import annotations

import html
import json
import string
from email.message import EmailMessage
from typing import Any

from app.config import Settings
from app.db.models import EmailNotificationRow, NotificationEventRow
from app.storage import download_url
from engine.timestamps import format_timestamp


def base_url(settings: Settings) -> str:
    """Links in notifications: GATEWAY_PUBLIC_URL, else the address the gateway listens on."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return f"http://{settings.host}:{settings.port}"


def event_data(settings: Settings, event: NotificationEventRow) -> dict[str, Any]:
    """The recorded data, each artifact with a download URL signed now."""
    data = dict(event.data)
    artifacts = []
    for artifact in data.get("artifacts") or []:
        # The event records no storage key: the gateway's link, which redirects to the
        # store's presigned URL when downloads are presigned.
        url, expires = download_url(
            settings, base_url(settings), artifact["artifactId"], artifact["filename"]
        )
        artifacts.append(
            {
                **artifact,
                "url": url,
                "expiresAt": format_timestamp(expires * 1_000_000_000),
            }
        )
    if "artifacts" in data:
        data["artifacts"] = artifacts
    return data


# The fields the API types as `Long`: a webhook shows them as the API does, as decimal
# strings, so that a JavaScript receiver's JSON.parse keeps every digit past 2^53.
LONG_FIELDS = frozenset(
    {
        "datastreamId",
        "datastreamIds",
        "rowsWritten",
        "bytesWritten",
        "estimatedRows",
        "recordsTotal",
        "byteSize",
        "rowCount",
        "bytesRead",
        "recordsRead",
        "recordsRejected",
        "recordsStored",
    }
)


def longs_as_strings(value: Any, key: str | None = None) -> Any:
    """`value` with every integer under a `LONG_FIELDS` key (or in a list under one) as a
    decimal string. Applied when sending, not when recording, so that events recorded before
    and after a change look alike to receivers."""
    if isinstance(value, dict):
        return {k: longs_as_strings(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [longs_as_strings(v, key) for v in value]
    if key in LONG_FIELDS and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def webhook_body(settings: Settings, event: NotificationEventRow) -> str:
    """`id` is stable across attempts and redeliveries: receivers de-duplicate on it."""
    return json.dumps(
        {
            "id": event.id,
            "type": event.type,
            "timestamp": format_timestamp(event.created_at),
            "workspaceId": event.workspace_id,
            "data": longs_as_strings(event_data(settings, event)),
        },
        separators=(",", ":"),
    )


# What a template may use: the fields `template_fields` gives, in its order.
TEMPLATE_FIELDS = (
    "event_id",
    "event_type",
    "event_time",
    "job_id",
    "kind",
    "status",
    "reason",
    "datastream_id",
    "format",
    "start_time",
    "end_time",
    "finished_at",
    "rows",
    "bytes",
    "links",
)


def template_fields(settings: Settings, event: NotificationEventRow) -> dict[str, str]:
    """The flat values templates may use (`$status`, `${job_id}` ...), all text."""
    data = event_data(settings, event)
    progress = data.get("progress") or {}
    links = [a["url"] for a in data.get("artifacts") or []]
    values: dict[str, Any] = {
        "event_id": event.id,
        "event_type": event.type,
        "event_time": format_timestamp(event.created_at),
        "job_id": data.get("jobId") or data.get("subscriptionId") or "",
        "kind": data.get("kind", ""),
        "status": data.get("status", ""),
        "reason": data.get("reason") or "",
        "datastream_id": data.get("datastreamId", ""),
        "format": data.get("format", ""),
        "start_time": data.get("startTime", ""),
        "end_time": data.get("endTime", ""),
        "finished_at": data.get("finishedAt") or "",
        "rows": progress.get("rowsWritten", progress.get("recordsStored", "")),
        "bytes": progress.get("bytesWritten", progress.get("bytesRead", "")),
        "links": "\n".join(links),
    }
    assert tuple(values) == TEMPLATE_FIELDS  # one list: what templates may name is what they get
    return {k: "" if v is None else str(v) for k, v in values.items()}


def email_message(
    settings: Settings, notification: EmailNotificationRow, event: NotificationEventRow
) -> EmailMessage:
    """string.Template substitution only (no expressions); in the HTML part every value is
    escaped. Download links are listed in both parts."""
    fields = template_fields(settings, event)
    links = [line for line in fields["links"].split("\n") if line]
    subject = string.Template(notification.subject).safe_substitute(fields)
    text = string.Template(notification.text).safe_substitute(fields)
    if links and "$links" not in notification.text and "${links}" not in notification.text:
        text += "\n\nDownloads:\n" + "\n".join(links)
    escaped = {k: html.escape(v) for k, v in fields.items()}
    body_html = string.Template(html.escape(notification.text)).safe_substitute(escaped)
    link_items = "".join(
        f'<li><a href="{html.escape(url)}">{html.escape(url)}</a></li>' for url in links
    )
    html_doc = (
        "<!DOCTYPE html><html><body>"
        f'<div style="white-space: pre-wrap">{body_html}</div>'
        + (f"<p>Downloads:</p><ul>{link_items}</ul>" if links else "")
        + "</body></html>"
    )
    message = EmailMessage()
    message["Subject"] = " ".join(subject.split())[:500]  # no header injection
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(notification.recipients)
    message["X-Event-Id"] = event.id
    message.set_content(text)
    message.add_alternative(html_doc, subtype="html")
    return message
