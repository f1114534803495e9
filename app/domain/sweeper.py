"""The sweeper: every gateway runs it. It re-wakes export and import jobs nobody is working on
(lost wake-ups, dead workers), fails exports past the time limit that no live worker stopped,
expires exports past their retention, deleting their files, removes what imports leave behind
(expired uploads and reports), compacts small segments and removes segment files a killed
writer left uncatalogued; unless `schedule_in_gateway` is off, it also runs the scheduler of
recurring exports (`app.domain.schedules.scheduler`); every `fsck_interval_seconds`, the cheap
part of fsck (`app.domain.fsck.periodic_check`). Each change is a conditional update,
so several gateways sweeping at once do each thing once; every change is announced after it
commits."""

from __future__ import annotations

import asyncio
import logging
import time

from app.db.models import ExportJobRow, ImportJobRow
from app.domain import recovery
from app.domain.compaction import compact_pass
from app.domain.exports import changes, retention
from app.domain.fsck import periodic_check
from app.domain.imports import retention as import_retention
from app.domain.orphans import remove_orphan_segments
from app.domain.runtime import JobEvent, Runtime
from app.domain.schedules.scheduler import schedule_once
from engine.timestamps import now_ns

log = logging.getLogger(__name__)


async def sweep_forever(runtime: Runtime) -> None:
    next_fsck = time.monotonic()  # once at start, then every fsck_interval_seconds
    while True:
        await sweep_once(runtime)
        interval = runtime.settings.fsck_interval_seconds
        if interval and time.monotonic() >= next_fsck:
            await fsck_pass(runtime)
            next_fsck = time.monotonic() + interval
        await asyncio.sleep(runtime.settings.sweep_interval_seconds)


async def fsck_pass(runtime: Runtime) -> None:
    try:
        await periodic_check(runtime)
    except Exception:
        log.exception("fsck pass failed")


async def sweep_once(runtime: Runtime) -> None:
    """One pass; a failure is logged and the next pass tries again."""
    await end_of_life_pass(runtime)
    try:
        await wake_stale(runtime)
    except Exception:
        log.exception("sweeper pass failed")
    if runtime.settings.schedule_in_gateway:
        try:
            await schedule_once(runtime)
        except Exception:
            log.exception("scheduler pass failed")
    try:
        await compact_pass(runtime)
        await remove_orphan_segments(runtime)
    except Exception:
        log.exception("compaction pass failed")


async def wake_stale(runtime: Runtime) -> list[str]:
    """RUNNING jobs whose heartbeat stopped and QUEUED jobs waiting too long: woken again."""
    settings, now = runtime.settings, now_ns()
    effects = runtime.effects
    woken: list[str] = []
    for table, wake in ((ExportJobRow, effects.wake_export), (ImportJobRow, effects.wake_import)):
        async with runtime.sessions() as session:
            stale = await recovery.stale_jobs(
                session,
                table,
                heartbeat_before=now - int(settings.heartbeat_stale_seconds * 1e9),
                queued_before=now - int(settings.queued_stale_seconds * 1e9),
            )
            await recovery.mark_requeued(session, table, stale)
        for job_id in stale:
            log.info("waking stale job %s", job_id)
            wake(job_id)
        woken += stale
    async with runtime.sessions() as session:  # a part of an export whose worker is gone
        parts = await recovery.stale_parts(
            session,
            heartbeat_before=now - int(settings.heartbeat_stale_seconds * 1e9),
            queued_before=now - int(settings.queued_stale_seconds * 1e9),
        )
    for job_id in parts:
        if job_id not in woken:
            log.info("waking stale parts of export %s", job_id)
            effects.wake_export(job_id)
            woken.append(job_id)
    return woken


async def end_of_life_pass(runtime: Runtime) -> None:
    """Fail jobs past the time limit that no live worker stopped, expire succeeded jobs past
    their retention and delete their files, and tell subscribers."""
    settings = runtime.settings
    try:
        async with runtime.sessions() as session:
            changed = await retention.fail_overdue(session, settings)
            changed += await retention.expire_due(session, settings)
            await retention.purge_expired_files(session, settings)
            await changes.purge_tombstones(session, settings)
            await import_retention.purge(session, settings)
        for job in changed:
            log.info("export job %s is now %s", job.id, job.status)
            runtime.effects.publish(JobEvent(job.id, job.workspace_id, job.status))
    except Exception:
        log.exception("retention and time-limit pass failed")


async def resume_unfinished(runtime: Runtime) -> list[str]:
    """Embedded mode at start-up: this process is the only worker, so a job left RUNNING
    belonged to a process that is gone. Every unfinished job is resumed at once instead of
    after the stale-heartbeat timeout."""
    effects = runtime.effects
    resumed: list[str] = []
    for table, wake in ((ExportJobRow, effects.wake_export), (ImportJobRow, effects.wake_import)):
        async with runtime.sessions() as session:
            ids = await recovery.requeue_unfinished(session, table)
        for job_id in ids:
            wake(job_id)
        resumed += ids
    return resumed
