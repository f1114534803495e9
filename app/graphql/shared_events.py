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

Queries are shared the same way in time rather than per payload: fifty dashboards polling the
same page with one key ask the same question every second, and under load they queue behind
each other. While one execution of a query runs, identical queries (same group, and the same
key and database too, as a query may read what is the caller's own) wait for the *next*
execution, which starts when the running one ends and answers all of them. They never join the
running one: it may have read the database before they were sent, and a client that wrote and
then read must see its write. So a group has at most one execution running and one waiting,
however many clients poll. Each request is still parsed, validated, costed and admitted by its
key's rate limits on its own (all before execution); only the execution is shared. It runs with
the context of the query that started it (what it logs carries that request's id, its spans
are in that request's trace), in a task of its own, so that query's client leaving does not
take the answer from the others. An answer with errors is not shared: its waiters go through
the group once more, then execute alone.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Awaitable, Hashable
from dataclasses import dataclass
from typing import Any, cast

from graphql import ExecutionResult, OperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from app.web.metrics import metrics_of


class SharedEvent:
    """Marks a type whose instances subscriptions yield, unchanged, to every subscriber of an
    event (never mutated after it is built), so one execution per group may serve them all."""

    __slots__ = ()


# Per payload (by identity: the types are dataclasses, unhashable), per group: the result
# being or already computed. An entry goes when its payload is collected.
_results: dict[int, dict[Hashable, asyncio.Future[ExecutionResult]]] = {}
# How many executions ran for shared payloads (what tests count instead of timing).
executions = 0


@dataclass(eq=False)
class _QueryFlight:
    """One execution of a query for its group; `next`: the one that starts when it ends."""

    answer: asyncio.Future[ExecutionResult]
    next: _QueryFlight | None = None


# Per event loop (a test's loop may end with flights in it), per group: the query execution
# under way, and the one waiting behind it.
_flights_by_loop: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[Hashable, _QueryFlight]
] = weakref.WeakKeyDictionary()


def _flights() -> dict[Hashable, _QueryFlight]:
    """The running loop's query executions by group."""
    loop = asyncio.get_running_loop()
    flights = _flights_by_loop.get(loop)
    if flights is None:
        flights = _flights_by_loop[loop] = {}
    return flights


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """The schema's executor: unchanged for mutations; for a subscription event whose
    payload is a `SharedEvent`, one execution per payload and group; for a query, one
    execution for the identical queries that arrive while one of their group runs."""

    per_event = False
    # A subscription's group, the same for all its events: computed once, on the
    # subscription's executor, which every event's executor is a copy of.
    event_group: tuple[Hashable, ...] | None = None
    event_group_known = False

    def build_per_event_executor(self, payload: Any) -> Any:
        if not self.event_group_known:
            self.event_group, self.event_group_known = self._group(), True
        executor = cast(SharedEventExecutor, super().build_per_event_executor(payload))
        executor.per_event = True
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        if self.per_event:
            if isinstance(self.root_value, SharedEvent) and (key := self.event_group) is not None:
                return self._shared_event(key, serially)
        elif (
            self.operation.operation is OperationType.QUERY
            and (key := self._query_group()) is not None
        ):
            return self._coalesced(key, serially)
        return super().execute_operation(serially)

    def _shared_event(self, key: Hashable, serially: bool | None) -> Any:
        groups = _groups_of(self.root_value)
        shared = groups.get(key)
        if shared is None:
            shared = asyncio.ensure_future(self._execute_once(serially))
            groups[key] = shared
        return self._shared_or_own(shared, serially)

    async def _execute_once(self, serially: bool | None) -> ExecutionResult:
        global executions
        executions += 1
        return await self._execute_alone(serially)

    async def _shared_or_own(
        self, shared: asyncio.Future[ExecutionResult], serially: bool | None
    ) -> ExecutionResult:
        result = await _usable(shared)
        return result if result is not None else await self._execute_alone(serially)

    async def _execute_alone(self, serially: bool | None) -> ExecutionResult:
        own = super().execute_operation(serially)
        if isinstance(own, Awaitable):
            own = await own
        return cast(ExecutionResult, own)

    def _group(self) -> tuple[Hashable, ...] | None:
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

    def _query_group(self) -> tuple[Hashable, ...] | None:
        """A query's group: a subscriber's, narrowed to the caller's key and database."""
        group = self._group()
        if group is None:
            return None
        runtime = getattr(self.context_value, "runtime", None)
        return (*group, self.context_value.principal.api_key_id, id(runtime))

    async def _coalesced(
        self, key: Hashable, serially: bool | None, again: bool = True
    ) -> ExecutionResult:
        """This query's answer: from an execution of its own when none of its group runs or
        waits; otherwise from the next one, which it starts (behind the one running) or
        joins."""
        flights = _flights()
        running = flights.get(key)
        if running is None:
            flight = flights[key] = self._flight(flights, key, None, serially)
            return await self._started(flight, serially)
        if running.next is None:
            running.next = self._flight(flights, key, running, serially)
            return await self._started(running.next, serially)
        result = await _usable(running.next.answer)
        if result is None:
            # Not to be shared (an answer's errors are its request's own). Once more through
            # the group, or the waiters of a failed answer would all execute at once; then alone.
            if again:
                return await self._coalesced(key, serially, again=False)
            return await self._execute_alone(serially)
        metrics = metrics_of(self.context_value)
        if metrics is not None:
            metrics.shared_answers.inc()
        return result

    def _flight(
        self,
        flights: dict[Hashable, _QueryFlight],
        key: Hashable,
        after: _QueryFlight | None,
        serially: bool | None,
    ) -> _QueryFlight:
        flight = _QueryFlight(asyncio.ensure_future(self._execute_after(after, serially)))
        flight.answer.add_done_callback(lambda _: _landed(flights, key, flight))
        return flight

    async def _started(self, flight: _QueryFlight, serially: bool | None) -> ExecutionResult:
        """The answer of the execution this query started: its own, errors included."""
        try:
            return await asyncio.shield(flight.answer)
        except asyncio.CancelledError:
            if flight.answer.cancelled():  # the execution was (its loop closing), not this query
                return await self._execute_alone(serially)
            raise

    async def _execute_after(
        self, previous: _QueryFlight | None, serially: bool | None
    ) -> ExecutionResult:
        if previous is not None:
            await asyncio.wait([previous.answer])  # until it ends, however it ends
        return await self._execute_alone(serially)


async def _usable(shared: asyncio.Future[ExecutionResult]) -> ExecutionResult | None:
    """The shared result, unless it failed or has errors (which are each request's own: the
    request then answers itself)."""
    try:
        result = await asyncio.shield(shared)
    except asyncio.CancelledError:
        if shared.cancelled():  # the shared execution was, not this request
            return None
        raise
    except Exception:
        return None
    return None if result.errors else result


def _landed(flights: dict[Hashable, _QueryFlight], key: Hashable, flight: _QueryFlight) -> None:
    """A query execution ended: the one waiting behind it, if any, is now the one running."""
    if not flight.answer.cancelled():
        flight.answer.exception()  # its callers see it; do not log it as never retrieved
    current = flights.get(key)
    if current is flight:
        following = flight.next
        if following is None or following.answer.done():
            del flights[key]
        else:
            flights[key] = following
    elif current is not None and current.next is flight:
        current.next = None  # it ended before its turn (cancelled): the next query starts anew


def _groups_of(payload: object) -> dict[Hashable, asyncio.Future[ExecutionResult]]:
    groups = _results.get(id(payload))
    if groups is None:
        groups = _results[id(payload)] = {}
        weakref.finalize(payload, _results.pop, id(payload), None)
    return groups
