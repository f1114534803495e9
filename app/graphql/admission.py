"""Admission of an operation, after it parses and before it runs: it must validate, cost no
more than the limit, and fit in its key's rate limits.

The cost: depth, aliases and tokens are limited each on its own; the cost multiplies them:
a field costs 1, and what is selected below a list costs as many times as the list may be
long (`first`, from the arguments or the variables, for a connection; `LIST_SIZE` for other
lists). Thirty aliases of a page of a hundred jobs with their artifacts cost what they would
make the server do. The same cost is spent from the key's query-cost window."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
)
from starlette.responses import Response
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from app.graphql.relay import DEFAULT_PAGE_SIZE
from app.web.rate_limits import WINDOW_SECONDS, RateLimiter

LIST_SIZE = 10  # lists without `first` (artifacts, ranges, versions) are short


class ValidDocuments:
    """Query texts that passed validation against one schema (its rules, its limits), so a
    client polling the same query is not validated again on every request: validation was
    most of the CPU an `exportJobs` poll cost. The outcome depends on the text alone (the
    variables only change the cost, computed every time); only successes are kept (errors
    are built afresh for each request), at most `size`, and texts up to `longest` chars."""

    def __init__(self, size: int = 1000, longest: int = 16_384) -> None:
        self._texts: dict[str, None] = {}
        self._size = size
        self._longest = longest

    def __contains__(self, query: object) -> bool:
        return isinstance(query, str) and query in self._texts

    def add(self, query: str | None) -> None:
        if query is None or len(query) > self._longest:
            return
        if len(self._texts) >= self._size:
            self._texts.pop(next(iter(self._texts)))  # the oldest
        self._texts[query] = None


class QueryAdmission(SchemaExtension):
    """Validates the document (as Strawberry would), then refuses it if it costs too much
    (QUERY_TOO_COSTLY, with the cost and the limit) or if the caller's key is over its rate
    limits (RATE_LIMITED with retryAfter; HTTP 429 with Retry-After). Every response to a
    key says where it stands: RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset (IETF
    draft httpapi-ratelimit-headers), and RateLimit-Policy (the limit and its window)."""

    def __init__(
        self,
        max_cost: int,
        max_page_size: int,
        limiter: RateLimiter,
        valid: ValidDocuments | None = None,
    ) -> None:
        self.max_cost = max_cost
        self.max_page_size = max_page_size
        self.limiter = limiter
        self.valid = valid if valid is not None else ValidDocuments()

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        schema = context.schema._schema
        errors: list[GraphQLError] = []
        if context.query not in self.valid:
            errors = validate_document(schema, context.graphql_document, context.validation_rules)
            if not errors:
                self.valid.add(context.query)
        cost = 0
        if not errors:
            operation = context.graphql_document.definitions
            fragments = {
                d.name.value: d for d in operation if isinstance(d, FragmentDefinitionNode)
            }
            cost = sum(
                _Cost(schema, fragments, context.variables or {}, self.max_page_size).operation(d)
                for d in operation
                if isinstance(d, OperationDefinitionNode)
                and (context.operation_name is None or _named(d, context.operation_name))
            )
            if cost > self.max_cost:
                errors = [
                    GraphQLError(
                        f"the query costs {cost:,}, the limit is {self.max_cost:,}: ask for "
                        "fewer fields, smaller pages (first) or fewer aliases",
                        extensions={
                            "code": "QUERY_TOO_COSTLY",
                            "cost": cost,
                            "maxCost": self.max_cost,
                        },
                    )
                ]
        if not errors:
            errors = await self._rate_limited(cost)
        context.pre_execution_errors = errors  # Strawberry skips its own validation now
        yield

    async def _rate_limited(self, cost: int) -> list[GraphQLError]:
        request_context = self.execution_context.context
        who = getattr(request_context, "principal", None)
        if who is None:  # unauthenticated: the operation will be refused anyway
            return []
        decision = await self.limiter.admit(
            who.api_key_id, cost, who.requests_per_minute, who.query_cost_per_minute
        )
        response = getattr(request_context, "response", None)
        if isinstance(response, Response):  # HTTP; a WebSocket has no headers per operation
            response.headers["RateLimit-Limit"] = str(decision.limit)
            response.headers["RateLimit-Remaining"] = str(decision.remaining)
            response.headers["RateLimit-Reset"] = str(decision.reset_seconds)
            response.headers["RateLimit-Policy"] = f"{decision.limit};w={WINDOW_SECONDS}"
            if not decision.allowed:
                response.status_code = 429
                response.headers["Retry-After"] = str(decision.retry_after)
        if decision.allowed:
            return []
        return [
            GraphQLError(
                f"this key is over its rate limit of {decision.limit:,} per minute: retry in "
                f"{decision.retry_after} s",
                extensions={"code": "RATE_LIMITED", "retryAfter": decision.retry_after},
            )
        ]


def _named(operation: OperationDefinitionNode, name: str) -> bool:
    return operation.name is not None and operation.name.value == name


class _Cost:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        max_page_size: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.max_page_size = max_page_size

    def operation(self, node: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(node.operation)
        return self.selection(node.selection_set, root) if root is not None else 0

    def selection(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType) -> int:
        if selection_set is None:
            return 0
        total = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                total += self.field(node, parent)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection(node.selection_set, target or parent)
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragments.get(node.name.value)
                if fragment is not None:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    total += self.selection(fragment.selection_set, target or parent)
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType) -> int:
        fields = getattr(parent, "fields", {})
        definition = fields.get(node.name.value)
        if definition is None:  # __typename and introspection
            return 1
        named = get_named_type(definition.type)
        children = self.selection(node.selection_set, named)
        return 1 + self.size(node, definition.type, parent) * children

    def size(self, node: FieldNode, field_type: Any, parent: GraphQLNamedType) -> int:
        """How many times what is selected below this field may be resolved."""
        if get_named_type(field_type).name.endswith("Connection"):
            return self.first(node)
        if parent.name.endswith("Connection"):  # its edges: counted by the connection's first
            return 1
        return LIST_SIZE if isinstance(get_nullable_type(field_type), GraphQLList) else 1

    def first(self, node: FieldNode) -> int:
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return min(max(int(value.value), 0), self.max_page_size)
            if isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
                if isinstance(given, int) and not isinstance(given, bool):
                    return min(max(given, 0), self.max_page_size)
        return min(DEFAULT_PAGE_SIZE, self.max_page_size)
