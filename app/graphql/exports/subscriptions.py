"""Export job subscriptions: status and progress pushed over graphql-transport-ws."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from app.domain.exports import queries
from app.domain.exports.status import JobStatus
from app.domain.runtime import JobEvent
from app.graphql.arguments import datastream_id_arg
from app.graphql.context import Info, authenticated_subscription
from app.graphql.errors import ApiError
from app.graphql.exports.types import ExportJob, ExportStatus

# Events are wake-ups; re-reading the row is the safety net if one is ever missed, and the
# only way to see other processes' changes when there is no Redis to carry events.
RECHECK_SECONDS = 5.0
RECHECK_SECONDS_WITHOUT_BUS = 1.0


def recheck_seconds(info: Info) -> float:
    crossing = info.context.bus.crosses_processes or info.context.settings.embedded_broker
    return RECHECK_SECONDS if crossing else RECHECK_SECONDS_WITHOUT_BUS


JobState = tuple[object, ...]


def _state(job: object) -> JobState:
    return (
        getattr(job, "status", None),
        getattr(job, "rows_written", None),
        getattr(job, "bytes_written", None),
        getattr(job, "attempts", None),
    )


@strawberry.type(description="Follow export jobs as they change.")
class ExportSubscription:
    @authenticated_subscription(
        description="The job's current state first, then every status change and "
        "progress update; completes after a terminal state.",
    )
    async def export_job_updated(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Job id.")],
    ) -> AsyncGenerator[ExportJob, None]:
        caller = info.context.caller
        async with info.context.bus.subscribe() as events:
            async with info.context.sessions() as session:
                job = await queries.get_export(session, caller, str(id))
            if job is None:
                raise ApiError(f"no export job {id}", "NOT_FOUND")
            yield ExportJob.from_row(job)
            last = _state(job)
            while not JobStatus(job.status).terminal:
                with contextlib.suppress(TimeoutError):
                    event = await asyncio.wait_for(events.get(), recheck_seconds(info))
                    if event.job_id != job.id:
                        continue
                async with info.context.sessions() as session:
                    fresh = await queries.get_export(session, caller, job.id)
                if fresh is None:
                    return
                job = fresh
                if _state(job) != last:
                    last = _state(job)
                    yield ExportJob.from_row(job)

    @authenticated_subscription(
        description="Every change (status or progress) to any of your jobs that matches the "
        "filters, for dashboards. Starts with the current state of your queued and running "
        "jobs, so a reconnecting dashboard misses nothing. Never completes.",
    )
    async def export_jobs_updated(
        self,
        info: Info,
        status: Annotated[
            ExportStatus | None, strawberry.argument(description="Only jobs now in this state.")
        ] = None,
        datastream_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only jobs of this datastream.")
        ] = None,
    ) -> AsyncGenerator[ExportJob, None]:
        caller = info.context.caller
        ds_id = datastream_id_arg(datastream_id, "datastreamId") if datastream_id else None
        seen: dict[str, JobState] = {}
        async with info.context.bus.subscribe() as events:
            async with info.context.sessions() as session:
                changed = set(await queries.active_job_ids(session, caller))
            while True:
                async with info.context.sessions() as session:
                    jobs = await queries.jobs_by_ids(session, caller, sorted(changed))
                for gone in changed.difference(j.id for j in jobs):
                    seen.pop(gone, None)  # deleted: it will never change again
                for job in jobs:
                    state = _state(job)
                    if seen.get(job.id) == state:
                        continue
                    seen[job.id] = state
                    if JobStatus(job.status).terminal:
                        seen.pop(job.id)  # nothing more will change; keep memory bounded
                    if (status is None or job.status == status.name) and (
                        ds_id is None or job.datastream_id == ds_id
                    ):
                        yield ExportJob.from_row(job)
                changed = await _changed_job_ids(info, events, caller.workspace_id, seen)


async def _changed_job_ids(
    info: Info, events: asyncio.Queue[JobEvent], workspace_id: str, seen: dict[str, JobState]
) -> set[str]:
    """Wait for events of this workspace and take all that are pending at once (a burst of
    progress events costs one query). Without a cross-process bus, poll the active jobs."""
    changed: set[str] = set()
    try:
        event = await asyncio.wait_for(events.get(), recheck_seconds(info))
        pending = [event]
        while not events.empty():
            pending.append(events.get_nowait())
        changed = {
            e.job_id for e in pending if e.workspace_id == workspace_id and e.kind == "export"
        }
    except TimeoutError:
        if not info.context.bus.crosses_processes:
            async with info.context.sessions() as session:
                changed = set(await queries.active_job_ids(session, info.context.caller))
            changed |= set(seen)
    return changed
