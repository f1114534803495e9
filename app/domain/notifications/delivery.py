"""A worker's side of a delivery: claim the row (a conditional update), send once, record the
attempt, and either finish it or schedule the next try with exponential backoff until the
retry window ends. Sending happens outside any transaction and is bounded by a timeout, and
runs apart from export work, so a slow or dead receiver never delays an export."""

from __future__ import annotations

import logging
import random
import secrets
import smtplib
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import or_, update
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from app.config import Settings
from app.db.engine import rows_changed
from app.db.models import (
    EmailNotificationRow,
    NotificationAttemptRow,
    NotificationDeliveryRow,
    NotificationEventRow,
    WebhookRow,
)
from app.domain.notifications.addresses import UnsafeAddress, resolve
from app.domain.notifications.dispatch import DeliveryStatus
from app.domain.notifications.messages import email_message, webhook_body
from app.domain.runtime import Runtime
from engine.timestamps import now_ns

log = logging.getLogger(__name__)
USER_AGENT = "export-gateway-webhooks/1"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None
    error: str | None
    retry: bool = True  # False: no later attempt can do better (target deleted, say)


def run_delivery(runtime: Runtime, delivery_id: str) -> None:
    """What a wake-up does. A duplicate finds the delivery claimed, done or not yet due."""
    settings = runtime.settings
    with runtime.sync_sessions() as session:
        token = _claim(session, settings, delivery_id)
        if token is None:
            return
        delivery = session.get(NotificationDeliveryRow, delivery_id)
        assert delivery is not None
        event = session.get(NotificationEventRow, delivery.event_id)
        assert event is not None
        target: WebhookRow | EmailNotificationRow | None = (
            session.get(WebhookRow, delivery.target_id)
            if delivery.channel == "WEBHOOK"
            else session.get(EmailNotificationRow, delivery.target_id)
        )
        session.expunge_all()
    started, clock = now_ns(), time.monotonic()
    try:
        outcome = _send(settings, delivery, event, target)
    except Exception as exc:  # a bug must not leave the delivery claimed
        log.exception("delivery %s failed", delivery_id)
        outcome = Outcome(False, None, f"internal error ({type(exc).__name__}): {exc}")
    latency_ms = int((time.monotonic() - clock) * 1000)
    with runtime.sync_sessions() as session:
        _finish(session, settings, delivery, event, token, outcome, started, latency_ms)


def _claim(session: Session, settings: Settings, delivery_id: str) -> str | None:
    now, token = now_ns(), secrets.token_hex(8)
    stale = now - int((settings.heartbeat_stale_seconds + settings.notify_timeout_seconds) * 1e9)
    table = NotificationDeliveryRow
    result = session.execute(
        update(table)
        .where(
            table.id == delivery_id,
            or_(
                (table.status == DeliveryStatus.PENDING) & (table.next_attempt_at <= now),
                (table.status == DeliveryStatus.DELIVERING) & (table.claimed_at < stale),
            ),
        )
        .values(
            status=DeliveryStatus.DELIVERING,
            claim_token=token,
            claimed_at=now,
            attempts=table.attempts + 1,
        )
    )
    session.commit()
    return token if rows_changed(result) == 1 else None


def next_delay(settings: Settings, attempts: int) -> float:
    """Exponential backoff with a little jitter, capped."""
    delay = settings.notify_retry_base_seconds * 2.0 ** max(attempts - 1, 0)
    jitter: float = random.uniform(1.0, 1.1)
    return float(min(delay, settings.notify_retry_max_delay_seconds) * jitter)


