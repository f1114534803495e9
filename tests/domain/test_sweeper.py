"""The sweeper: stale jobs woken again, jobs past retention expired with their files, jobs past
the time limit without a live worker failed, unfinished jobs resumed at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.domain.errors import ErrorCode
from app.domain.exports import commands, queries, runs
from app.domain.exports.queries import ListFilter
from app.domain.runtime import JobEvent, Runtime
from app.domain.sweeper import end_of_life_pass, resume_unfinished, sweep_once, wake_stale
from app.storage import artifact_key
from engine.export import Progress
from engine.timestamps import now_ns
from tests.domain.helpers import (
    Witness,
    artifact_rows,
    export_request,
    job_files,
    problems_of,
    run_job,
    runtime_for,
    set_job,
    settings_with,
    stored_job,
)
from tests.helpers.inprocess import RecordingEffects, Seed

SECOND = 10**9


async def create(runtime: Runtime, seed: Seed, **fields: object) -> str:
    job, _ = await commands.create_export(
        runtime, seed.principals["alpha"], export_request(**fields)
    )
    return job.id


def claim(runtime: Runtime, job_id: str) -> runs.ClaimedJob:
    """A worker takes the job (and then, in these tests, dies or hangs)."""
    with runtime.sync_sessions() as session:
        claimed = runs.claim(session, job_id, stale_before_ns=0)
    assert claimed is not None
    return claimed


async def test_a_queued_job_waiting_too_long_is_woken_again_but_not_flooded(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    settings = settings_with(seed, tmp_path / "data", queued_stale_seconds=60)
    async with runtime_for(settings, effects) as runtime:
        waiting = await create(runtime, seed)
        fresh = await create(runtime, seed, format="JSONL")
        await set_job(runtime, waiting, created_at=now_ns() - 61 * SECOND)  # a wake-up was lost
        effects.woken.clear()
        assert await wake_stale(runtime) == [waiting]
        assert effects.woken == [waiting]
        # Woken just now: not again until it has waited that long once more.
        assert await wake_stale(runtime) == []
        await set_job(runtime, waiting, heartbeat_at=now_ns() - 61 * SECOND)
        assert await wake_stale(runtime) == [waiting]
        assert effects.woken == [waiting, waiting] and fresh not in effects.woken
        assert (await stored_job(runtime, waiting)).status == "QUEUED"
        assert {e.status for e in effects.events} == {"QUEUED"}  # their creation only


async def test_a_running_job_whose_heartbeat_stopped_is_woken(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    settings = settings_with(seed, tmp_path / "data", heartbeat_stale_seconds=30)
    async with runtime_for(settings, effects) as runtime:
        silent, alive = await create(runtime, seed), await create(runtime, seed, format="JSONL")
        claim(runtime, silent)
        claim(runtime, alive)
        await set_job(runtime, silent, heartbeat_at=now_ns() - 31 * SECOND)
        effects.woken.clear()
        assert await wake_stale(runtime) == [silent]
        assert effects.woken == [silent]
        # The woken worker takes it over and finishes it.
        await run_job(runtime, silent)
        done = await stored_job(runtime, silent)
        assert (done.status, done.attempts) == ("SUCCEEDED", 2)


async def test_a_succeeded_job_past_retention_expires_and_its_files_go(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    settings = settings_with(seed, tmp_path / "data", retention_seconds=4)
    async with runtime_for(settings, effects) as runtime:
        who = seed.principals["alpha"]
        job_id = await create(runtime, seed)
        kept_id = await create(runtime, seed, format="JSONL")
        await run_job(runtime, job_id)
        await run_job(runtime, kept_id)
        done = await stored_job(runtime, job_id)
        assert done.finished_at is not None and done.expires_at is not None
        assert done.expires_at - done.finished_at == 4 * SECOND
        [artifact] = await artifact_rows(runtime, job_id)
        path = settings.storage_dir / artifact.path
        await end_of_life_pass(runtime)  # not due yet: nothing changes
        assert (await stored_job(runtime, job_id)).status == "SUCCEEDED" and path.is_file()
        effects.events.clear()
        await set_job(runtime, job_id, expires_at=now_ns() - 1)  # four seconds later
        witness = Witness(runtime.sync_sessions)
        await end_of_life_pass(witness.on(runtime))
        # Announced once the job is EXPIRED and its artifacts are gone.
        assert witness.seen == [("EXPIRED", "EXPIRED", 0)]
        assert (await stored_job(runtime, job_id)).status == "EXPIRED"
        assert await artifact_rows(runtime, job_id) == []
        assert not path.exists() and job_files(settings, job_id) == []
        async with runtime.sessions() as session:
            assert await queries.get_artifact(session, artifact.id) is None
            listed, _total = await queries.list_exports(
                session, who, ListFilter(status="EXPIRED"), after=None, limit=5
            )
        assert [job.id for job in listed] == [job_id]
        # Terminal: it cannot be canceled; another pass changes nothing.
        [(code, _field, _message)] = await problems_of(commands.cancel_export(runtime, who, job_id))
        assert code == ErrorCode.FAILED_PRECONDITION
        await end_of_life_pass(runtime)
        assert effects.events == []
        # The other job, not due, is untouched.
        assert (await stored_job(runtime, kept_id)).status == "SUCCEEDED"
        [kept] = await artifact_rows(runtime, kept_id)
        assert (settings.storage_dir / kept.path).is_file()


async def test_a_job_that_succeeded_before_retention_existed_gets_a_deadline(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    settings = settings_with(seed, tmp_path / "data", retention_seconds=4)
    async with runtime_for(settings, effects) as runtime:
        old, recent = await create(runtime, seed), await create(runtime, seed, format="JSONL")
        await run_job(runtime, old)
        await run_job(runtime, recent)
        finished = now_ns() - 5 * SECOND
        await set_job(runtime, old, expires_at=None, finished_at=finished)
        await set_job(runtime, recent, expires_at=None)
        await end_of_life_pass(runtime)
        expired = await stored_job(runtime, old)
        assert (expired.status, expired.expires_at) == ("EXPIRED", finished + 4 * SECOND)
        assert job_files(settings, old) == []
        kept = await stored_job(runtime, recent)
        assert kept.status == "SUCCEEDED" and kept.finished_at is not None
        assert kept.expires_at == kept.finished_at + 4 * SECOND
        assert effects.statuses(old)[-1] == "EXPIRED" and "EXPIRED" not in effects.statuses(recent)


async def test_a_running_job_past_the_time_limit_with_no_live_worker_fails(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    settings = settings_with(
        seed, tmp_path / "data", job_timeout_seconds=2, heartbeat_stale_seconds=3
    )
    async with runtime_for(settings, effects) as runtime:
        who = seed.principals["alpha"]
        overdue, recent = await create(runtime, seed), await create(runtime, seed, format="JSONL")
        dead = claim(runtime, overdue)
        claim(runtime, recent)
        partial = settings.storage_dir / artifact_key(overdue, dead.claim_token) / "partial.tmp"
        partial.parent.mkdir(parents=True)
        partial.write_bytes(b"cut off")
        await set_job(runtime, overdue, started_at=now_ns() - 6 * SECOND)
        await end_of_life_pass(runtime)
        failed = await stored_job(runtime, overdue)
        assert (failed.status, failed.reason) == ("FAILED", runs.time_limit_reason(2))
        assert failed.reason == "export exceeded the time limit of 2 s"
        assert job_files(settings, overdue) == []
        assert [e for e in effects.events if e.status != "QUEUED"] == [
            JobEvent(overdue, who.workspace_id, "FAILED")
        ]
        assert (await stored_job(runtime, recent)).status == "RUNNING"


async def test_resume_unfinished_requeues_running_jobs_and_wakes_every_unfinished_one(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    who = seed.principals["alpha"]
    orphan = await create(runtime, seed)
    queued = await create(runtime, seed, format="JSONL")
    canceled = await create(runtime, seed, format="PARQUET")
    await commands.cancel_export(runtime, who, canceled)
    old_claim = claim(runtime, orphan)  # its process is gone
    effects.woken.clear()
    assert sorted(await resume_unfinished(runtime)) == sorted([orphan, queued])
    assert sorted(effects.woken) == sorted([orphan, queued])
    requeued = await stored_job(runtime, orphan)
    assert (requeued.status, requeued.claim_token) == ("QUEUED", None)
    assert (await stored_job(runtime, canceled)).status == "CANCELED"
    with runtime.sync_sessions() as session, pytest.raises(runs.ClaimLost):
        runs.record_progress(session, old_claim, Progress(1, 1, 0))
    await run_job(runtime, orphan)
    assert (await stored_job(runtime, orphan)).status == "SUCCEEDED"


async def test_one_sweep_does_every_part(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    settings = settings_with(seed, tmp_path / "data", queued_stale_seconds=60)
    async with runtime_for(settings, effects) as runtime:
        waiting, finished = await create(runtime, seed), await create(runtime, seed, format="JSONL")
        await run_job(runtime, finished)
        await set_job(runtime, waiting, created_at=now_ns() - 61 * SECOND)
        await set_job(runtime, finished, expires_at=now_ns() - 1)
        effects.woken.clear()
        effects.events.clear()
        await sweep_once(runtime)
        assert effects.woken == [waiting]
        assert effects.statuses(finished) == ["EXPIRED"]
        assert job_files(settings, finished) == []
