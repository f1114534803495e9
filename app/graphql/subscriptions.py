"""Subscription root: job status and progress pushed over graphql-transport-ws."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from app.domain import exports
from app.domain.exports import JobStatus
from app.events import get_event_bus
from app.graphql.context import Context, IsAuthenticated
from app.graphql.errors import ApiError
from app.graphql.types import ExportJob

Info = strawberry.Info[Context, None]
# Events are wake-ups; re-reading the row is the safety net if one is ever missed, and the
# only way to see other processes' changes when there is no Redis to carry events.
RECHECK_SECONDS = 5.0
RECHECK_SECONDS_WITHOUT_BUS = 1.0


def recheck_seconds(info: Info) -> float:
    crossing = get_event_bus().crosses_processes or info.context.settings.embedded_broker
    return RECHECK_SECONDS if crossing else RECHECK_SECONDS_WITHOUT_BUS


def _state(job: object) -> tuple:
    return (
        getattr(job, "status", None),
        getattr(job, "rows_written", None),
        getattr(job, "bytes_written", None),
        getattr(job, "attempts", None),
    )


@strawberry.type(description="Live updates.")
class Subscription:
    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description="The job's current state first, then every status change and "
        "progress update; completes after a terminal state.",
    )
    async def export_job_updated(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Job id.")],
    ) -> AsyncGenerator[ExportJob, None]:
        caller = info.context.caller
        async with get_event_bus().subscribe() as events:
            async with info.context.sessions() as session:
                job = await exports.get_export(session, caller, str(id))
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
                    fresh = await exports.get_export(session, caller, job.id)
                if fresh is None:
                    return
                job = fresh
                if _state(job) != last:
                    last = _state(job)
                    yield ExportJob.from_row(job)
