"""What a resuming subscription is given: every UPDATE of a job raises its revision, a deleted
job leaves a tombstone with its last state one revision further, and tombstones are forgotten
after the retention period, when a `since` that old is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.domain.errors import DomainError
from app.domain.exports import changes, commands
from app.domain.runtime import Runtime
from engine.timestamps import now_ns
from tests.domain.helpers import export_request, runtime_for, settings_with, stored_job
from tests.helpers.inprocess import RecordingEffects, Seed


async def test_every_change_raises_the_revision_and_a_deletion_leaves_a_tombstone(
    runtime: Runtime, seed: Seed
) -> None:
    who = seed.principals["alpha"]
    before = now_ns()
    job, _ = await commands.create_export(runtime, who, export_request())
    created = await stored_job(runtime, job.id)
    assert created.revision == 0 and created.updated_at is not None
    await commands.cancel_export(runtime, who, job.id)
    canceled = await stored_job(runtime, job.id)
    assert canceled.revision == 1 and canceled.updated_at >= created.updated_at
    async with runtime.sessions() as session:
        assert [j.id for j in await changes.changed_jobs(session, who, before)] == [job.id]
    await commands.delete_export(runtime, who, job.id)
    async with runtime.sessions() as session:
        [tombstone] = await changes.deleted_since(session, who, before)
        assert await changes.deleted_since(session, seed.principals["beta"], before) == []
    last = changes.last_state(tombstone)
    assert (last.id, last.status, last.revision) == (job.id, "CANCELED", 2)
    assert last.updated_at == tombstone.deleted_at >= canceled.updated_at


async def test_tombstones_last_the_retention_period_and_an_older_since_is_refused(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    settings = settings_with(seed, tmp_path / "data", retention_seconds=60)
    async with runtime_for(settings, effects) as runtime:
        who = seed.principals["alpha"]
        job, _ = await commands.create_export(runtime, who, export_request())
        await commands.delete_export(runtime, who, job.id)
        async with runtime.sessions() as session:
            assert await changes.purge_tombstones(session, settings) == 0  # still recent
            assert len(await changes.deleted_since(session, who, 0)) == 1
        gone = settings.model_copy(update={"retention_seconds": 1e-9})  # all of it is past
        async with runtime.sessions() as session:
            assert await changes.purge_tombstones(session, gone) == 1
            assert await changes.deleted_since(session, who, 0) == []
    now = now_ns()
    assert changes.replay_from(settings, now) == now - changes.REPLAY_MARGIN_NS
    with pytest.raises(DomainError) as refused:
        changes.replay_from(settings, now - 61 * 10**9)
    assert refused.value.errors[0].field == ("since",)
