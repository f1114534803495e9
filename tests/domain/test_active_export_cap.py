"""The cap on queued plus running exports per workspace: RATE_LIMITED beyond it, with a
retryAfter; replays still answer, other workspaces are not affected, finished jobs free a slot."""

from __future__ import annotations

from pathlib import Path

from app.domain.errors import DomainError, ErrorCode
from app.domain.exports import commands, runs
from app.domain.exports.commands import MAX_RETRY_AFTER_SECONDS
from app.domain.runtime import Runtime
from engine.timestamps import now_ns
from tests.domain.helpers import export_request, runtime_for, set_job, settings_with
from tests.helpers.inprocess import RecordingEffects, Seed

MAX_ACTIVE = 2


async def over_the_cap(runtime: Runtime, seed: Seed) -> tuple[str, float]:
    """(message, retry_after) of the RATE_LIMITED refusal of one more create by alpha."""
    try:
        await commands.create_export(runtime, seed.principals["alpha"], export_request())
    except DomainError as refused:
        [problem] = refused.errors
        assert (problem.code, problem.field) == (ErrorCode.RATE_LIMITED, ("input",))
        assert problem.retry_after is not None
        return problem.message, problem.retry_after
    raise AssertionError("a create over the cap was accepted")


async def test_the_third_create_is_rate_limited_with_a_retry_after(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    settings = settings_with(seed, tmp_path / "data", max_active_exports=MAX_ACTIVE)
    async with runtime_for(settings, effects) as runtime:
        who = seed.principals["alpha"]
        first, _ = await commands.create_export(runtime, who, export_request(idempotency_key="a"))
        second, _ = await commands.create_export(runtime, who, export_request())
        message, retry_after = await over_the_cap(runtime, seed)
        assert "already has 2 queued or running exports, the limit is 2" in message
        assert 1 <= retry_after <= MAX_RETRY_AFTER_SECONDS
        assert effects.woken == [first.id, second.id]
        # A replay is not a new job: it answers even at the cap, and wakes nobody.
        again, created = await commands.create_export(
            runtime, who, export_request(idempotency_key="a")
        )
        assert (again.id, created) == (first.id, False)
        assert effects.woken == [first.id, second.id]
        # The cap counts per workspace.
        _other, created = await commands.create_export(
            runtime, seed.principals["beta"], export_request()
        )
        assert created
        # A finished job no longer counts.
        await commands.cancel_export(runtime, who, second.id)
        third, created = await commands.create_export(runtime, who, export_request())
        assert created and effects.woken[-1] == third.id


async def test_retry_after_is_bounded_by_the_time_limit_of_a_running_job(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    settings = settings_with(
        seed, tmp_path / "data", max_active_exports=MAX_ACTIVE, job_timeout_seconds=3
    )
    async with runtime_for(settings, effects) as runtime:
        who = seed.principals["alpha"]
        running, _ = await commands.create_export(runtime, who, export_request())
        await commands.create_export(runtime, who, export_request())
        with runtime.sync_sessions() as session:  # a worker starts the first job
            assert runs.claim(session, running.id, stale_before_ns=0) is not None
        _message, retry_after = await over_the_cap(runtime, seed)
        assert 1 <= retry_after <= 3 and retry_after == int(retry_after)


async def test_retry_after_of_a_job_that_just_started_uses_the_measured_throughput(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    """Recent jobs read 500,000 records a second (whatever rows they wrote); the running one
    has 5,000,000 to read."""
    settings = settings_with(seed, tmp_path / "data", max_active_exports=1)
    async with runtime_for(settings, effects) as runtime:
        who = seed.principals["alpha"]
        for _ in range(3):
            done, _ = await commands.create_export(runtime, who, export_request())
            started = now_ns() - 10 * 10**9
            await set_job(
                runtime,
                done.id,
                status="SUCCEEDED",
                started_at=started,
                finished_at=started + 2 * 10**9,
                records_read=1_000_000,
                rows_written=10_000_000,  # unfolded: rows are not what the rate is of
            )
        running, _ = await commands.create_export(runtime, who, export_request())
        await set_job(
            runtime, running.id, status="RUNNING", started_at=now_ns(), records_total=5_000_000
        )
        _message, retry_after = await over_the_cap(runtime, seed)
        assert retry_after == 10
