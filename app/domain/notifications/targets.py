"""A workspace's webhooks and email notifications: create (a webhook's secret shown once),
list, read, change, delete. Changing them needs ADMIN; reading them, VIEWER."""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
import string
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import EmailNotificationRow, WebhookRow
from app.domain.auth import Principal, Role, require
from app.domain.errors import DomainError, ErrorCode, Problem, user_error
from app.domain.notifications.addresses import UnsafeAddress, resolve
from app.domain.notifications.events import EVENT_TYPES
from app.domain.notifications.messages import TEMPLATE_FIELDS
from app.ids import new_id
from engine.timestamps import now_ns

MAX_TARGETS = 50  # webhooks, and email notifications, per workspace
MAX_RECIPIENTS = 50
MAX_TEMPLATE = 10_000
POLICIES = ("ON_SUCCESS", "ON_FAILURE", "ALWAYS")
_EMAIL = re.compile(r"^[^@\s<>,;\"]{1,64}@[A-Za-z0-9.-]{1,253}$")

Row = TypeVar("Row", WebhookRow, EmailNotificationRow)


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _secret_problem(secret: str) -> str | None:
    try:
        raw = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except ValueError:
        return "secret must be `whsec_` followed by base64"
    if not 24 <= len(raw) <= 64:
        return "secret must encode 24 to 64 bytes"
    return None


def _events_problems(events: Sequence[str], field: tuple[str, ...]) -> list[Problem]:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        return [
            Problem(
                ErrorCode.INVALID_ARGUMENT,
                field,
                f"unknown events {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}",
            )
        ]
    if not events:
        return [Problem(ErrorCode.INVALID_ARGUMENT, field, "give at least one event")]
    return []


async def _url_problems(url: str, settings: Settings) -> list[Problem]:
    try:
        await asyncio.to_thread(resolve, url, settings.webhook_allow_private_addresses)
    except UnsafeAddress as exc:
        return [Problem(ErrorCode.INVALID_ARGUMENT, ("input", "url"), str(exc))]
    return []


async def _count(session: AsyncSession, table: Any, workspace_id: str) -> int:
    return (
        await session.scalar(select(func.count()).where(table.workspace_id == workspace_id))
    ) or 0


async def create_webhook(
    session: AsyncSession,
    who: Principal,
    settings: Settings,
    *,
    url: str,
    events: Sequence[str],
    secret: str | None,
    description: str | None,
) -> WebhookRow:
    require(who, Role.ADMIN, ("input",))
    problems = await webhook_problems(settings, url=url, events=events, secret=secret)
    if await _count(session, WebhookRow, who.workspace_id) >= MAX_TARGETS:
        problems.append(
            Problem(ErrorCode.FAILED_PRECONDITION, ("input",), f"at most {MAX_TARGETS} webhooks")
        )
    if problems:
        raise DomainError(problems)
    row = new_webhook_row(who, url=url, events=events, secret=secret, description=description)
    session.add(row)
    await session.commit()
    return row


async def webhook_problems(
    settings: Settings, *, url: str | None, events: Sequence[str] | None, secret: str | None
) -> list[Problem]:
    """createWebhook's checks of the values given (None: not given): known events, an address
    outside the gateway's network (SSRF), a well-formed secret."""
    problems = _events_problems(events, ("input", "events")) if events is not None else []
    if url is not None:
        problems += await _url_problems(url, settings)
    if secret is not None and (why := _secret_problem(secret)):
        problems.append(Problem(ErrorCode.INVALID_ARGUMENT, ("input", "secret"), why))
    return problems


def new_webhook_row(
    who: Principal,
    *,
    url: str,
    events: Sequence[str],
    secret: str | None,
    description: str | None,
) -> WebhookRow:
    """An enabled webhook of the caller's workspace; a secret is generated if none is given."""
    now = now_ns()
    return WebhookRow(
        id=new_id("webhook"),
        workspace_id=who.workspace_id,
        url=url,
        events=sorted(set(events)),
        secret=secret or new_secret(),
        enabled=True,
        description=(description or None) and description[:500],
        created_at=now,
        updated_at=now,
    )


async def _one(session: AsyncSession, table: type[Row], who: Principal, target_id: str) -> Row:
    row = await session.get(table, target_id)
    if row is None or row.workspace_id != who.workspace_id:
        what = "webhook" if table is WebhookRow else "email notification"
        raise user_error(ErrorCode.NOT_FOUND, "input.id", f"no {what} {target_id}")
    return row


async def get_webhook(session: AsyncSession, who: Principal, webhook_id: str) -> WebhookRow:
    return await _one(session, WebhookRow, who, webhook_id)


async def update_webhook(
    session: AsyncSession,
    who: Principal,
    settings: Settings,
    webhook_id: str,
    *,
    url: str | None,
    events: Sequence[str] | None,
    enabled: bool | None,
    description: str | None,
    rotate_secret: bool,
) -> tuple[WebhookRow, str | None]:
    """The webhook, and its new secret when `rotate_secret` (shown this once)."""
    require(who, Role.ADMIN, ("input",))
    row = await _one(session, WebhookRow, who, webhook_id)
    problems = await webhook_problems(settings, url=url, events=events, secret=None)
    if problems:
        raise DomainError(problems)
    if url is not None:
        row.url = url
    if events is not None:
        row.events = sorted(set(events))
    if enabled is not None:
        row.enabled = enabled
    if description is not None:
        row.description = description[:500] or None
    secret = new_secret() if rotate_secret else None
    if secret:
        row.secret = secret
    row.updated_at = now_ns()
    await session.commit()
    return row, secret


