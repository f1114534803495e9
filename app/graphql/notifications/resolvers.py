"""Webhooks, email notifications and deliveries: thin resolvers over
`app.domain.notifications`. Changing them needs ADMIN; reading them, VIEWER."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import EmailNotificationRow, WebhookRow
from app.domain.errors import DomainError, ErrorCode
from app.domain.notifications import deliveries, targets
from app.graphql.context import Info, authenticated
from app.graphql.errors import ApiError, guarded
from app.graphql.notifications.inputs import (
    CreateEmailNotificationInput,
    CreateWebhookInput,
    EmailNotificationIdInput,
    RedeliverWebhookInput,
    UpdateEmailNotificationInput,
    UpdateWebhookInput,
    WebhookIdInput,
)
from app.graphql.notifications.types import (
    DeleteNotificationPayload,
    EmailNotification,
    EmailNotificationPayload,
    Webhook,
    WebhookDelivery,
    WebhookDeliveryPayload,
    WebhookPayload,
)
from app.graphql.relay import After, Connection, First, id_cursor, page_connection, page_size

R = TypeVar("R")
IdArgument = Annotated[strawberry.ID, strawberry.argument(description="The prefixed id.")]


def _events(values: list[object] | None) -> list[str] | None:
    return None if values is None else [getattr(v, "value", str(v)) for v in values]


async def _create_webhook(info: Info, input: CreateWebhookInput) -> WebhookPayload:
    async with info.context.sessions() as session:
        row = await targets.create_webhook(
            session,
            info.context.caller,
            info.context.settings,
            url=input.url,
            events=_events(list(input.events)) or [],
            secret=input.secret,
            description=input.description,
        )
    return WebhookPayload(webhook=Webhook.from_row(row), secret=row.secret)


async def _update_webhook(info: Info, input: UpdateWebhookInput) -> WebhookPayload:
    async with info.context.sessions() as session:
        row, secret = await targets.update_webhook(
            session,
            info.context.caller,
            info.context.settings,
            str(input.id),
            url=input.url,
            events=_events(list(input.events) if input.events is not None else None),
            enabled=input.enabled,
            description=input.description,
            rotate_secret=input.rotate_secret,
        )
    return WebhookPayload(webhook=Webhook.from_row(row), secret=secret)


async def _delete(info: Info, table: type, target_id: str) -> DeleteNotificationPayload:
    async with info.context.sessions() as session:
        deleted = await targets.delete_target(session, info.context.caller, table, target_id)
    return DeleteNotificationPayload(deleted_id=strawberry.ID(deleted))


async def _ping(info: Info, webhook_id: str) -> WebhookDeliveryPayload:
    view = await deliveries.ping_webhook(info.context.runtime, info.context.caller, webhook_id)
    return WebhookDeliveryPayload(delivery=WebhookDelivery.from_view(view))


async def _redeliver(info: Info, delivery_id: str) -> WebhookDeliveryPayload:
    view = await deliveries.redeliver(info.context.runtime, info.context.caller, delivery_id)
    return WebhookDeliveryPayload(delivery=WebhookDelivery.from_view(view))


async def _create_email(
    info: Info, input: CreateEmailNotificationInput
) -> EmailNotificationPayload:
    async with info.context.sessions() as session:
        row = await targets.create_email_notification(
            session,
            info.context.caller,
            recipients=input.recipients,
            policy=str(input.policy.value),
            events=_events(list(input.events) if input.events is not None else None),
            subject=input.subject,
            text=input.text,
        )
    return EmailNotificationPayload(email_notification=EmailNotification.from_row(row))


async def _update_email(
    info: Info, input: UpdateEmailNotificationInput
) -> EmailNotificationPayload:
    async with info.context.sessions() as session:
        row = await targets.update_email_notification(
            session,
            info.context.caller,
            str(input.id),
            recipients=input.recipients,
            policy=str(input.policy.value) if input.policy is not None else None,
            events=_events(list(input.events) if input.events is not None else None),
            subject=input.subject,
            text=input.text,
            enabled=input.enabled,
        )
    return EmailNotificationPayload(email_notification=EmailNotification.from_row(row))


async def _found(info: Info, load: Callable[[AsyncSession], Awaitable[R]]) -> R | None:
    """What `load` finds, or None if there is none (another workspace's is none, too)."""
    try:
        async with info.context.sessions() as session:
            return await load(session)
    except DomainError as exc:
        if exc.errors[0].code == ErrorCode.NOT_FOUND:
            return None
        raise ApiError.from_domain(exc) from None


async def _webhook(info: Info, webhook_id: str) -> Webhook | None:
    caller = info.context.caller
    row = await _found(info, lambda s: targets.get_webhook(s, caller, webhook_id))
    return Webhook.from_row(row) if row is not None else None


async def _email_notification(info: Info, target_id: str) -> EmailNotification | None:
    caller = info.context.caller
    row = await _found(info, lambda s: targets.get_email_notification(s, caller, target_id))
    return EmailNotification.from_row(row) if row is not None else None


async def one_notification_target(info: Info, target_id: str) -> Webhook | EmailNotification | None:
    """`node(id)` of a `whk_` or `eml_` id: null if there is none, or it is another workspace's."""
    if target_id.startswith("whk_"):
        return await _webhook(info, target_id)
    return await _email_notification(info, target_id)


async def _listing(info: Info, list_rows: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    try:
        async with info.context.sessions() as session:
            return await list_rows(session)
    except DomainError as exc:
        raise ApiError.from_domain(exc) from None


@strawberry.type(description="The workspace's webhooks, email notifications and deliveries.")
class NotificationQuery:
    @authenticated(description="The workspace's webhooks, oldest first (secrets not shown).")
    async def webhooks(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Webhook]:
        limit, after_id, caller = (
            page_size(info, first),
            id_cursor(after, "whk"),
            info.context.caller,
        )
        rows, total = await _listing(
            info, lambda s: targets.list_targets(s, caller, WebhookRow, after_id, limit + 1)
        )
        return page_connection(rows, limit, after, total, Webhook.from_row, lambda r: r.id)

    @authenticated(description="One webhook; null if there is none with this id.")
    async def webhook(self, info: Info, id: IdArgument) -> Webhook | None:
        return await _webhook(info, str(id))

    @authenticated(
        description="A webhook's deliveries, newest first: attempts, status codes, latency, "
        "next retry, last error."
    )
    async def webhook_deliveries(
        self,
        info: Info,
        webhook_id: Annotated[strawberry.ID, strawberry.argument(description="`whk_...` id.")],
        first: First = None,
        after: After = None,
    ) -> Connection[WebhookDelivery]:
        limit, after_id, caller = (
            page_size(info, first),
            id_cursor(after, "dlv"),
            info.context.caller,
        )
        views, total = await _listing(
            info,
            lambda s: deliveries.list_deliveries(s, caller, str(webhook_id), after_id, limit + 1),
        )
        return page_connection(
            views, limit, after, total, WebhookDelivery.from_view, lambda v: v.delivery.id
        )

    @authenticated(description="The workspace's email notifications, oldest first.")
    async def email_notifications(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[EmailNotification]:
        limit, after_id, caller = (
            page_size(info, first),
            id_cursor(after, "eml"),
            info.context.caller,
        )
        rows, total = await _listing(
            info,
            lambda s: targets.list_targets(s, caller, EmailNotificationRow, after_id, limit + 1),
        )
        return page_connection(
            rows, limit, after, total, EmailNotification.from_row, lambda r: r.id
        )

    @authenticated(description="One email notification; null if there is none with this id.")
    async def email_notification(self, info: Info, id: IdArgument) -> EmailNotification | None:
        return await _email_notification(info, str(id))


@strawberry.type(description="Manage webhooks and email notifications (ADMIN).")
class NotificationMutation:
    @authenticated(description="Create a webhook; its secret is in the payload, this once.")
    async def create_webhook(
        self,
        info: Info,
        input: Annotated[CreateWebhookInput, strawberry.argument(description="The webhook.")],
    ) -> WebhookPayload:
        return await guarded(WebhookPayload, _create_webhook(info, input))

    @authenticated(description="Change a webhook (URL, events, enabled) or rotate its secret.")
    async def update_webhook(
        self,
        info: Info,
        input: Annotated[UpdateWebhookInput, strawberry.argument(description="The changes.")],
    ) -> WebhookPayload:
        return await guarded(WebhookPayload, _update_webhook(info, input))

    @authenticated(description="Delete a webhook; its pending deliveries fail.")
    async def delete_webhook(
        self,
        info: Info,
        input: Annotated[WebhookIdInput, strawberry.argument(description="Which webhook.")],
    ) -> DeleteNotificationPayload:
        return await guarded(DeleteNotificationPayload, _delete(info, WebhookRow, str(input.id)))

    @authenticated(description="Send a `webhook.ping` event to this webhook now.")
    async def test_webhook(
        self,
        info: Info,
        input: Annotated[WebhookIdInput, strawberry.argument(description="Which webhook.")],
    ) -> WebhookDeliveryPayload:
        return await guarded(WebhookDeliveryPayload, _ping(info, str(input.id)))

    @authenticated(description="Send a delivery again now, with the same event id.")
    async def redeliver_webhook(
        self,
        info: Info,
        input: Annotated[RedeliverWebhookInput, strawberry.argument(description="Which delivery.")],
    ) -> WebhookDeliveryPayload:
        return await guarded(WebhookDeliveryPayload, _redeliver(info, str(input.delivery_id)))

    @authenticated(description="Email recipients on events, with subject and text templates.")
    async def create_email_notification(
        self,
        info: Info,
        input: Annotated[
            CreateEmailNotificationInput, strawberry.argument(description="The notification.")
        ],
    ) -> EmailNotificationPayload:
        return await guarded(EmailNotificationPayload, _create_email(info, input))

    @authenticated(description="Change an email notification.")
    async def update_email_notification(
        self,
        info: Info,
        input: Annotated[
            UpdateEmailNotificationInput, strawberry.argument(description="The changes.")
        ],
    ) -> EmailNotificationPayload:
        return await guarded(EmailNotificationPayload, _update_email(info, input))

    @authenticated(description="Delete an email notification.")
    async def delete_email_notification(
        self,
        info: Info,
        input: Annotated[
            EmailNotificationIdInput, strawberry.argument(description="Which notification.")
        ],
    ) -> DeleteNotificationPayload:
        return await guarded(
            DeleteNotificationPayload, _delete(info, EmailNotificationRow, str(input.id))
        )