def _finish(
    session: Session,
    settings: Settings,
    delivery: NotificationDeliveryRow,
    event: NotificationEventRow,
    token: str,
    outcome: Outcome,
    started: int,
    latency_ms: int,
) -> None:
    now = now_ns()
    attempts = delivery.attempts  # counted by the claim
    values: dict[str, object] = {
        "last_status_code": outcome.status_code,
        "last_error": outcome.error[:2000] if outcome.error else None,
        "claim_token": None,
        "woken_at": None,
    }
    if outcome.ok:
        values.update(status=DeliveryStatus.SUCCEEDED, finished_at=now, next_attempt_at=None)
    else:
        retry_at = now + int(next_delay(settings, attempts) * 1e9)
        window_end = event.created_at + int(settings.notify_retry_window_seconds * 1e9)
        if outcome.retry and retry_at <= window_end:
            values.update(status=DeliveryStatus.PENDING, next_attempt_at=retry_at)
        else:
            values.update(status=DeliveryStatus.FAILED, finished_at=now, next_attempt_at=None)
    table = NotificationDeliveryRow
    result = session.execute(
        update(table)
        .where(
            table.id == delivery.id,
            table.claim_token == token,
            table.status == DeliveryStatus.DELIVERING,
        )
        .values(**values)
    )
    if rows_changed(result) == 1:
        session.add(
            NotificationAttemptRow(
                delivery_id=delivery.id,
                number=attempts,
                started_at=started,
                latency_ms=latency_ms,
                status_code=outcome.status_code,
                error=values["last_error"],
            )
        )
    session.commit()


def _send(
    settings: Settings,
    delivery: NotificationDeliveryRow,
    event: NotificationEventRow,
    target: WebhookRow | EmailNotificationRow | None,
) -> Outcome:
    if isinstance(target, WebhookRow):
        return send_webhook(settings, target, event)
    if isinstance(target, EmailNotificationRow):
        return send_email(settings, target, event)
    kind = "webhook" if delivery.channel == "WEBHOOK" else "email notification"
    return Outcome(False, None, f"the {kind} {delivery.target_id} was deleted", retry=False)


def signed_headers(secret: str, event_id: str, body: str) -> dict[str, str]:
    """Standard Webhooks: HMAC-SHA256 over `id.timestamp.body`."""
    moment = datetime.now(UTC)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, moment, body),
    }


def send_webhook(settings: Settings, hook: WebhookRow, event: NotificationEventRow) -> Outcome:
    try:
        target = resolve(hook.url, settings.webhook_allow_private_addresses)
    except UnsafeAddress as exc:
        return Outcome(False, None, str(exc))
    body = webhook_body(settings, event)
    headers = {
        **signed_headers(hook.secret, event.id, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
    parts = urlsplit(hook.url)
    # Connect to the address that was checked, not to whatever the name resolves to next.
    address = f"[{target.address}]" if ":" in target.address else target.address
    pinned = urlunsplit(parts._replace(netloc=f"{address}:{target.port}"))
    headers["host"] = parts.netloc
    extensions = {"sni_hostname": target.host} if parts.scheme == "https" else {}
    try:
        with httpx.Client(
            timeout=settings.notify_timeout_seconds, follow_redirects=False
        ) as client:
            response = client.post(
                pinned, content=body.encode(), headers=headers, extensions=extensions
            )
    except httpx.HTTPError as exc:
        return Outcome(
            False, None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        )
    if 200 <= response.status_code < 300:
        return Outcome(True, response.status_code, None)
    return Outcome(False, response.status_code, f"the receiver answered {response.status_code}")


def send_email(
    settings: Settings, notification: EmailNotificationRow, event: NotificationEventRow
) -> Outcome:
    if not settings.smtp_host:
        return Outcome(False, None, "no SMTP server is configured (GATEWAY_SMTP_HOST)")
    message = email_message(settings, notification, event)
    security = settings.smtp_security.upper()
    timeout = settings.notify_timeout_seconds
    try:
        smtp: smtplib.SMTP
        if security == "TLS":
            smtp = smtplib.SMTP_SSL(
                settings.smtp_host,
                settings.smtp_port,
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        with smtp:
            if security == "STARTTLS":
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            refused = smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        code = getattr(exc, "smtp_code", None)
        return Outcome(
            False, code if isinstance(code, int) else None, f"{type(exc).__name__}: {exc}"
        )
    if refused:
        return Outcome(True, 250, f"refused recipients: {', '.join(sorted(refused))}")
    return Outcome(True, 250, None)