async def delete_target(session: AsyncSession, who: Principal, table: type[Row], id: str) -> str:
    """Deliveries already made stay listed; pending ones fail at their next attempt."""
    require(who, Role.ADMIN, ("input",))
    row = await _one(session, table, who, id)
    await session.delete(row)
    await session.commit()
    return id


async def list_targets(
    session: AsyncSession, who: Principal, table: type[Row], after_id: str | None, limit: int
) -> tuple[list[Row], int]:
    """Oldest first (ids are time-ordered); keyset pages after `after_id`."""
    query = select(table).where(table.workspace_id == who.workspace_id)
    total = await _count(session, table, who.workspace_id)
    if after_id is not None:
        query = query.where(table.id > after_id)
    rows = (await session.scalars(query.order_by(table.id).limit(limit))).all()
    return list(rows), total


def _template_problems(text: str, field: tuple[str, ...]) -> list[Problem]:
    if len(text) > MAX_TEMPLATE:
        return [Problem(ErrorCode.INVALID_ARGUMENT, field, f"at most {MAX_TEMPLATE} characters")]
    try:
        names = {
            m.group("named") or m.group("braced")
            for m in string.Template.pattern.finditer(text)
            if m.group("invalid") is None
        } - {None}
    except ValueError as exc:
        return [Problem(ErrorCode.INVALID_ARGUMENT, field, str(exc))]
    if any(m.group("invalid") is not None for m in string.Template.pattern.finditer(text)):
        return [Problem(ErrorCode.INVALID_ARGUMENT, field, "a lone `$`: write `$$` for a dollar")]
    unknown = sorted(str(n) for n in names if n not in TEMPLATE_FIELDS)
    if unknown:
        return [
            Problem(
                ErrorCode.INVALID_ARGUMENT,
                field,
                f"unknown fields {', '.join(unknown)}; known: {', '.join(TEMPLATE_FIELDS)}",
            )
        ]
    return []


def _email_problems(
    recipients: Sequence[str] | None,
    policy: str | None,
    events: Sequence[str] | None,
    subject: str | None,
    text: str | None,
) -> list[Problem]:
    problems: list[Problem] = []
    if recipients is not None:
        bad = [r for r in recipients if not _EMAIL.fullmatch(r)]
        if bad or not 1 <= len(recipients) <= MAX_RECIPIENTS:
            problems.append(
                Problem(
                    ErrorCode.INVALID_ARGUMENT,
                    ("input", "recipients"),
                    f"1 to {MAX_RECIPIENTS} email addresses"
                    + (f"; not an address: {', '.join(bad)}" if bad else ""),
                )
            )
    if policy is not None and policy not in POLICIES:
        problems.append(
            Problem(ErrorCode.INVALID_ARGUMENT, ("input", "policy"), f"one of {POLICIES}")
        )
    if events is not None:
        problems += _events_problems(events, ("input", "events"))
    if subject is not None:
        problems += _template_problems(subject, ("input", "subject"))
    if text is not None:
        problems += _template_problems(text, ("input", "text"))
    return problems


async def create_email_notification(
    session: AsyncSession,
    who: Principal,
    *,
    recipients: Sequence[str],
    policy: str,
    events: Sequence[str] | None,
    subject: str,
    text: str,
) -> EmailNotificationRow:
    """`events` None: every event (the policy then chooses among them)."""
    require(who, Role.ADMIN, ("input",))
    problems = _email_problems(recipients, policy, events, subject, text)
    if await _count(session, EmailNotificationRow, who.workspace_id) >= MAX_TARGETS:
        problems.append(
            Problem(
                ErrorCode.FAILED_PRECONDITION,
                ("input",),
                f"at most {MAX_TARGETS} email notifications",
            )
        )
    if problems:
        raise DomainError(problems)
    now = now_ns()
    row = EmailNotificationRow(
        id=new_id("email_notification"),
        workspace_id=who.workspace_id,
        recipients=list(dict.fromkeys(recipients)),
        policy=policy,
        events=sorted(set(events)) if events is not None else list(EVENT_TYPES),
        subject=subject,
        text=text,
        enabled=True,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.commit()
    return row


async def get_email_notification(
    session: AsyncSession, who: Principal, notification_id: str
) -> EmailNotificationRow:
    return await _one(session, EmailNotificationRow, who, notification_id)


async def update_email_notification(
    session: AsyncSession,
    who: Principal,
    notification_id: str,
    *,
    recipients: Sequence[str] | None,
    policy: str | None,
    events: Sequence[str] | None,
    subject: str | None,
    text: str | None,
    enabled: bool | None,
) -> EmailNotificationRow:
    require(who, Role.ADMIN, ("input",))
    row = await _one(session, EmailNotificationRow, who, notification_id)
    problems = _email_problems(recipients, policy, events, subject, text)
    if problems:
        raise DomainError(problems)
    if recipients is not None:
        row.recipients = list(dict.fromkeys(recipients))
    if policy is not None:
        row.policy = policy
    if events is not None:
        row.events = sorted(set(events))
    if subject is not None:
        row.subject = subject
    if text is not None:
        row.text = text
    if enabled is not None:
        row.enabled = enabled
    row.updated_at = now_ns()
    await session.commit()
    return row
