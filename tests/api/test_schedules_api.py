"""Recurring exports over the API: create, read (one, the listing, node), its runs and their
jobs, pause, resume, update, delete, and typed userErrors with their input paths."""

from __future__ import annotations

from typing import Any

import pytest

from app.config import Settings
from app.domain.runtime import NO_EFFECTS, Runtime
from app.domain.schedules.scheduler import schedule_once
from tests.api.helpers import export_input
from tests.helpers.inprocess import MINUTE, START, TRADES, ApiClient

HOUR = 60 * MINUTE
FIELDS = """id name status every periodStart delay timezone catchUp export nextPeriodStart
  nextRunAt createdAt updatedAt"""
CREATE = f"""mutation($input: CreateExportScheduleInput!) {{ createExportSchedule(input: $input) {{
  exportSchedule {{ {FIELDS} }} userErrors {{ code field message }} }} }}"""
UPDATE = f"""mutation($input: UpdateExportScheduleInput!) {{ updateExportSchedule(input: $input) {{
  exportSchedule {{ {FIELDS} }} userErrors {{ code field message }} }} }}"""
PAUSE = """mutation($id: ID!) { pauseExportSchedule(input: {id: $id}) {
  exportSchedule { status nextRunAt } userErrors { code field message } } }"""
RESUME = """mutation($id: ID!) { resumeExportSchedule(input: {id: $id}) {
  exportSchedule { status nextRunAt } userErrors { code field message } } }"""
DELETE = """mutation($id: ID!) { deleteExportSchedule(input: {id: $id}) {
  deletedId userErrors { code field message } } }"""
ONE = """query($id: ID!, $first: Int, $after: String) { exportSchedule(id: $id) { id nextRunAt
  runs(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    edges { node { periodStart periodEnd status reason
      exportJob { id status startTime endTime format idempotencyKey } } } } } }"""
LIST = """query($after: String) { exportSchedules(first: 1, after: $after) {
  totalCount edges { cursor node { id name } } pageInfo { hasNextPage endCursor } } }"""
NODE = """query($id: ID!) { node(id: $id) { id ... on ExportSchedule { name every } } }"""


def schedule_input(**fields: Any) -> dict[str, Any]:
    template = export_input(format="JSONL", columns=["collection_timestamp_ns"])
    del template["startTime"], template["endTime"]
    return {
        "name": "hourly",
        "export": template,
        "every": "PT1H",
        "periodStart": START,
        "delay": "PT5M",
        **fields,
    }


async def create(api: ApiClient, key: str = "alpha", **fields: Any) -> dict[str, Any]:
    payload = (await api.execute(CREATE, {"input": schedule_input(**fields)}, key=key))[
        "createExportSchedule"
    ]
    assert payload["userErrors"] == [], payload
    return dict(payload["exportSchedule"])


async def test_a_schedule_is_created_read_listed_and_resolved_as_a_node(
    idle_api: ApiClient,
) -> None:
    created = await create(idle_api, key="alpha-member", timezone="Europe/Paris")
    assert created["id"].startswith("rec_")
    assert created["status"] == "ACTIVE" and created["catchUp"] == "ALL"
    assert (created["every"], created["delay"], created["timezone"]) == (
        "PT1H",
        "PT5M",
        "Europe/Paris",
    )
    assert created["nextPeriodStart"] == "2024-03-01T00:00:00.000000000Z"
    assert created["nextRunAt"] == "2024-03-01T01:05:00.000000000Z"
    assert created["export"] == {
        "datastreamId": str(TRADES.id),
        "format": "JSONL",
        "columns": ["collection_timestamp_ns"],
        "keepPartial": False,  # a field of the createExport input since keepPartial landed
    }
    node = (await idle_api.execute(NODE, {"id": created["id"]}, key="alpha-viewer"))["node"]
    assert node == {"id": created["id"], "name": "hourly", "every": "PT1H"}
    second = await create(idle_api, name="daily", every="P1D")
    page = (await idle_api.execute(LIST, {}))["exportSchedules"]
    assert int(page["totalCount"]) == 2 and page["pageInfo"]["hasNextPage"]
    after = page["pageInfo"]["endCursor"]
    rest = (await idle_api.execute(LIST, {"after": after}))["exportSchedules"]
    assert [e["node"]["id"] for e in page["edges"] + rest["edges"]] == [
        created["id"],
        second["id"],
    ]
    # Another workspace sees none of it.
    assert (await idle_api.execute(NODE, {"id": created["id"]}, key="beta"))["node"] is None
    foreign = (await idle_api.execute(LIST, {}, key="beta"))["exportSchedules"]
    assert int(foreign["totalCount"]) == 0


async def test_bad_schedules_are_user_errors_naming_the_field(idle_api: ApiClient) -> None:
    cases: list[tuple[dict[str, Any], list[str], str]] = [
        ({"every": "PT30M"}, ["input", "every"], "INVALID_ARGUMENT"),
        ({"every": "hourly"}, ["input", "every"], "INVALID_ARGUMENT"),
        ({"timezone": "Paris"}, ["input", "timezone"], "INVALID_ARGUMENT"),
        ({"delay": "P1M"}, ["input", "delay"], "INVALID_ARGUMENT"),
        ({"name": ""}, ["input", "name"], "INVALID_ARGUMENT"),
        (
            {"export": {"datastreamId": "424242"}},
            ["input", "export", "datastreamId"],
            "NOT_FOUND",
        ),
        (
            {"export": {"datastreamId": str(TRADES.id), "columns": ["nope"]}},
            ["input", "export", "columns"],
            "INVALID_ARGUMENT",
        ),
        (
            {"export": {"datastreamId": str(TRADES.id), "schema": "missing"}},
            ["input", "export", "schema"],
            "NOT_FOUND",
        ),
    ]
    for given, field, code in cases:
        response = await idle_api.execute(CREATE, {"input": schedule_input(**given)})
        errors = response["createExportSchedule"]["userErrors"]
        assert [(e["field"][: len(field)], e["code"]) for e in errors] == [(field, code)], (
            given,
            errors,
        )
    viewer = await idle_api.execute(CREATE, {"input": schedule_input()}, key="alpha-viewer")
    assert viewer["createExportSchedule"]["userErrors"][0]["code"] == "FORBIDDEN"


