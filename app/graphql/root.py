"""The GraphQL schema: the root types composed from each feature's resolvers, with the abuse
limits and error masking every request goes through. (`app/graphql` is the API layer; an
*export schema* is a domain object, see `app/graphql/export_schemas/`.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Annotated

import strawberry
from graphql import FieldNode, GraphQLError, OperationDefinitionNode
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from app import logs, tracing
from app.config import Settings, get_settings
from app.domain import api_keys
from app.domain.exports import queries as export_queries
from app.graphql.access.resolvers import AccessMutation, AccessQuery
from app.graphql.access.types import ApiKey
from app.graphql.admission import QueryAdmission, ValidDocuments
from app.graphql.catalog.resolvers import (
    CatalogMutation,
    CatalogQuery,
    load_datastreams,
    one_instrument,
)
from app.graphql.catalog.types import Datastream
from app.graphql.collection.resolvers import (
    CollectionMutation,
    CollectionQuery,
    CollectionSubscriptionUpdates,
    one_subscription,
)
from app.graphql.collection.types import CollectionSubscription
from app.graphql.context import Info, authenticated
from app.graphql.errors import MaskUnexpectedErrors, log_errors
from app.graphql.export_schemas.resolvers import ExportSchemaMutation, ExportSchemaQuery
from app.graphql.exports.resolvers import ExportMutation, ExportQuery
from app.graphql.exports.subscriptions import ExportSubscription
from app.graphql.exports.types import ExportJob
from app.graphql.imports.resolvers import (
    ImportMutation,
    ImportQuery,
    ImportSubscription,
    one_import,
)
from app.graphql.imports.types import ImportJob
from app.graphql.notifications.resolvers import (
    NotificationMutation,
    NotificationQuery,
    one_notification_target,
)
from app.graphql.relay import Node
from app.graphql.resources.resolvers import ResourceMutation, ResourceQuery
from app.graphql.scalars import SCALAR_MAP
from app.graphql.schedules.resolvers import (
    ExportScheduleMutation,
    ExportScheduleQuery,
    one_schedule,
)
from app.graphql.schedules.types import ExportSchedule
from app.ids import id_prefix
from app.web.metrics import metrics_of
from app.web.rate_limits import RateLimiter
from engine.strict import is_ascii_digits


@strawberry.type(
    description="Read the catalog, schemas, availability, your export and import jobs and "
    "recurring exports; export resources to files."
)
class Query(
    CatalogQuery,
    CollectionQuery,
    ExportSchemaQuery,
    ExportQuery,
    ExportScheduleQuery,
    ImportQuery,
    ResourceQuery,
    AccessQuery,
    NotificationQuery,
):
    @authenticated(
        description="Any object by its prefixed ID (`exp_...`, `imp_...`, `ds_...`, `ins_...`, "
        "`sub_...`, `rec_...`, `whk_...`, `eml_...`, and `key_...` for admins)."
    )
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A prefixed ID.")],
    ) -> Node | None:
        text = str(id)
        if id_prefix(text) == "exp":
            async with info.context.sessions() as session:
                job = await export_queries.get_export(session, info.context.caller, text)
            return ExportJob.from_row(job) if job else None
        if id_prefix(text) == "imp":
            return await one_import(info, text)
        if id_prefix(text) == "rec":
            return await one_schedule(info, text)
        if id_prefix(text) == "sub":
            return await one_subscription(info, text)
        if id_prefix(text) == "key":
            async with info.context.sessions() as session:
                key = await api_keys.get_key(session, info.context.caller, text)
            return ApiKey.from_row(key) if key else None
        if id_prefix(text) in ("whk", "eml"):
            return await one_notification_target(info, text)
        if text.startswith("ins_"):
            return await one_instrument(info, text)
        if text.startswith("ds_") and is_ascii_digits(text[3:]) and int(text[3:]) < 2**63:
            datastream_id = int(text[3:])
            return (await load_datastreams(info, [datastream_id])).get(datastream_id)
        return None


@strawberry.type(
    description="Create and control export and import jobs, export schemas, collection, the "
    "catalog and keys; import resources from files."
)
class Mutation(
    ExportSchemaMutation,
    ExportMutation,
    ExportScheduleMutation,
    ImportMutation,
    CollectionMutation,
    AccessMutation,
    CatalogMutation,
    ResourceMutation,
    NotificationMutation,
):
    pass


@strawberry.type(description="Live updates.")
class Subscription(ExportSubscription, ImportSubscription, CollectionSubscriptionUpdates):
    pass


class GatewaySchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_errors(errors)


class OperationMetrics(SchemaExtension):
    """Counts each operation by type, first root field and outcome, and times it."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        kind, field = _operation_kind_and_field(context)
        ok = not (context.result is not None and context.result.errors)
        logs.note(operation=context.operation_name or field, operation_type=kind)
        metrics = metrics_of(context.context)
        if metrics is None:
            return
        metrics.observe_operation(kind, field, ok, time.perf_counter() - started)


def _operation_kind_and_field(context: ExecutionContext) -> tuple[str, str]:
    try:
        operation = context.operation_type.value
    except Exception:  # not parsed or not a known operation: counted as invalid
        return "invalid", "-"
    document = context.graphql_document
    if document is None:
        return operation, "-"
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for selection in definition.selection_set.selections:
                if isinstance(selection, FieldNode):
                    return operation, selection.name.value
    return operation, "-"


def build_schema(
    settings: Settings | None = None, limiter: RateLimiter | None = None
) -> strawberry.Schema:
    """`limiter`: the app's, whose windows every request shares (and which it closes)."""
    settings = settings or get_settings()
    limiter = limiter or RateLimiter(settings)
    valid = ValidDocuments()  # shared by the requests of this schema
    traced = [tracing.graphql_extension()] if tracing.enabled_for(settings) else []
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[ExportJob, ImportJob, Datastream, ApiKey, CollectionSubscription, ExportSchedule],
        extensions=[
            lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
            lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
            lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
            lambda: QueryAdmission(settings.max_query_cost, settings.max_page_size, limiter, valid),
            MaskUnexpectedErrors,
            OperationMetrics,
            *traced,
        ],
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )


schema = build_schema()
