"""Backup and migration of a workspace's schedules and webhooks: exported and imported into
another workspace unchanged; a restored schedule starts at the period the original would
export next (never again the ones it exported); imports update, pause and resume; rows are
checked as the mutations check their input, rejections naming line and column; webhook
secrets never leave and URLs get the SSRF check."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from sqlalchemy import select

from app.db.models import ExportScheduleRow, ExportScheduleRunRow, WebhookRow
from app.domain.auth import Principal
from app.domain.errors import ErrorCode
from app.domain.notifications import targets
from app.domain.resources import commands
from app.domain.resources.commands import ImportOutcome, ImportResourcesRequest, SentFile
from app.domain.resources.formats import ResourceFormat
from app.domain.resources.model import ExportFilter, ResourceKind
from app.domain.runtime import Runtime
from app.domain.schedules import commands as schedules
from app.domain.schedules.commands import ScheduleRequest
from app.domain.schedules.scheduler import schedule_once
from engine.options import OptionsRequest
from engine.timestamps import format_timestamp, now_ns
from tests.domain.helpers import export_request, problems_of
from tests.helpers.inprocess import MINUTE, START, TRADES, Seed

SCHEDULES, WEBHOOKS = ResourceKind.EXPORT_SCHEDULES, ResourceKind.WEBHOOKS
HOUR = 60 * MINUTE
PUBLIC = "https://93.184.215.14"  # an address literal: checked without a resolver
SECRET = "whsec_" + "QUJD" * 8  # 24 bytes


async def exported(
    runtime: Runtime,
    who: Principal,
    kind: ResourceKind,
    format: ResourceFormat = ResourceFormat.CSV,
    text: str | None = None,
) -> str:
    async with runtime.sessions() as session:
        file = await commands.export_resources(session, who, kind, format, ExportFilter(text))
    return file.content


async def imported(
    runtime: Runtime,
    who: Principal,
    kind: ResourceKind,
    content: str,
    filename: str = "file.csv",
    **options: Any,
) -> ImportOutcome:
    file = SentFile(filename, io.BytesIO(content.encode()))
    request = ImportResourcesRequest(kind, file=file, **options)
    return await commands.import_resources(runtime, who, request)


def counts(outcome: ImportOutcome) -> tuple[int, int, int, int]:
    return (outcome.created, outcome.updated, outcome.unchanged, outcome.rejected_rows)


def rejected(outcome: ImportOutcome) -> list[tuple[int, str | None]]:
    return [(r.line, r.column) for r in outcome.rejections]


async def schedule_named(runtime: Runtime, who: Principal, name: str) -> ExportScheduleRow:
    async with runtime.sessions() as session:
        row = await session.scalar(
            select(ExportScheduleRow).where(
                ExportScheduleRow.workspace_id == who.workspace_id, ExportScheduleRow.name == name
            )
        )
    assert row is not None
    return row


async def periods_run(runtime: Runtime, schedule_id: str) -> list[int]:
    """The hours after START of the periods a schedule has runs for."""
    async with runtime.sessions() as session:
        starts = await session.scalars(
            select(ExportScheduleRunRow.period_start_ns)
            .where(ExportScheduleRunRow.schedule_id == schedule_id)
            .order_by(ExportScheduleRunRow.period_start_ns)
        )
        return [(s - START) // HOUR for s in starts]


async def two_schedules(runtime: Runtime, who: Principal) -> None:
    """Hourly trades from START, five minutes late; a paused daily one in Paris, only the
    latest missed day, two columns."""
    await schedules.create_schedule(
        runtime,
        who,
        ScheduleRequest(
            name="hourly trades",
            export=export_request(start_time=None, end_time=None),
            every="PT1H",
            period_start=START,
            delay="PT5M",
        ),
    )
    daily = await schedules.create_schedule(
        runtime,
        who,
        ScheduleRequest(
            name="daily, Paris",
            export=export_request(
                start_time=None,
                end_time=None,
                format="JSONL",
                options=OptionsRequest(columns=["collection_timestamp_ns", "data"]),
            ),
            every="P1D",
            period_start="2024-02-29T23:00:00Z",
            timezone="Europe/Paris",
            catch_up="LATEST",
        ),
    )
    await schedules.pause_schedule(runtime, who, daily.id)


# -- schedules --------------------------------------------------------------------------------


@pytest.mark.parametrize("format", list(ResourceFormat))
async def test_schedules_move_to_another_workspace_unchanged(
    runtime: Runtime, seed: Seed, format: ResourceFormat
) -> None:
    alpha, beta = seed.principals["alpha"], seed.principals["beta"]
    await two_schedules(runtime, alpha)
    await schedule_once(runtime, now=START + 3 * HOUR + 5 * MINUTE)  # periods 0, 1, 2
    backup = await exported(runtime, alpha, SCHEDULES, format)
    rows = json.loads(backup) if format is ResourceFormat.JSON else None
    if rows is not None:
        assert [r["name"] for r in rows] == ["daily, Paris", "hourly trades"]
        hourly = rows[1]
        assert hourly["next_period_start"] == format_timestamp(START + 3 * HOUR)
        assert hourly["export"] == {
            "datastreamId": str(TRADES.id),
            "format": "CSV",
            "keepPartial": False,
        }
        assert (hourly["status"], hourly["delay"], rows[0]["status"]) == (
            "ACTIVE",
            "PT5M",
            "PAUSED",
        )
    filename = "schedules" + format.suffix
    outcome = await imported(runtime, beta, SCHEDULES, backup, filename)
    assert counts(outcome) == (2, 0, 0, 0) and outcome.applied
    assert await exported(runtime, beta, SCHEDULES, format) == backup
    again = await imported(runtime, beta, SCHEDULES, backup, filename)
    assert counts(again) == (0, 0, 2, 0)
    assert counts(await imported(runtime, alpha, SCHEDULES, backup, filename)) == (0, 0, 2, 0)
    # A dry run of a changed file counts the change and writes nothing.
    changed = backup.replace("PT5M", "PT10M")
    dry = await imported(runtime, beta, SCHEDULES, changed, filename, dry_run=True)
    assert counts(dry) == (0, 1, 1, 0) and not dry.applied
    assert await exported(runtime, beta, SCHEDULES, format) == backup


async def test_a_restored_schedule_never_exports_the_periods_the_original_did(
    runtime: Runtime, seed: Seed
) -> None:
    alpha, beta = seed.principals["alpha"], seed.principals["beta"]
    await two_schedules(runtime, alpha)
    now = START + 3 * HOUR + 5 * MINUTE
    await schedule_once(runtime, now=now)
    original = await schedule_named(runtime, alpha, "hourly trades")
    assert await periods_run(runtime, original.id) == [0, 1, 2]
    backup = await exported(runtime, alpha, SCHEDULES, ResourceFormat.JSON, text="hourly")
    assert counts(await imported(runtime, beta, SCHEDULES, backup, "s.json")) == (1, 0, 0, 0)
    restored = await schedule_named(runtime, beta, "hourly trades")
    assert restored.cursor_ns == START + 3 * HOUR
    assert (await schedule_once(runtime, now=now)).opened == []
    assert await periods_run(runtime, restored.id) == []
    done = await schedule_once(runtime, now=now + HOUR)
    assert await periods_run(runtime, restored.id) == [3]
    assert len(done.jobs) == 2  # period 3, once per workspace
    # Without next_period_start, a new schedule starts at its periodStart and catches up.
    rows = json.loads(backup)
    del rows[0]["next_period_start"]
    rows[0]["name"] = "hourly, from the start"
    outcome = await imported(runtime, beta, SCHEDULES, json.dumps(rows), "s.json")
    assert counts(outcome) == (1, 0, 0, 0)
    from_start = await schedule_named(runtime, beta, "hourly, from the start")
    await schedule_once(runtime, now=now + HOUR)
    assert await periods_run(runtime, from_start.id) == [0, 1, 2, 3]


async def test_an_import_updates_pauses_and_resumes_and_never_moves_a_cursor_back(
    runtime: Runtime, seed: Seed
) -> None:
    alpha = seed.principals["alpha"]
    await two_schedules(runtime, alpha)
    await schedule_once(runtime, now=START + 3 * HOUR + 5 * MINUTE)
    [daily, hourly] = json.loads(await exported(runtime, alpha, SCHEDULES, ResourceFormat.JSON))
    hourly.update(status="PAUSED", delay="PT10M", next_period_start=format_timestamp(START))
    daily.update(status="ACTIVE")
    outcome = await imported(runtime, alpha, SCHEDULES, json.dumps([daily, hourly]), "s.json")
    assert counts(outcome) == (0, 2, 0, 0)
    row = await schedule_named(runtime, alpha, "hourly trades")
    assert (row.status, row.delay_ns, row.cursor_ns) == ("PAUSED", 10 * MINUTE, START + 3 * HOUR)
    assert (await schedule_named(runtime, alpha, "daily, Paris")).status == "ACTIVE"
    # A cursor ahead of the schedule's moves it forward: those periods are not exported.
    hourly.update(next_period_start=format_timestamp(START + 5 * HOUR))
    outcome = await imported(runtime, alpha, SCHEDULES, json.dumps([hourly]), "s.json")
    assert counts(outcome) == (0, 1, 0, 0)
    row = await schedule_named(runtime, alpha, "hourly trades")
    assert (row.status, row.cursor_ns) == ("PAUSED", START + 5 * HOUR)
    # Resumed as resumeExportSchedule resumes: periods due while paused are skipped.
    hourly.update(status="ACTIVE")
    outcome = await imported(runtime, alpha, SCHEDULES, json.dumps([hourly]), "s.json")
    assert counts(outcome) == (0, 1, 0, 0)
    row = await schedule_named(runtime, alpha, "hourly trades")
    assert row.status == "ACTIVE" and row.cursor_ns > now_ns() - 2 * HOUR


async def test_schedule_rows_are_checked_as_the_mutations_check_them(
    runtime: Runtime, seed: Seed
) -> None:
    alpha = seed.principals["alpha"]
    template = json.dumps({"datastreamId": str(TRADES.id)})
    rows = [
        ["name", "every", "period_start", "export", "status", "next_period_start"],
        ["good", "PT1H", "2024-03-01T00:00:00Z", template, "", ""],
        ["short", "PT1M", "2024-03-01T00:00:00Z", template, "", ""],
        ["unknown key", "PT1H", "2024-03-01T00:00:00Z", '{"datastreamId": "1", "x": 1}', "", ""],
        ["no stream", "PT1H", "2024-03-01T00:00:00Z", '{"datastreamId": "999999"}', "", ""],
        ["bad status", "PT1H", "2024-03-01T00:00:00Z", template, "SLEEPING", ""],
        ["bad status, bad every", "P1H", "2024-03-01T00:00:00Z", template, "SLEEPING", ""],
        ["bad cursor", "PT1H", "2024-03-01T00:00:00Z", template, "", "soon"],
        ["", "PT1H", "yesterday", "[]", "", ""],
    ]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    text = out.getvalue()
    outcome = await imported(runtime, alpha, SCHEDULES, text)
    assert not outcome.applied and counts(outcome) == (1, 0, 0, 7)
    assert rejected(outcome) == [
        (3, "every"),
        (4, "export"),
        (5, "export"),
        (6, "status"),
        (7, "status"),  # every problem of a row at once
        (7, "every"),
        (8, "next_period_start"),
        (9, "name"),
        (9, "export"),  # period_start is checked once the template can be read
    ]
    reasons = {(r.line, r.column): r.reason for r in outcome.rejections}
    assert reasons[(3, "every")] == "periods must be at least 3600 seconds long"
    assert reasons[(4, "export")].startswith("x: 'x' is not a field of an export template")
    assert reasons[(5, "export")].startswith("datastreamId: ")
    async with runtime.sessions() as session:
        assert await session.scalar(select(ExportScheduleRow.id)) is None
    skipped = await imported(runtime, alpha, SCHEDULES, text, on_error="SKIP")
    assert skipped.applied and counts(skipped) == (1, 0, 0, 7)
    assert (await schedule_named(runtime, alpha, "good")).status == "ACTIVE"


async def test_a_name_several_schedules_share_is_rejected(runtime: Runtime, seed: Seed) -> None:
    alpha = seed.principals["alpha"]
    await two_schedules(runtime, alpha)
    await two_schedules(runtime, alpha)
    backup = await exported(runtime, alpha, SCHEDULES, text="hourly")
    outcome = await imported(runtime, alpha, SCHEDULES, backup)
    assert rejected(outcome) == [(2, "name"), (3, "name")]
    assert "2 schedules are named 'hourly trades'" in outcome.rejections[0].reason


async def test_importing_schedules_needs_member(runtime: Runtime, seed: Seed) -> None:
    problems = await problems_of(
        imported(runtime, seed.principals["alpha-viewer"], SCHEDULES, "name\n")
    )
    assert [(code, field) for code, field, _ in problems] == [(ErrorCode.FORBIDDEN, ("input",))]
    outcome = await imported(runtime, seed.principals["alpha-member"], SCHEDULES, "name\n")
    assert rejected(outcome) == [(1, "every"), (1, "period_start"), (1, "export")]


# -- webhooks ---------------------------------------------------------------------------------


async def webhook(runtime: Runtime, who: Principal, url: str, **values: Any) -> WebhookRow:
    async with runtime.sessions() as session:
        return await targets.create_webhook(
            session,
            who,
            runtime.settings,
            url=url,
            events=values.get("events", ["export.succeeded"]),
            secret=values.get("secret"),
            description=values.get("description"),
        )


async def webhooks_of(runtime: Runtime, who: Principal) -> dict[str, WebhookRow]:
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(WebhookRow).where(WebhookRow.workspace_id == who.workspace_id)
        )
        return {w.url: w for w in rows}


@pytest.mark.parametrize("format", list(ResourceFormat))
async def test_webhooks_move_without_their_secrets(
    runtime: Runtime, seed: Seed, format: ResourceFormat
) -> None:
    alpha, beta = seed.principals["alpha"], seed.principals["beta"]
    await webhook(runtime, alpha, f"{PUBLIC}/a", events=["export.failed", "export.succeeded"])
    disabled = await webhook(runtime, alpha, f"{PUBLIC}/b", description="ops", secret=SECRET)
    async with runtime.sessions() as session:
        await targets.update_webhook(
            session,
            alpha,
            runtime.settings,
            disabled.id,
            url=None,
            events=None,
            enabled=False,
            description=None,
            rotate_secret=False,
        )
    backup = await exported(runtime, alpha, WEBHOOKS, format)
    assert "whsec_" not in backup and "secret" not in backup
    assert "EXPORT_FAILED" in backup and "export.failed" not in backup
    filename = "webhooks" + format.suffix
    outcome = await imported(runtime, beta, WEBHOOKS, backup, filename)
    assert counts(outcome) == (2, 0, 0, 0)
    assert await exported(runtime, beta, WEBHOOKS, format) == backup
    restored = await webhooks_of(runtime, beta)
    assert restored[f"{PUBLIC}/b"].secret != SECRET  # generated: read it by rotating
    assert restored[f"{PUBLIC}/b"].secret.startswith("whsec_")
    assert restored[f"{PUBLIC}/a"].events == ["export.failed", "export.succeeded"]
    assert (restored[f"{PUBLIC}/a"].enabled, restored[f"{PUBLIC}/b"].enabled) == (True, False)
    assert counts(await imported(runtime, beta, WEBHOOKS, backup, filename)) == (0, 0, 2, 0)


async def test_webhook_rows_update_take_secrets_and_are_checked(
    runtime: Runtime, seed: Seed
) -> None:
    alpha = seed.principals["alpha"]
    existing = await webhook(runtime, alpha, f"{PUBLIC}/a")
    text = (
        "url,events,description,enabled,secret\n"
        f'{PUBLIC}/a,"EXPORT_SUCCEEDED, export.failed",changed,false,\n'  # 2: updated
        f"{PUBLIC}/new,export.succeeded,,,{SECRET}\n"  # 3: created with that secret
        "http://127.0.0.1/hook,export.succeeded,,,\n"  # 4: a loopback address
        "http://10.0.0.7/hook,export.succeeded,,,\n"  # 5: a private address
        f"{PUBLIC}/c,export.exploded,,,\n"  # 6: an unknown event
        f"{PUBLIC}/d,export.succeeded,,maybe,whsec_short\n"  # 7: enabled and secret
        f"{PUBLIC}/e,,,,\n"  # 8: no events
    )
    outcome = await imported(runtime, alpha, WEBHOOKS, text, on_error="SKIP")
    assert counts(outcome) == (1, 1, 0, 5)
    assert rejected(outcome) == [
        (4, "url"),
        (5, "url"),
        (6, "events"),
        (7, "enabled"),
        (7, "secret"),
        (8, "events"),
    ]
    assert "loopback, private or link-local" in outcome.rejections[0].reason
    rows = await webhooks_of(runtime, alpha)
    updated = rows[f"{PUBLIC}/a"]
    assert (updated.events, updated.description, updated.enabled) == (
        ["export.failed", "export.succeeded"],
        "changed",
        False,
    )
    assert updated.secret == existing.secret  # an existing webhook keeps its secret
    assert rows[f"{PUBLIC}/new"].secret == SECRET


async def test_importing_webhooks_needs_admin(runtime: Runtime, seed: Seed) -> None:
    problems = await problems_of(
        imported(runtime, seed.principals["alpha-member"], WEBHOOKS, "url,events\n")
    )
    assert [(code, field) for code, field, _ in problems] == [(ErrorCode.FORBIDDEN, ("input",))]


async def test_a_url_several_webhooks_share_is_rejected(runtime: Runtime, seed: Seed) -> None:
    alpha = seed.principals["alpha"]
    for _ in range(2):
        await webhook(runtime, alpha, f"{PUBLIC}/twice")
    outcome = await imported(
        runtime, alpha, WEBHOOKS, f"url,events\n{PUBLIC}/twice,EXPORT_FAILED\n"
    )
    assert rejected(outcome) == [(2, "url")] and not outcome.applied
    assert "2 webhooks have this url" in outcome.rejections[0].reason
