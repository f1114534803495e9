"""GraphQL inputs of webhooks and email notifications."""

from __future__ import annotations

import strawberry

from app.graphql.notifications.types import NotificationEvent, NotificationPolicy


@strawberry.input(description="A new webhook.")
class CreateWebhookInput:
    url: str = strawberry.field(
        description="http(s) URL; addresses of loopback, private or link-local networks are "
        "refused unless the gateway allows them."
    )
    events: list[NotificationEvent] = strawberry.field(description="The events to send.")
    secret: str | None = strawberry.field(
        default=None,
        description="Signing secret, `whsec_` and base64 of 24 to 64 bytes; default: generated "
        "and returned once.",
    )
    description: str | None = strawberry.field(default=None, description="What it is for.")


@strawberry.input(description="Changes to a webhook; null leaves a field as it is.")
class UpdateWebhookInput:
    id: strawberry.ID = strawberry.field(description="`whk_...` id.")
    url: str | None = strawberry.field(default=None, description="A new URL.")
    events: list[NotificationEvent] | None = strawberry.field(
        default=None, description="The new list of events."
    )
    enabled: bool | None = strawberry.field(default=None, description="Pause or resume it.")
    description: str | None = strawberry.field(default=None, description="A new description.")
    rotate_secret: bool = strawberry.field(
        default=False, description="Generate a new secret (returned once); the old one stops."
    )


@strawberry.input(description="Which webhook.")
class WebhookIdInput:
    id: strawberry.ID = strawberry.field(description="`whk_...` id.")


@strawberry.input(description="Which delivery to send again.")
class RedeliverWebhookInput:
    delivery_id: strawberry.ID = strawberry.field(description="`dlv_...` id.")


@strawberry.input(description="A new email notification.")
class CreateEmailNotificationInput:
    recipients: list[str] = strawberry.field(description="1 to 50 email addresses.")
    policy: NotificationPolicy = strawberry.field(
        default=NotificationPolicy.ALWAYS, description="Successes, failures or both."
    )
    subject: str = strawberry.field(
        description="Subject template: `$name` or `${name}` for event_id, event_type, "
        "event_time, job_id, kind, status, reason, datastream_id, format, start_time, "
        "end_time, finished_at, rows, bytes, links; `$$` for a dollar."
    )
    text: str = strawberry.field(description="Body template, with the same fields.")
    events: list[NotificationEvent] | None = strawberry.field(
        default=None, description="The events it is for; default all (the policy chooses)."
    )


@strawberry.input(description="Changes to an email notification; null leaves a field as it is.")
class UpdateEmailNotificationInput:
    id: strawberry.ID = strawberry.field(description="`eml_...` id.")
    recipients: list[str] | None = strawberry.field(default=None, description="New recipients.")
    policy: NotificationPolicy | None = strawberry.field(default=None, description="New policy.")
    subject: str | None = strawberry.field(default=None, description="New subject template.")
    text: str | None = strawberry.field(default=None, description="New body template.")
    events: list[NotificationEvent] | None = strawberry.field(
        default=None, description="New list of events."
    )
    enabled: bool | None = strawberry.field(default=None, description="Pause or resume it.")


@strawberry.input(description="Which email notification.")
class EmailNotificationIdInput:
    id: strawberry.ID = strawberry.field(description="`eml_...` id.")
