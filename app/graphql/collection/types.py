"""GraphQL types of collection subscriptions and their spans."""

from __future__ import annotations

from enum import Enum

import strawberry

from app.db import models
from app.graphql.errors import UserError
from app.graphql.relay import Node
from app.graphql.scalars import Long, Timestamp


@strawberry.enum(description="Whether a subscription is being collected.")
class CollectionStatus(Enum):
    ACTIVE = strawberry.enum_value(
        "ACTIVE", description="Collected whenever the feed is connected (see spans)."
    )
    PAUSED = strawberry.enum_value("PAUSED", description="Not collected until resumed.")
    ERROR = strawberry.enum_value(
        "ERROR", description="The feed cannot be collected; see reason. Resume to try again."
    )


@strawberry.enum(description="Why a span of collection ended.")
class SpanEndReason(Enum):
    PAUSED = strawberry.enum_value("PAUSED", description="The subscription was paused.")
    DISCONNECTED = strawberry.enum_value(
        "DISCONNECTED", description="The exchange feed dropped; a reconnect opens a new span."
    )
    COLLECTOR_LOST = strawberry.enum_value(
        "COLLECTOR_LOST",
        description="The collector stopped renewing its lease (it died); another took over.",
    )
    STOPPED = strawberry.enum_value(
        "STOPPED", description="The collector shut down cleanly, or nobody wanted the feed."
    )
    ERROR = strawberry.enum_value("ERROR", description="The feed could not be collected.")


@strawberry.type(
    description="A time range during which the datastream was being collected for this "
    "subscription; the gaps between spans were not collected."
)
class CollectionSpan:
    started_at: Timestamp = strawberry.field(description="When collection began.")
    ended_at: Timestamp | None = strawberry.field(description="When it ended; null: ongoing.")
    end_reason: SpanEndReason | None = strawberry.field(description="Why it ended.")
    collector: str = strawberry.field(description="The collector process that collected it.")

    @classmethod
    def from_row(cls, row: models.CollectionSpanRow) -> CollectionSpan:
        return cls(
            started_at=row.started_at,
            ended_at=row.ended_at,
            end_reason=SpanEndReason(row.end_reason) if row.end_reason else None,
            collector=row.collector_id,
        )


@strawberry.type(
    description="Your workspace's subscription to a datastream: while ACTIVE, the service "
    "collects it live from the exchange (shared with other workspaces subscribed to it)."
)
class CollectionSubscription(Node):
    datastream_id: Long = strawberry.field(description="The datastream collected.")
    status: CollectionStatus = strawberry.field(description="ACTIVE, PAUSED or ERROR.")
    reason: str | None = strawberry.field(description="Why it is in ERROR.")
    idempotency_key: str | None = strawberry.field(description="The key it was created with.")
    created_at: Timestamp = strawberry.field(description="When it was created.")
    updated_at: Timestamp = strawberry.field(description="When its status last changed.")
    collecting: bool = strawberry.field(description="Whether a span is open now.")
    spans: list[CollectionSpan] = strawberry.field(description="What was collected, oldest first.")

    @classmethod
    def from_rows(
        cls, row: models.CollectionSubscriptionRow, spans: list[models.CollectionSpanRow]
    ) -> CollectionSubscription:
        return cls(
            id=strawberry.ID(row.id),
            datastream_id=row.datastream_id,
            status=CollectionStatus(row.status),
            reason=row.reason,
            idempotency_key=row.idempotency_key,
            created_at=row.created_at,
            updated_at=row.updated_at,
            collecting=any(s.ended_at is None for s in spans),
            spans=[CollectionSpan.from_row(s) for s in spans],
        )


@strawberry.type(description="Result of a change to a collection subscription.")
class CollectionSubscriptionPayload:
    collection_subscription: CollectionSubscription | None = strawberry.field(
        default=None, description="The subscription as it now is."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing changed."
    )


@strawberry.type(description="Result of deleteCollectionSubscription.")
class DeleteCollectionSubscriptionPayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="The id of the deleted subscription."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why it was not deleted."
    )
