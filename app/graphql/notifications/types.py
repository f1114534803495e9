"""GraphQL types of webhooks, email notifications and deliveries."""

from __future__ import annotations

from enum import Enum

import strawberry

from app.db import models
from app.domain.notifications.deliveries import DeliveryView
from app.graphql.errors import UserError
from app.graphql.relay import Node
from app.graphql.scalars import Timestamp


@strawberry.enum(description="What happened; the `type` of a webhook's JSON body.")
class NotificationEvent(Enum):
    EXPORT_SUCCEEDED = strawberry.enum_value(
        "export.succeeded", description="`export.succeeded`: files ready, with download URLs."
    )
    EXPORT_FAILED = strawberry.enum_value(
        "export.failed", description="`export.failed`: stopped with an error (see reason)."
    )
    EXPORT_CANCELED = strawberry.enum_value(
        "export.canceled", description="`export.canceled`: canceled on request."
    )
    EXPORT_EXPIRED = strawberry.enum_value(
        "export.expired", description="`export.expired`: its files were deleted (retention)."
    )
    IMPORT_SUCCEEDED = strawberry.enum_value(
        "import.succeeded", description="`import.succeeded`: the records are stored."
    )
    IMPORT_FAILED = strawberry.enum_value(
        "import.failed", description="`import.failed`: nothing was stored (see reason)."
    )
    IMPORT_CANCELED = strawberry.enum_value(
        "import.canceled", description="`import.canceled`: canceled on request."
    )
    SCHEDULE_RUN_FAILED = strawberry.enum_value(
        "schedule.run_failed", description="`schedule.run_failed`: a scheduled run failed."
    )
    COLLECTION_ERROR = strawberry.enum_value(
        "collection.error",
        description="`collection.error`: a collection subscription went to ERROR.",
    )


@strawberry.enum(description="When an email notification is sent, among its events.")
class NotificationPolicy(Enum):
    ON_SUCCESS = strawberry.enum_value(
        "ON_SUCCESS", description="Only for successes (export.succeeded, import.succeeded)."
    )
    ON_FAILURE = strawberry.enum_value(
        "ON_FAILURE",
        description="Only for failures (export.failed, import.failed, schedule.run_failed, "
        "collection.error).",
    )
    ALWAYS = strawberry.enum_value("ALWAYS", description="For every event it lists.")


@strawberry.enum(description="Where a delivery is.")
class DeliveryStatus(Enum):
    PENDING = strawberry.enum_value(
        "PENDING", description="Waiting for its first attempt or its next retry."
    )
    DELIVERING = strawberry.enum_value("DELIVERING", description="Being sent right now.")
    SUCCEEDED = strawberry.enum_value(
        "SUCCEEDED", description="The receiver answered 2xx (or the SMTP server took it)."
    )
    FAILED = strawberry.enum_value(
        "FAILED", description="Retried for the whole retry window (about a day) without success."
    )


def _events(values: list[str]) -> list[NotificationEvent]:
    known = {str(e.value) for e in NotificationEvent}
    return [NotificationEvent(v) for v in values if v in known]


