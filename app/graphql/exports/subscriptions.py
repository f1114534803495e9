"""Export job subscriptions: status and progress pushed over graphql-transport-ws."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import OrderedDict
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from app.db.models import ExportJobRow
from app.domain.exports import queries
from app.domain.exports.status import JobStatus
from app.domain.runtime import JobEvent
from app.events import RESYNC
from app.graphql.arguments import datastream_id_arg
from app.graphql.context import Info, authenticated_subscription
from app.graphql.errors import ApiError
from app.graphql.exports.types import ExportJob, ExportStatus


def recheck_seconds(info: Info) -> float:
    """How long a subscriber waits for an event before it re-reads what it follows."""
    return info.context.bus.recheck_seconds


JobState = tuple[object, ...]


@dataclasses.dataclass(frozen=True)
class SharedJob:
    """A job row and its API view, built once per read and shared by every subscriber."""

    row: ExportJobRow
    view: ExportJob


# Jobs a dashboard subscription remembers (the latest shown), to announce their deletion.
REMEMBERED_FOR_DELETION = 1000


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
        async with info.context.bus.subscribe() as events:
            job = await _shared_read(info, str(id))
            if job is None:
                raise ApiError(f"no export job {id}", "NOT_FOUND")
            yield job.view
            last = _state(job.row)
            while not JobStatus(job.row.status).terminal:
                await _changes(info, events, {job.row.id})
                fresh = await _shared_read(info, job.row.id)
                if fresh is None:
                    return
                job = fresh
                if _state(job.row) != last:
                    last = _state(job.row)
                    yield job.view

    @authenticated_subscription(
        description="Every change (status or progress) to any of your jobs that matches the "
        "filters, for dashboards: new jobs as they are created (QUEUED), and a job it has "
        "shown once more, with status DELETED, when it is deleted. Starts with the current "
        "state of your queued and running jobs, so a reconnecting dashboard misses nothing. "
        "Never completes.",
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
        shown: OrderedDict[str, ExportJob] = OrderedDict()  # the latest shown, for deletions
        async with info.context.bus.subscribe() as events:
            changed = await _active_job_ids(info)
            while True:
                for job_id in sorted(changed):
                    shared = await _shared_read(info, job_id)
                    if shared is None:
                        seen.pop(job_id, None)  # deleted: it will never change again
                        if (last := shown.pop(job_id, None)) is not None:
                            yield dataclasses.replace(last, status=ExportStatus.DELETED)
                        continue
                    job = shared.row
                    state = _state(job)
                    if seen.get(job.id) == state:
                        continue
                    seen[job.id] = state
                    if JobStatus(job.status).terminal:
                        seen.pop(job.id)  # nothing more will change; keep memory bounded
                    if (status is None or job.status == status.name) and (
                        ds_id is None or job.datastream_id == ds_id
                    ):
                        shown[job.id] = shared.view
                        shown.move_to_end(job.id)
                        if len(shown) > REMEMBERED_FOR_DELETION:
                            shown.popitem(last=False)
                        yield shared.view
                news = await _changes(info, events, None, caller.workspace_id)
                changed = news if news is not None else set(seen) | await _active_job_ids(info)


async def _changes(
    info: Info,
    events: asyncio.Queue[JobEvent],
    job_ids: set[str] | None,
    workspace_id: str | None = None,
) -> set[str] | None:
    """Wait for events about the given jobs (or any export job of the workspace) and take all
    that are pending at once: a burst of progress events costs one read. None (re-read all
    you follow) after a resync, or when nothing came for the recheck period."""
    while True:
        try:
            # asyncio.timeout, not wait_for: no task per wait (a thousand subscribers wake at
            # once on an event).
            async with asyncio.timeout(recheck_seconds(info)):
                pending = [await events.get()]
        except TimeoutError:
            return None
        while not events.empty():
            pending.append(events.get_nowait())
        if any(e is RESYNC for e in pending):
            return None
        changed = {
            e.job_id
            for e in pending
            if e.kind == "export"
            and (job_ids is None or e.job_id in job_ids)
            and (workspace_id is None or e.workspace_id == workspace_id)
        }
        if changed:
            return changed


async def _shared_read(info: Info, job_id: str) -> SharedJob | None:
    """The job as of its latest change, read once per change for every subscriber of this
    process, with the one view of it they all yield (so its selection executes once per
    group, `app.graphql.shared_events`); another workspace's job is not found."""

    async def load() -> SharedJob | None:
        async with info.context.sessions() as session:
            row = await queries.get_export_any_workspace(session, job_id)
        return None if row is None else SharedJob(row, ExportJob.from_row(row))

    job = await info.context.bus.reads.read(f"export:{job_id}", job_id, load)
    caller = info.context.caller
    return job if job is not None and job.row.workspace_id == caller.workspace_id else None


async def _active_job_ids(info: Info) -> set[str]:
    """The workspace's queued and running jobs, read once per change for the whole process."""
    caller = info.context.caller

    async def load() -> set[str]:
        async with info.context.sessions() as session:
            return set(await queries.active_job_ids(session, caller))

    key = f"active-exports:{caller.workspace_id}"
    return set(await info.context.bus.reads.read(key, caller.workspace_id, load))
