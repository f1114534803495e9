"""Export commands against the domain directly: what they record, and the effects they fire
after their transaction commits."""

from __future__ import annotations

from pathlib import Path

from app.domain.errors import ErrorCode
from app.domain.exports import commands, queries
from app.domain.exports.queries import ListFilter
from app.domain.runtime import JobEvent, Runtime
from tests.domain.helpers import (
    Witness,
    artifact_rows,
    export_request,
    job_files,
    job_row,
    problems_of,
    run_job,
    stored_job,
)
from tests.helpers.inprocess import RecordingEffects, Seed


async def test_create_records_a_queued_job_and_wakes_a_worker_once(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    job, created = await commands.create_export(runtime, seed.principals["alpha"], export_request())
    assert created and job.status == "QUEUED" and job.records_total > 0
    assert effects.woken == [job.id]
    async with runtime.sessions() as session:
        stored = await queries.get_export(session, seed.principals["alpha"], job.id)
    assert stored is not None and stored.options is not None
    assert stored.options["formatOptions"]["delimiter"] == ","
    assert (stored.status, stored.format, stored.compression) == ("QUEUED", "CSV", "GZIP")


async def test_a_replayed_idempotency_key_returns_the_job_without_waking_again(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    who = seed.principals["alpha"]
    first, _ = await commands.create_export(runtime, who, export_request(idempotency_key="k"))
    again, created = await commands.create_export(runtime, who, export_request(idempotency_key="k"))
    assert (again.id, created) == (first.id, False)
    assert effects.woken == [first.id]
    problems = await problems_of(
        commands.create_export(runtime, who, export_request(idempotency_key="k", format="JSONL"))
    )
    [(code, field, message)] = problems
    assert (code, field) == (ErrorCode.CONFLICT, ("input", "idempotencyKey"))
    assert first.id in message
    assert effects.woken == [first.id]
    # The other workspace may use the same key for a job of its own.
    other, created = await commands.create_export(
        runtime, seed.principals["beta"], export_request(idempotency_key="k")
    )
    assert created and other.id != first.id
    assert effects.woken == [first.id, other.id]


async def test_effects_fire_after_the_change_they_announce_has_committed(
    runtime: Runtime, seed: Seed
) -> None:
    who = seed.principals["alpha"]
    witness = Witness(runtime.sync_sessions)
    watched = witness.on(runtime)
    job, _ = await commands.create_export(watched, who, export_request())
    await commands.cancel_export(watched, who, job.id)
    await commands.delete_export(watched, who, job.id)
    assert witness.seen == [
        ("wake", "QUEUED", 0),
        ("QUEUED", "QUEUED", 0),  # a new job is announced, for dashboards
        ("CANCELED", "CANCELED", 0),
        ("DELETED", None, 0),
    ]


async def test_a_refused_create_records_nothing_and_wakes_nobody(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    who = seed.principals["alpha"]
    await problems_of(commands.create_export(runtime, who, export_request(schema="nope")))
    assert effects.woken == [] and effects.events == []
    async with runtime.sessions() as session:
        _rows, total = await queries.list_exports(session, who, ListFilter(), after=None, limit=10)
    assert total == 0


async def test_cancel_publishes_the_new_status_after_committing_it(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    who = seed.principals["alpha"]
    job, _ = await commands.create_export(runtime, who, export_request())
    canceled = await commands.cancel_export(runtime, who, job.id)
    assert (canceled.status, canceled.reason) == ("CANCELED", "canceled by request")
    assert canceled.finished_at is not None
    assert effects.events == [
        JobEvent(job.id, who.workspace_id, "QUEUED"),
        JobEvent(job.id, who.workspace_id, "CANCELED"),
    ]
    assert (await stored_job(runtime, job.id)).status == "CANCELED"
    assert effects.woken == [job.id]  # cancel wakes nobody


async def test_cancel_leaves_a_finished_job_alone(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    who = seed.principals["alpha"]
    canceled, _ = await commands.create_export(runtime, who, export_request())
    await commands.cancel_export(runtime, who, canceled.id)
    succeeded, _ = await commands.create_export(runtime, who, export_request(format="JSONL"))
    await run_job(runtime, succeeded.id)
    assert (await stored_job(runtime, succeeded.id)).status == "SUCCEEDED"
    events_before = list(effects.events)
    for job_id, status in ((canceled.id, "CANCELED"), (succeeded.id, "SUCCEEDED")):
        [(code, field, message)] = await problems_of(commands.cancel_export(runtime, who, job_id))
        assert (code, field) == (ErrorCode.FAILED_PRECONDITION, ("input", "id"))
        assert f"already {status}" in message
        assert (await stored_job(runtime, job_id)).status == status
    assert effects.events == events_before  # nothing changed, nothing announced
    [artifact] = await artifact_rows(runtime, succeeded.id)
    assert (runtime.settings.storage_dir / artifact.path).is_file()


async def test_another_workspaces_job_is_not_found(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    alpha, beta = seed.principals["alpha"], seed.principals["beta"]
    job, _ = await commands.create_export(runtime, alpha, export_request())
    async with runtime.sessions() as session:
        assert await queries.get_export(session, beta, job.id) is None
        assert await queries.jobs_by_ids(session, beta, [job.id]) == []
        assert await queries.active_job_ids(session, beta) == []
        listed, total = await queries.list_exports(session, beta, ListFilter(), after=None, limit=9)
        assert (listed, total) == ([], 0)
    for command in (commands.cancel_export, commands.delete_export):
        [(code, field, _message)] = await problems_of(command(runtime, beta, job.id))
        assert (code, field) == (ErrorCode.NOT_FOUND, ("input", "id"))
    assert (await stored_job(runtime, job.id)).status == "QUEUED"
    assert effects.statuses(job.id) == ["QUEUED"]  # its creation only


async def test_delete_removes_the_row_its_artifacts_and_files_and_says_deleted(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    who = seed.principals["alpha"]
    job, _ = await commands.create_export(runtime, who, export_request())
    await run_job(runtime, job.id)
    [artifact] = await artifact_rows(runtime, job.id)
    path: Path = runtime.settings.storage_dir / artifact.path
    assert path.is_file() and job_files(runtime.settings, job.id) == [path]
    effects.events.clear()
    assert await commands.delete_export(runtime, who, job.id) == job.id
    assert await job_row(runtime, job.id) is None
    assert await artifact_rows(runtime, job.id) == []
    assert not path.exists() and job_files(runtime.settings, job.id) == []
    assert not (runtime.settings.storage_dir / "artifacts" / job.id).exists()
    assert effects.events == [JobEvent(job.id, who.workspace_id, "DELETED")]
    [(code, _field, _message)] = await problems_of(commands.delete_export(runtime, who, job.id))
    assert code == ErrorCode.NOT_FOUND


async def test_a_job_deleted_before_a_worker_gets_it_is_never_run(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    who = seed.principals["alpha"]
    job, _ = await commands.create_export(runtime, who, export_request())
    await commands.delete_export(runtime, who, job.id)
    await run_job(runtime, job.id)  # the wake-up was already on its way
    assert effects.statuses(job.id) == ["QUEUED", "DELETED"]
    assert await job_row(runtime, job.id) is None
    assert job_files(runtime.settings, job.id) == []
