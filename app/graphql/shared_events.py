"""One execution of a subscription's selection per event, for every subscriber who would get
the same answer.

graphql-core executes a subscription's selection set once per event per subscriber: with a
thousand dashboards following one workspace, one job change cost a thousand identical
executions, which was most of the time until the last dashboard heard of it. Subscription
resolvers that read through `app.events.SharedReads` yield the *same* payload object to every
subscriber of the change (`SharedEvent`); the executor here keeps, per such payload, the result
of each distinct group and hands it to every subscriber in that group.

A group is what makes two answers the same: the operation (the document's text and the
operation name), the coerced variables, and who asks (the caller's workspace and role, and the
base URL links are built with). Nothing else a selection on a shared payload reads differs
between two subscribers of one group, so a result never crosses workspaces or roles. A result
with errors is not shared (errors carry each request's id); those subscribers execute alone.
Each subscriber keeps its own generator, its own bounded event queue and its own WebSocket
sends: a slow client still only slows itself.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Awaitable, Hashable
from typing import Any, cast

from graphql import ExecutionResult
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class SharedEvent:
    """Marks a type whose instances subscriptions yield, unchanged, to every subscriber of an
    event (never mutated after it is built), so one execution per group may serve them all."""

    __slots__ = ()


# Per payload (by identity: the types are dataclasses, unhashable), per group: the result
# being or already computed. An entry goes when its payload is collected.
_results: dict[int, dict[Hashable, asyncio.Future[ExecutionResult]]] = {}
# How many executions ran for shared payloads (what tests count instead of timing).
executions = 0


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """The schema's executor: unchanged for queries and mutations; for a subscription event
    whose payload is a `SharedEvent`, one execution per payload and group."""

    per_event = False

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = cast(SharedEventExecutor, super().build_per_event_executor(payload))
        executor.per_event = True
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        if not (self.per_event and isinstance(self.root_value, SharedEvent)):
            return super().execute_operation(serially)
        key = self._group()
        if key is None:
            return super().execute_operation(serially)
        groups = _groups_of(self.root_value)
        shared = groups.get(key)
        if shared is None:
            shared = asyncio.ensure_future(self._execute_once(serially))
            groups[key] = shared
        return self._shared_or_own(shared, serially)

    async def _execute_once(self, serially: bool | None) -> ExecutionResult:
        global executions
        executions += 1
        result = super().execute_operation(serially)
        if isinstance(result, Awaitable):
            result = await result
        return cast(ExecutionResult, result)

    async def _shared_or_own(
        self, shared: asyncio.Future[ExecutionResult], serially: bool | None
    ) -> ExecutionResult:
        try:
            result = await asyncio.shield(shared)
        except asyncio.CancelledError:
            raise
        except Exception:  # the shared execution itself failed: this subscriber tries alone
            result = None
        if result is not None and not result.errors:
            return result
        own = super().execute_operation(serially)  # errors are per request: not shared
        if isinstance(own, Awaitable):
            own = await own
        return cast(ExecutionResult, own)

    def _group(self) -> Hashable | None:
        """What makes two subscribers' answers the same; None: not known, do not share."""
        context = self.context_value
        principal = getattr(context, "principal", None)
        location = self.operation.loc
        if principal is None or location is None:
            return None
        try:
            variables = json.dumps(self.variable_values, sort_keys=True, default=repr)
            base_url = context.base_url()
        except Exception:  # variables or a request this cannot key: execute alone
            return None
        name = self.operation.name.value if self.operation.name else None
        return (
            location.source.body,
            name,
            variables,
            principal.workspace_id,
            str(principal.role),
            base_url,
        )


def _groups_of(payload: object) -> dict[Hashable, asyncio.Future[ExecutionResult]]:
    groups = _results.get(id(payload))
    if groups is None:
        groups = _results[id(payload)] = {}
        weakref.finalize(payload, _results.pop, id(payload), None)
    return groups
