"""A workspace's webhooks as files, one row per webhook, named by its URL. Secrets are never
exported. A new webhook takes the `secret` column's value when the file has one (checked as
createWebhook checks it), else a generated secret, which an admin reads by rotating it
(`updateWebhook(rotateSecret: true)`); an existing webhook keeps its secret. URLs are checked
as createWebhook checks them (an address outside the gateway's network), at every import.

URLs are not unique within a workspace: a row whose URL is that of several webhooks is
rejected."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import WebhookRow
from app.domain.auth import Principal, Role
from app.domain.errors import Problem
from app.domain.notifications.events import EVENT_TYPES
from app.domain.notifications.targets import MAX_TARGETS, new_webhook_row, webhook_problems
from app.domain.resources.model import (
    ExportFilter,
    Outcome,
    Record,
    Resource,
    ResourceKind,
    Row,
)
from app.domain.resources.values import ABSENT, RowReader
from engine.timestamps import now_ns

WEBHOOK_FIELDS = {"url": "url", "events": "events", "secret": "secret"}
# Events are written as the API names them (EXPORT_SUCCEEDED); `export.succeeded` is read too.
_BY_API_NAME = {t.replace(".", "_").upper(): t for t in EVENT_TYPES}


def api_name(event_type: str) -> str:
    return event_type.replace(".", "_").upper()


async def webhook_rows(session: AsyncSession, who: Principal, where: ExportFilter) -> list[Row]:
    """The caller's workspace's webhooks, ordered by URL (then age); the filter matches part
    of the URL."""
    query = select(WebhookRow).where(WebhookRow.workspace_id == who.workspace_id)
    if where.text:
        query = query.where(WebhookRow.url.icontains(where.text, autoescape=True))
    found = await session.scalars(query.order_by(WebhookRow.url, WebhookRow.id).limit(where.limit))
    return [
        {
            "url": w.url,
            "events": [api_name(e) for e in w.events],
            "description": w.description or "",
            "enabled": w.enabled,
        }
        for w in found
    ]


class WebhookImporter:
    def __init__(
        self,
        session: AsyncSession,
        who: Principal,
        settings: Settings,
        by_url: dict[str, list[WebhookRow]],
    ) -> None:
        self.session, self.who, self.settings = session, who, settings
        self.by_url = by_url
        self.count = sum(len(rows) for rows in by_url.values())

    @classmethod
    async def load(
        cls, session: AsyncSession, who: Principal, settings: Settings
    ) -> WebhookImporter:
        by_url: dict[str, list[WebhookRow]] = {}
        rows = await session.scalars(
            select(WebhookRow)
            .where(WebhookRow.workspace_id == who.workspace_id)
            .order_by(WebhookRow.id)
        )
        for row in rows:
            by_url.setdefault(row.url, []).append(row)
        return cls(session, who, settings, by_url)

    async def apply(self, record: Record) -> Outcome:
        cells = RowReader(record)
        url = cells.text("url")
        events = _events(cells)
        description = cells.optional_text("description")
        enabled = cells.flag("enabled")
        secret = cells.optional_text("secret")
        matches = self.by_url.get(url, []) if url else []
        if len(matches) > 1:
            cells.problem(
                "url",
                f"{len(matches)} webhooks have this url: delete or change all but one, then "
                "import again",
            )
        existing = matches[0] if len(matches) == 1 else None
        at_fault = {column for column, _reason in cells.problems}
        problems = await webhook_problems(
            self.settings,
            url=url if "url" not in at_fault else None,
            events=events if "events" not in at_fault else None,
            secret=secret if isinstance(secret, str) else None,
        )
        _webhook_problems(cells, problems)
        if existing is None and url and self.count >= MAX_TARGETS:
            cells.problem(None, f"at most {MAX_TARGETS} webhooks")
        cells.done()
        assert events is not None
        if existing is None:
            row = new_webhook_row(
                self.who,
                url=url,
                events=events,
                secret=secret if isinstance(secret, str) else None,
                description=description if isinstance(description, str) else None,
            )
            row.enabled = enabled is not False
            self.session.add(row)
            self.by_url[url] = [row]
            self.count += 1
            return Outcome.CREATED
        wanted = (
            sorted(set(events)),
            existing.description
            if description is ABSENT
            else (description[:500] if isinstance(description, str) else None),
            existing.enabled if enabled is ABSENT else enabled,
        )
        if wanted == (existing.events, existing.description, existing.enabled):
            return Outcome.UNCHANGED
        existing.events, existing.description, existing.enabled = wanted
        existing.updated_at = now_ns()
        return Outcome.UPDATED


def _events(cells: RowReader) -> list[str] | None:
    """A JSON array of event names, as the API names them (EXPORT_SUCCEEDED) or as webhook
    bodies do (export.succeeded); in CSV, its JSON text, or the names separated by commas."""
    value = cells.values.get("events")
    if value is None or value == "":
        cells.problem("events", "events is required")
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError as exc:
                cells.problem("events", f"events is not JSON: {str(exc)[:200]}")
                return None
        else:
            value = [name.strip() for name in text.split(",") if name.strip()]
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        cells.problem("events", "events is a list of event names, such as EXPORT_SUCCEEDED")
        return None
    return [_BY_API_NAME.get(name) or name for name in value]


def _webhook_problems(cells: RowReader, problems: Sequence[Problem]) -> None:
    for problem in problems:
        name = problem.field[-1] if len(problem.field) > 1 else ""
        cells.problem(WEBHOOK_FIELDS.get(name), problem.message)


WEBHOOKS = Resource(
    kind=ResourceKind.WEBHOOKS,
    columns=("url", "events", "description", "enabled"),
    required=("url", "events"),
    identifier="url",
    identity="a webhook's url (a url several webhooks share is rejected)",
    import_role=Role.ADMIN,
    rows=webhook_rows,
    importer=WebhookImporter.load,
)
