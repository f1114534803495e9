"""GraphQL inputs of collection subscriptions."""

from __future__ import annotations

import strawberry


@strawberry.input(description="Start collecting a datastream for your workspace.")
class CreateCollectionSubscriptionInput:
    datastream_id: strawberry.ID = strawberry.field(
        description="Datastream id (`101` or `ds_101`)."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retry-safe key: the same key returns the same subscription."
    )


@strawberry.input(description="Which collection subscription.")
class CollectionSubscriptionIdInput:
    id: strawberry.ID = strawberry.field(description="`sub_...` id.")
