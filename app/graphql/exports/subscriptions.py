"""Export job subscriptions: status and progress pushed over graphql-transport-ws."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from app.db.models import ExportJobRow, ExportJobTombstoneRow
from app.domain.errors import DomainError
from app.domain.exports import changes, queries
from app.domain.exports.status import JobStatus
from app.domain.runtime import JobEvent
from app.events import RESYNC
from app.graphql.arguments import datastream_id_arg
from app.graphql.context import Info, authenticated_subscription
from app.graphql.errors import ApiError
from app.graphql.exports.types import ExportJob, ExportStatus
from app.graphql.scalars import Timestamp


def recheck_seconds(info: Info) -> float:
    """How long a subscriber waits for an event before it re-reads what it follows."""
    return info.context.bus.recheck_seconds


SINCE_DESCRIPTION = (
    "Resume after a disconnection: the greatest `updatedAt` you have seen. The subscription "
    "first replays, oldest change first, the current state of every job that changed since "
    "then (with a safety margin: a replay may repeat states you have, keep the higher "
    "`revision`), deleted jobs included (status DELETED), then goes on live. Refused "
    "(INVALID_ARGUMENT) when older than the retention period: reload and subscribe without it."
)


def _since(info: Info, since: Timestamp | None) -> int | None:
    """Where a replay starts, or None without `since`; a GraphQL error for a bad value."""
    if since is None:
        return None
    if not isinstance(since, int):
        raise ApiError("since is not a timestamp", "INVALID_ARGUMENT", field="since")
    try:
        return changes.replay_from(info.context.settings, since)
    except DomainError as error:
        raise ApiError.from_domain(error) from None


def _deleted(tombstone: ExportJobTombstoneRow) -> ExportJob:
    return dataclasses.replace(
        ExportJob.from_row(changes.last_state(tombstone)), status=ExportStatus.DELETED
    )


@strawberry.type(description="Follow export jobs as they change.")
class ExportSubscription:
    @authenticated_subscription(
        description="The job's current state first, then every status change and "
        "progress update (about four a second while it runs, see "
        "`GATEWAY_PROGRESS_INTERVAL_SECONDS`); completes after a terminal state, or after "
        "announcing the job's deletion (status DELETED).",
    )
    async def export_job_updated(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Job id.")],
        since: Annotated[
            Timestamp | None,
            strawberry.argument(
                description="Resume: the job's latest `updatedAt` you have seen. Its current "
                "state is sent first only if it changed since (or it was deleted since: then "
                "status DELETED); otherwise the next change is. Refused (INVALID_ARGUMENT) when "
                "older than the retention period."
            ),
        ] = None,
    ) -> AsyncGenerator[ExportJob, None]:
        after = _since(info, since)
        async with info.context.bus.subscribe() as events:
            job = await _shared_read(info, str(id))
            if job is None:
                tombstone = await _shared_tombstone(info, str(id))
                if after is not None and tombstone is not None and tombstone.deleted_at >= after:
                    yield _deleted(tombstone)
                    return
                raise ApiError(f"no export job {id}", "NOT_FOUND")
            if after is None or job.updated_at >= after:
                yield ExportJob.from_row(job)
            last = job.revision
            while not JobStatus(job.status).terminal:
                await _changes(info, events, {job.id})
                fresh = await _shared_read(info, job.id)
                if fresh is None:
                    if (tombstone := await _shared_tombstone(info, job.id)) is not None:
                        yield _deleted(tombstone)
                    return
                job = fresh
                if job.revision != last:
                    last = job.revision
                    yield ExportJob.from_row(job)

    @authenticated_subscription(
        description="Every change (status or progress) to any of your jobs that matches the "
        "filters, for dashboards: new jobs as they are created (QUEUED), progress about four "
        "times a second per running job, and deletions (status DELETED, whatever the status "
        "filter). Starts with the current state of your queued and running jobs; with "
        "`since`, also with every job changed or deleted since then, so a reconnecting "
        "dashboard misses nothing. Never completes.",
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
        since: Annotated[
            Timestamp | None, strawberry.argument(description=SINCE_DESCRIPTION)
        ] = None,
    ) -> AsyncGenerator[ExportJob, None]:
        caller = info.context.caller
        ds_id = datastream_id_arg(datastream_id, "datastreamId") if datastream_id else None
        after = _since(info, since)
        seen: dict[str, int] = {}  # revision last considered, of jobs that may still change

        def wanted(job: ExportJobRow) -> bool:
            return (status is None or job.status == status.name) and (
                ds_id is None or job.datastream_id == ds_id
            )

        def deletion_wanted(tombstone: ExportJobTombstoneRow) -> bool:
            return ds_id is None or tombstone.last_state["datastream_id"] == ds_id

        async with info.context.bus.subscribe() as events:
            if after is None:
                changed = await _active_job_ids(info)
            else:
                changed = set()  # the replay starts with the active jobs
                for row in await _replay(info, after):
                    if isinstance(row, ExportJobTombstoneRow):
                        if deletion_wanted(row):
                            yield _deleted(row)
                        continue
                    if not JobStatus(row.status).terminal:
                        seen[row.id] = row.revision
                    if wanted(row):
                        yield ExportJob.from_row(row)
            while True:
                for job_id in sorted(changed):
                    job = await _shared_read(info, job_id)
                    if job is None:
                        seen.pop(job_id, None)  # deleted: it will never change again
                        tombstone = await _shared_tombstone(info, job_id)
                        if tombstone is not None and deletion_wanted(tombstone):
                            yield _deleted(tombstone)
                        continue
                    if seen.get(job.id) == job.revision:
                        continue
                    seen[job.id] = job.revision
                    if JobStatus(job.status).terminal:
                        seen.pop(job.id)  # nothing more will change; keep memory bounded
                    if wanted(job):
                        yield ExportJob.from_row(job)
                news = await _changes(info, events, None, caller.workspace_id)
                changed = news if news is not None else set(seen) | await _active_job_ids(info)


async def _replay(info: Info, after: int) -> list[ExportJobRow | ExportJobTombstoneRow]:
    """The current state of the queued and running jobs and of every job changed at or after
    `after`, and the tombstones of the jobs deleted since, oldest change first (a client that
    loses the connection half-way and resumes from the latest `updatedAt` it got misses
    nothing): two queries, whatever the number of jobs."""
    caller = info.context.caller
    async with info.context.sessions() as session:
        jobs = await changes.changed_jobs(session, caller, after)
        tombstones = await changes.deleted_since(session, caller, after)
    replay: list[ExportJobRow | ExportJobTombstoneRow] = [*jobs, *tombstones]
    replay.sort(key=_changed_at)
    return replay


def _changed_at(row: ExportJobRow | ExportJobTombstoneRow) -> int:
    if isinstance(row, ExportJobTombstoneRow):
        return row.deleted_at
    return row.updated_at


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
            pending = [await asyncio.wait_for(events.get(), recheck_seconds(info))]
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


async def _shared_read(info: Info, job_id: str) -> ExportJobRow | None:
    """The job as of its latest change, read once per change for every subscriber of this
    process; another workspace's job is not found."""

    async def load() -> ExportJobRow | None:
        async with info.context.sessions() as session:
            return await queries.get_export_any_workspace(session, job_id)

    job = await info.context.bus.reads.read(f"export:{job_id}", job_id, load)
    return job if job is not None and job.workspace_id == info.context.caller.workspace_id else None


async def _shared_tombstone(info: Info, job_id: str) -> ExportJobTombstoneRow | None:
    """A deleted job's tombstone, read once per change for every subscriber of this process;
    another workspace's is not found."""

    async def load() -> ExportJobTombstoneRow | None:
        async with info.context.sessions() as session:
            return await changes.tombstone_any_workspace(session, job_id)

    tombstone = await info.context.bus.reads.read(f"export-tombstone:{job_id}", job_id, load)
    if tombstone is None or tombstone.workspace_id != info.context.caller.workspace_id:
        return None
    return tombstone


async def _active_job_ids(info: Info) -> set[str]:
    """The workspace's queued and running jobs, read once per change for the whole process."""
    caller = info.context.caller

    async def load() -> set[str]:
        async with info.context.sessions() as session:
            return set(await queries.active_job_ids(session, caller))

    key = f"active-exports:{caller.workspace_id}"
    return set(await info.context.bus.reads.read(key, caller.workspace_id, load))