@strawberry.type(description="An HTTPS endpoint the workspace's events are POSTed to, signed.")
class Webhook(Node):
    url: str = strawberry.field(description="Where events are POSTed.")
    events: list[NotificationEvent] = strawberry.field(description="The events it receives.")
    enabled: bool = strawberry.field(description="False: no new deliveries are made.")
    description: str | None = strawberry.field(description="What it is for.")
    created_at: Timestamp = strawberry.field(description="When it was created.")
    updated_at: Timestamp = strawberry.field(description="When it was last changed.")

    @classmethod
    def from_row(cls, row: models.WebhookRow) -> Webhook:
        return cls(
            id=strawberry.ID(row.id),
            url=row.url,
            events=_events(row.events),
            enabled=row.enabled,
            description=row.description,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type(description="One try of a delivery.")
class DeliveryAttempt:
    number: int = strawberry.field(description="1 for the first attempt.")
    started_at: Timestamp = strawberry.field(description="When it started.")
    latency_ms: int = strawberry.field(description="How long it took, in milliseconds.")
    status_code: int | None = strawberry.field(
        description="The HTTP status answered (250 for an email taken); null if none came."
    )
    error: str | None = strawberry.field(description="What went wrong; null on success.")


@strawberry.type(description="One event sent to one webhook: its attempts and what comes next.")
class WebhookDelivery(Node):
    event_id: str = strawberry.field(
        description="The event's id, the `webhook-id` header: the same at every attempt and "
        "redelivery (de-duplicate on it)."
    )
    event_type: str = strawberry.field(description="The event's type, e.g. `export.succeeded`.")
    status: DeliveryStatus = strawberry.field(description="Where the delivery is.")
    attempt_count: int = strawberry.field(description="Attempts made so far.")
    attempts: list[DeliveryAttempt] = strawberry.field(description="Every attempt, oldest first.")
    last_status_code: int | None = strawberry.field(description="The last answer's status.")
    last_error: str | None = strawberry.field(description="The last attempt's error, if any.")
    next_attempt_at: Timestamp | None = strawberry.field(
        description="When the next retry is due; null once it SUCCEEDED or FAILED."
    )
    created_at: Timestamp = strawberry.field(description="When the event was fanned out.")
    finished_at: Timestamp | None = strawberry.field(description="When it SUCCEEDED or FAILED.")

    @classmethod
    def from_view(cls, view: DeliveryView) -> WebhookDelivery:
        row = view.delivery
        return cls(
            id=strawberry.ID(row.id),
            event_id=row.event_id,
            event_type=view.event_type,
            status=DeliveryStatus(row.status),
            attempt_count=row.attempts,
            attempts=[
                DeliveryAttempt(
                    number=a.number,
                    started_at=a.started_at,
                    latency_ms=a.latency_ms,
                    status_code=a.status_code,
                    error=a.error,
                )
                for a in view.attempts
            ],
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            next_attempt_at=row.next_attempt_at if row.status == "PENDING" else None,
            created_at=row.created_at,
            finished_at=row.finished_at,
        )


@strawberry.type(description="Emails sent through the gateway's SMTP server on events.")
class EmailNotification(Node):
    recipients: list[str] = strawberry.field(description="Who gets the emails.")
    policy: NotificationPolicy = strawberry.field(description="Successes, failures or both.")
    events: list[NotificationEvent] = strawberry.field(description="The events it is for.")
    subject: str = strawberry.field(description="Subject template (`$status`, `${job_id}` ...).")
    text: str = strawberry.field(
        description="Body template; the HTML part is the same text, values escaped, with the "
        "download links."
    )
    enabled: bool = strawberry.field(description="False: no new emails are sent.")
    created_at: Timestamp = strawberry.field(description="When it was created.")
    updated_at: Timestamp = strawberry.field(description="When it was last changed.")

    @classmethod
    def from_row(cls, row: models.EmailNotificationRow) -> EmailNotification:
        return cls(
            id=strawberry.ID(row.id),
            recipients=list(row.recipients),
            policy=NotificationPolicy(row.policy),
            events=_events(row.events),
            subject=row.subject,
            text=row.text,
            enabled=row.enabled,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type(description="Result of createWebhook and updateWebhook.")
class WebhookPayload:
    webhook: Webhook | None = strawberry.field(default=None, description="The webhook.")
    secret: str | None = strawberry.field(
        default=None,
        description="The signing secret (`whsec_...`), shown this once: on creation and when "
        "rotated; null otherwise.",
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was changed."
    )


@strawberry.type(description="Result of the delete mutations of notifications.")
class DeleteNotificationPayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="The id deleted; null on errors."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was deleted."
    )


@strawberry.type(description="Result of testWebhook and redeliverWebhook.")
class WebhookDeliveryPayload:
    delivery: WebhookDelivery | None = strawberry.field(
        default=None, description="The delivery, due now; follow it in webhookDeliveries."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing is sent."
    )


@strawberry.type(description="Result of createEmailNotification and updateEmailNotification.")
class EmailNotificationPayload:
    email_notification: EmailNotification | None = strawberry.field(
        default=None, description="The email notification."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was changed."
    )
