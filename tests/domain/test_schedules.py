"""Recurring exports: schedules checked as createExport checks a request, one run and one job
per period whatever happens (restarts, two schedulers at once, clocks jumping), catch-up,
calendar periods in a time zone, and failed runs."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.db.migrate import upgrade
from app.db.models import (
    ExportJobRow,
    ExportScheduleRow,
    ExportScheduleRunRow,
    NotificationEventRow,
)
from app.domain.auth import Principal, create_workspace
from app.domain.catalog import ensure_datastream
from app.domain.errors import ErrorCode
from app.domain.exports import commands as export_commands
from app.domain.runtime import Runtime
from app.domain.schedules import commands
from app.domain.schedules.commands import ScheduleRequest
from app.domain.schedules.scheduler import open_due_periods, run_key, schedule_once
from app.domain.schedules.templates import request_from_template, template_json
from engine.options import OptionsRequest
from engine.timestamps import parse_timestamp
from tests.domain.helpers import (
    export_request,
    problems_of,
    run_job,
    runtime_for,
    set_job,
    settings_with,
    stored_job,
)
from tests.helpers.inprocess import MINUTE, START, TRADES, RecordingEffects, Seed, settings_for
from tests.helpers.services import require, temporary_database

HOUR = 60 * MINUTE


def hourly(**overrides: object) -> ScheduleRequest:
    """Every hour from the seed's start, five minutes late, the seed's trades as CSV."""
    values: dict[str, object] = {
        "name": "hourly trades",
        "export": export_request(start_time=None, end_time=None),
        "every": "PT1H",
        "period_start": START,
        "delay": "PT5M",
    }
    values.update(overrides)
    return ScheduleRequest(**values)  # type: ignore[arg-type]


async def create(runtime: Runtime, seed: Seed, **overrides: object) -> ExportScheduleRow:
    return await commands.create_schedule(runtime, seed.principals["alpha"], hourly(**overrides))


async def runs(runtime: Runtime, schedule_id: str) -> list[ExportScheduleRunRow]:
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(ExportScheduleRunRow)
            .where(ExportScheduleRunRow.schedule_id == schedule_id)
            .order_by(ExportScheduleRunRow.period_start_ns)
        )
        return list(rows)


async def jobs(runtime: Runtime) -> list[ExportJobRow]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(ExportJobRow).order_by(ExportJobRow.start_ns)))


def periods(rows: list[ExportScheduleRunRow]) -> list[tuple[int, int]]:
    return [((r.period_start_ns - START) // HOUR, (r.period_end_ns - START) // HOUR) for r in rows]


# -- checks at creation and update -----------------------------------------------------------


async def test_a_schedule_is_refused_with_every_problem_under_its_input_field(
    runtime: Runtime, seed: Seed
) -> None:
    problems = await problems_of(
        create(runtime, seed, every="P1H", timezone="Mars/Olympus", delay="soon")
    )
    assert {(code, ".".join(field)) for code, field, _ in problems} == {
        (ErrorCode.INVALID_ARGUMENT, "input.every"),
        (ErrorCode.INVALID_ARGUMENT, "input.timezone"),
        (ErrorCode.INVALID_ARGUMENT, "input.delay"),
    }
    short = await problems_of(create(runtime, seed, every="PT1M"))
    assert [(f, m) for _, f, m in short] == [
        (("input", "every"), "periods must be at least 3600 seconds long")
    ]
    bad_start = await problems_of(create(runtime, seed, period_start="yesterday"))
    assert [f for _, f, _ in bad_start] == [("input", "periodStart")]


async def test_the_export_template_gets_createExports_checks_under_input_export(
    runtime: Runtime, seed: Seed
) -> None:
    template = export_request(
        datastream_id="999999",
        start_time=None,
        end_time=None,
        format="XLS",
        options=OptionsRequest(columns=["nope"]),
    )
    problems = await problems_of(create(runtime, seed, export=template))
    fields = {(code, ".".join(field)) for code, field, _ in problems}
    assert (ErrorCode.NOT_FOUND, "input.export.datastreamId") in fields
    assert (ErrorCode.INVALID_ARGUMENT, "input.export.format") in fields
    # The same checks, on a real datastream: an unknown column is named where it was given.
    columns = export_request(
        start_time=None, end_time=None, options=OptionsRequest(columns=["nope"])
    )
    problems = await problems_of(create(runtime, seed, export=columns))
    assert [field[:3] for _, field, _ in problems] == [("input", "export", "columns")]
    # And on update.
    schedule = await create(runtime, seed)
    problems = await problems_of(
        commands.update_schedule(
            runtime,
            seed.principals["alpha"],
            schedule.id,
            ScheduleRequest(export=dataclasses.replace(columns, schema="no-such-schema")),
        )
    )
    assert ("input", "export", "schema") in [field for _, field, _ in problems]


async def test_changing_a_schedule_needs_a_member_and_reading_one_is_per_workspace(
    runtime: Runtime, seed: Seed
) -> None:
    viewer = seed.principals["alpha-viewer"]
    refused = await problems_of(commands.create_schedule(runtime, viewer, hourly()))
    assert [code for code, _, _ in refused] == [ErrorCode.FORBIDDEN]
    schedule = await commands.create_schedule(runtime, seed.principals["alpha-member"], hourly())
    async with runtime.sessions() as session:
        assert await commands.get_schedule(session, viewer, schedule.id) is not None
        assert await commands.get_schedule(session, seed.principals["beta"], schedule.id) is None
    missing = await problems_of(
        commands.pause_schedule(runtime, seed.principals["beta"], schedule.id)
    )
    assert [code for code, _, _ in missing] == [ErrorCode.NOT_FOUND]


def test_the_stored_template_keeps_fields_added_later_and_ignores_ones_removed() -> None:
    request = export_request(
        format="JSONL", options=OptionsRequest(columns=["data"], limit=5), schema="raw"
    )
    stored = template_json(request)
    assert "start_time" not in stored and "idempotency_key" not in stored
    stored["a_field_of_a_later_release"] = [1, 2]  # read by an older gateway: ignored
    del stored["compression"]  # written by an older release: the default
    back = request_from_template(stored, 10, 20, "key")
    assert back == dataclasses.replace(
        request, start_time=10, end_time=20, idempotency_key="key", compression=None
    )
    assert isinstance(back.options, OptionsRequest)


# -- exactly one job per period ----------------------------------------------------------------


async def test_a_period_gets_its_job_once_it_has_ended_plus_the_delay_even_across_a_restart(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    settings = settings_with(seed, tmp_path / "data")
    async with runtime_for(settings, effects) as runtime:
        schedule = await create(runtime, seed)
        assert schedule.next_run_at == START + HOUR + 5 * MINUTE
        assert (await schedule_once(runtime, now=START + 30 * MINUTE)).opened == []
        assert (await schedule_once(runtime, now=START + HOUR + 4 * MINUTE)).opened == []
    # The gateway restarts in the middle of the next period: what it knew is in the database.
    async with runtime_for(settings, effects) as runtime:
        assert (await schedule_once(runtime, now=START + HOUR + 4 * MINUTE)).opened == []
        done = await schedule_once(runtime, now=START + HOUR + 5 * MINUTE)
        [run] = await runs(runtime, schedule.id)
        assert done.opened == [run.id] and done.jobs == [run.job_id]
        assert periods([run]) == [(0, 1)] and run.status == "ACTIVE"
        job = await stored_job(runtime, run.job_id or "")
        assert (job.start_ns, job.end_ns) == (START, START + HOUR)
        assert job.idempotency_key == run_key(schedule.id, START)
        assert effects.woken == [job.id]
    async with runtime_for(settings, effects) as runtime:  # and again, later in that period
        await schedule_once(runtime, now=START + HOUR + 50 * MINUTE)
        assert len(await runs(runtime, schedule.id)) == 1 and len(await jobs(runtime)) == 1
        # The job runs; the run takes its outcome.
        await run_job(runtime, job.id)
        await schedule_once(runtime, now=START + HOUR + 51 * MINUTE)
        [run] = await runs(runtime, schedule.id)
        assert run.status == "SUCCEEDED"
        assert (await stored_job(runtime, job.id)).rows_written == len(
            [r for r in seed.records[int(job.datastream_id)] if START <= r[0] < START + HOUR]
        )


async def test_two_schedulers_at_once_create_each_period_once(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    settings = settings_with(seed, tmp_path / "data", max_active_exports=100)
    async with runtime_for(settings, effects) as first, runtime_for(settings, effects) as second:
        schedules = [await create(first, seed, name=f"s{i}") for i in range(3)]
        now = START + 6 * HOUR
        for _ in range(2):  # two rounds of two concurrent passes
            await asyncio.gather(schedule_once(first, now=now), schedule_once(second, now=now))
        for schedule in schedules:
            found = await runs(first, schedule.id)
            assert periods(found) == [(k, k + 1) for k in range(5)]
            assert all(r.status == "ACTIVE" and r.job_id for r in found)
        all_jobs = await jobs(first)
        assert len(all_jobs) == 15 == len({(j.idempotency_key) for j in all_jobs})
        assert sorted(effects.woken) == sorted(j.id for j in all_jobs)


async def test_a_scheduler_that_crashed_after_creating_a_job_finds_it_again(
    runtime: Runtime, seed: Seed, effects: RecordingEffects
) -> None:
    schedule = await create(runtime, seed)
    await schedule_once(runtime, now=START + HOUR + 5 * MINUTE)
    [run] = await runs(runtime, schedule.id)
    # As if it crashed between the job's commit and the run's: the run is PENDING again.
    async with runtime.sessions() as session:
        stored = await session.get(ExportScheduleRunRow, run.id)
        assert stored is not None
        stored.status, stored.job_id = "PENDING", None
        await session.commit()
    done = await schedule_once(runtime, now=START + HOUR + 6 * MINUTE)
    assert done.jobs == [run.job_id]
    assert [r.job_id for r in await runs(runtime, schedule.id)] == [run.job_id]
    assert len(await jobs(runtime)) == 1


async def test_a_clock_jumping_forward_catches_up_in_order_and_back_creates_nothing_twice(
    runtime: Runtime, seed: Seed
) -> None:
    every = await create(runtime, seed, name="all")
    latest = await create(runtime, seed, name="latest", catch_up="LATEST")
    await schedule_once(runtime, now=START + 4 * HOUR + 5 * MINUTE)  # down for four hours
    all_runs = await runs(runtime, every.id)
    assert periods(all_runs) == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert [r.created_at for r in all_runs] == sorted(r.created_at for r in all_runs)
    assert periods(await runs(runtime, latest.id)) == [(3, 4)]
    # The clock goes back an hour and a half, then forward again: nothing is made twice.
    await schedule_once(runtime, now=START + 2 * HOUR + 35 * MINUTE)
    await schedule_once(runtime, now=START + 4 * HOUR + 5 * MINUTE)
    assert len(await runs(runtime, every.id)) == 4 and len(await runs(runtime, latest.id)) == 1
    assert len(await jobs(runtime)) == 5
    await schedule_once(runtime, now=START + 5 * HOUR + 5 * MINUTE)
    assert periods(await runs(runtime, latest.id)) == [(3, 4), (4, 5)]


async def test_daily_periods_follow_the_time_zone_across_a_daylight_saving_change(
    runtime: Runtime, seed: Seed
) -> None:
    start = parse_timestamp("2024-03-30T00:00:00+01:00")  # Paris; summer time from the 31st
    schedule = await create(
        runtime, seed, every="P1D", timezone="Europe/Paris", period_start=start, delay="PT0S"
    )
    await schedule_once(runtime, now=parse_timestamp("2024-04-02T00:00:00+02:00"))
    found = await runs(runtime, schedule.id)
    assert [(r.period_start_ns, r.period_end_ns) for r in found] == [
        (start, parse_timestamp("2024-03-31T00:00:00+01:00")),
        (
            parse_timestamp("2024-03-31T00:00:00+01:00"),
            parse_timestamp("2024-04-01T00:00:00+02:00"),
        ),
        (
            parse_timestamp("2024-04-01T00:00:00+02:00"),
            parse_timestamp("2024-04-02T00:00:00+02:00"),
        ),
    ]
    assert found[1].period_end_ns - found[1].period_start_ns == 23 * HOUR


async def test_monthly_periods_keep_the_anchors_day_clamped_to_short_months(
    runtime: Runtime, seed: Seed
) -> None:
    start = parse_timestamp("2024-01-31T00:00:00Z")
    schedule = await create(runtime, seed, every="P1M", period_start=start, delay="PT0S")
    await schedule_once(runtime, now=parse_timestamp("2024-05-01T00:00:00Z"))
    ends = [r.period_end_ns for r in await runs(runtime, schedule.id)]
    assert ends == [
        parse_timestamp("2024-02-29T00:00:00Z"),
        parse_timestamp("2024-03-31T00:00:00Z"),
        parse_timestamp("2024-04-30T00:00:00Z"),
    ]


# -- pause, resume, update ---------------------------------------------------------------------


async def test_paused_periods_are_skipped_and_updates_change_only_future_periods(
    runtime: Runtime, seed: Seed
) -> None:
    alpha = seed.principals["alpha"]
    schedule = await create(runtime, seed)
    await schedule_once(runtime, now=START + HOUR + 5 * MINUTE)
    await commands.pause_schedule(runtime, alpha, schedule.id)
    await schedule_once(runtime, now=START + 3 * HOUR + 5 * MINUTE)
    assert periods(await runs(runtime, schedule.id)) == [(0, 1)]
    resumed = await commands.resume_schedule(
        runtime, alpha, schedule.id, now=START + 3 * HOUR + 10 * MINUTE
    )
    assert resumed.cursor_ns == START + 3 * HOUR  # periods 1 and 2 ended while paused
    updated = await commands.update_schedule(
        runtime,
        alpha,
        schedule.id,
        ScheduleRequest(export=export_request(start_time=None, end_time=None, format="JSONL")),
    )
    assert updated.cursor_ns == START + 3 * HOUR
    await schedule_once(runtime, now=START + 4 * HOUR + 5 * MINUTE)
    assert periods(await runs(runtime, schedule.id)) == [(0, 1), (3, 4)]
    assert [j.format for j in await jobs(runtime)] == ["CSV", "JSONL"]
    # A new period length starts at its first boundary after what was already created.
    daily = await commands.update_schedule(
        runtime, alpha, schedule.id, ScheduleRequest(every="P1D", delay="PT0S")
    )
    assert daily.cursor_ns == START + 24 * HOUR
    assert await commands.delete_schedule(runtime, alpha, schedule.id) == schedule.id
    assert await runs(runtime, schedule.id) == []
    assert len(await jobs(runtime)) == 2  # its jobs stay


async def test_an_update_after_a_period_became_due_leaves_that_periods_job_alone(
    runtime: Runtime, seed: Seed
) -> None:
    """The scheduler stopped between recording the due period and creating its job; the
    schedule was changed meanwhile: the job still exports what was asked when it was due."""
    schedule = await create(runtime, seed)
    [opened] = await open_due_periods(runtime, schedule.id, START + HOUR + 5 * MINUTE)
    await commands.update_schedule(
        runtime,
        seed.principals["alpha"],
        schedule.id,
        ScheduleRequest(export=export_request(start_time=None, end_time=None, format="JSONL")),
    )
    done = await schedule_once(runtime, now=START + 2 * HOUR + 5 * MINUTE)
    assert done.jobs[0] == (await runs(runtime, schedule.id))[0].job_id
    assert [(j.start_ns, j.format) for j in await jobs(runtime)] == [
        (START, "CSV"),
        (START + HOUR, "JSONL"),
    ]
    assert opened == (await runs(runtime, schedule.id))[0].id


# -- failed runs -------------------------------------------------------------------------------


async def test_a_run_fails_once_when_its_job_fails_or_cannot_be_created(
    runtime: Runtime, seed: Seed
) -> None:
    schedule = await create(runtime, seed)
    await schedule_once(runtime, now=START + HOUR + 5 * MINUTE)
    [run] = await runs(runtime, schedule.id)
    await set_job(runtime, run.job_id or "", status="FAILED", reason="disk full")
    first = await schedule_once(runtime, now=START + HOUR + 6 * MINUTE)
    again = await schedule_once(runtime, now=START + HOUR + 7 * MINUTE)
    assert first.failed == [run.id] and again.failed == []
    [run] = await runs(runtime, schedule.id)
    assert run.status == "FAILED" and "disk full" in (run.reason or "")
    # The template no longer validates when the next period comes (its schema was deleted).
    async with runtime.sessions() as session:
        stored = await session.get(ExportScheduleRow, schedule.id)
        assert stored is not None
        stored.template = {**stored.template, "schema": "deleted-schema"}
        await session.commit()
    done = await schedule_once(runtime, now=START + 2 * HOUR + 5 * MINUTE)
    failed = [r for r in await runs(runtime, schedule.id) if r.period_start_ns == START + HOUR]
    assert done.failed == [failed[0].id] and failed[0].job_id is None
    assert "input.schema" in (failed[0].reason or "")
    # Each failure is one schedule.run_failed event, however many passes saw it.
    async with runtime.sessions() as session:
        events = (
            await session.scalars(
                select(NotificationEventRow)
                .where(NotificationEventRow.type == "schedule.run_failed")
                .order_by(NotificationEventRow.created_at)
            )
        ).all()
    assert [(e.data["scheduleId"], e.data["jobId"]) for e in events] == [
        (schedule.id, run.job_id),
        (schedule.id, None),
    ]
    assert "disk full" in events[0].data["reason"] and events[1].workspace_id == run.workspace_id


async def test_the_workspaces_export_cap_delays_a_run_without_failing_it(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    settings = settings_with(seed, tmp_path / "data", max_active_exports=1)
    async with runtime_for(settings, effects) as runtime:
        alpha: Principal = seed.principals["alpha"]
        busy, _ = await export_commands.create_export(runtime, alpha, export_request())
        schedule = await create(runtime, seed)
        await schedule_once(runtime, now=START + HOUR + 5 * MINUTE)
        [run] = await runs(runtime, schedule.id)
        assert run.status == "PENDING"
        await set_job(runtime, busy.id, status="SUCCEEDED")
        await schedule_once(runtime, now=START + HOUR + 6 * MINUTE)
        [run] = await runs(runtime, schedule.id)
        assert run.status == "ACTIVE" and run.job_id


@pytest.mark.parametrize("catch_up", ["ALL", "LATEST"])
async def test_a_schedule_starting_in_the_future_creates_nothing_before_it(
    runtime: Runtime, seed: Seed, catch_up: str
) -> None:
    schedule = await create(runtime, seed, period_start=START + 10 * HOUR, catch_up=catch_up)
    await schedule_once(runtime, now=START + 10 * HOUR + 30 * MINUTE)
    assert await runs(runtime, schedule.id) == []
    async with runtime.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(ExportJobRow))
    assert count == 0


async def test_two_schedulers_at_once_on_postgresql_create_each_period_once(
    tmp_path: Path, effects: RecordingEffects
) -> None:
    """The same race where row locks and READ COMMITTED decide, not SQLite's one writer."""
    require("PostgreSQL", "127.0.0.1", 5432)
    with temporary_database() as url:
        settings = settings_for(tmp_path / "data", database_url=url, max_active_exports=100)
        upgrade(settings)
        async with (
            runtime_for(settings, effects) as first,
            runtime_for(settings, effects) as second,
        ):
            with first.sync_sessions() as session:
                ensure_datastream(session, TRADES)
                workspace = create_workspace(session, "pg")
                session.commit()
            who = Principal(workspace.id, "tests")
            schedules = [
                await commands.create_schedule(first, who, hourly(name=f"s{i}")) for i in range(3)
            ]
            now = START + 6 * HOUR
            for _ in range(2):
                await asyncio.gather(schedule_once(first, now=now), schedule_once(second, now=now))
            for schedule in schedules:
                found = await runs(first, schedule.id)
                assert periods(found) == [(k, k + 1) for k in range(5)]
                assert all(r.status == "ACTIVE" and r.job_id for r in found)
            all_jobs = await jobs(first)
            assert len(all_jobs) == 15 == len({j.idempotency_key for j in all_jobs})