async def test_runs_show_each_period_and_its_job(idle_api: ApiClient, settings: Settings) -> None:
    schedule = await create(idle_api)
    runtime = Runtime.create(settings, NO_EFFECTS)
    try:
        await schedule_once(runtime, now=START + 3 * HOUR + 5 * MINUTE)
    finally:
        await runtime.dispose()
    found = (await idle_api.execute(ONE, {"id": schedule["id"], "first": 2}))["exportSchedule"]
    assert found["nextRunAt"] == "2024-03-01T04:05:00.000000000Z"
    runs = found["runs"]
    assert int(runs["totalCount"]) == 3 and runs["pageInfo"]["hasNextPage"]
    nodes = [e["node"] for e in runs["edges"]]
    after = runs["pageInfo"]["endCursor"]
    more = await idle_api.execute(ONE, {"id": schedule["id"], "after": after})
    nodes += [e["node"] for e in more["exportSchedule"]["runs"]["edges"]]
    assert [(n["periodStart"][11:16], n["periodEnd"][11:16]) for n in nodes] == [
        ("02:00", "03:00"),
        ("01:00", "02:00"),
        ("00:00", "01:00"),
    ]
    for node in nodes:
        job = node["exportJob"]
        assert node["status"] == "ACTIVE" and job["status"] == "QUEUED"
        assert (job["startTime"], job["endTime"]) == (node["periodStart"], node["periodEnd"])
        assert job["format"] == "JSONL" and job["idempotencyKey"].startswith("schedule:")


async def test_a_page_of_runs_reads_its_jobs_in_one_query(
    idle_api: ApiClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.domain.exports import queries

    schedule = await create(idle_api)
    runtime = Runtime.create(settings, NO_EFFECTS)
    try:
        await schedule_once(runtime, now=START + 3 * HOUR + 5 * MINUTE)
    finally:
        await runtime.dispose()
    asked: list[list[str]] = []
    original = queries.get_exports

    async def noted(session: Any, who: Any, job_ids: list[str]) -> Any:
        asked.append(list(job_ids))
        return await original(session, who, job_ids)

    monkeypatch.setattr(queries, "get_exports", noted)
    found = (await idle_api.execute(ONE, {"id": schedule["id"], "first": 3}))["exportSchedule"]
    jobs = [e["node"]["exportJob"]["id"] for e in found["runs"]["edges"]]
    assert len(set(jobs)) == 3 and [sorted(a) for a in asked] == [sorted(jobs)]
    # Another workspace's key sees no such schedule, and no job through it.
    other = await idle_api.execute(ONE, {"id": schedule["id"]}, key="beta")
    assert other["exportSchedule"] is None


async def test_pause_resume_update_and_delete(idle_api: ApiClient) -> None:
    schedule = await create(idle_api)
    paused = (await idle_api.execute(PAUSE, {"id": schedule["id"]}))["pauseExportSchedule"]
    assert paused == {"exportSchedule": {"status": "PAUSED", "nextRunAt": None}, "userErrors": []}
    resumed = (await idle_api.execute(RESUME, {"id": schedule["id"]}))["resumeExportSchedule"]
    assert resumed["exportSchedule"]["status"] == "ACTIVE"
    assert resumed["exportSchedule"]["nextRunAt"] > "2025"  # 2024's periods were skipped
    update = {"id": schedule["id"], "name": "daily", "every": "P1D", "catchUp": "LATEST"}
    updated = (await idle_api.execute(UPDATE, {"input": update}))["updateExportSchedule"]
    assert updated["userErrors"] == []
    view = updated["exportSchedule"]
    assert (view["name"], view["every"], view["catchUp"]) == ("daily", "P1D", "LATEST")
    assert view["nextPeriodStart"].endswith("T00:00:00.000000000Z")
    bad = {"id": schedule["id"], "export": {"datastreamId": str(TRADES.id), "format": "XLS"}}
    response = await idle_api.post(UPDATE, {"input": bad})
    assert response.json()["errors"]  # not an enum value: refused by GraphQL itself
    bad["export"] = {"datastreamId": "ds_0"}
    errors = (await idle_api.execute(UPDATE, {"input": bad}))["updateExportSchedule"]
    assert [e["field"] for e in errors["userErrors"]] == [["input", "export", "datastreamId"]]
    others = await idle_api.execute(DELETE, {"id": schedule["id"]}, key="beta")
    assert others["deleteExportSchedule"]["userErrors"][0]["code"] == "NOT_FOUND"
    deleted = (await idle_api.execute(DELETE, {"id": schedule["id"]}))["deleteExportSchedule"]
    assert deleted == {"deletedId": schedule["id"], "userErrors": []}
    assert (await idle_api.execute(ONE, {"id": schedule["id"]}))["exportSchedule"] is None
