"""Workspaces cannot see each other's jobs; idempotency keys replay; the active-export cap."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.api.helpers import (
    CANCEL,
    CREATE,
    DELETE,
    JOB,
    LIST,
    create_job,
    create_payload,
    export_input,
    idle_app,
    iso,
)
from tests.helpers.inprocess import START, ApiClient, Seed, copy_seed, settings_for

NODE = "query($id: ID!) { node(id: $id) { id ... on ExportJob { status } } }"
CAP = 2


async def test_another_workspace_cannot_read_cancel_or_delete_a_job(idle_api: ApiClient) -> None:
    job = await create_job(idle_api)
    job_id = job["id"]
    assert (await idle_api.execute(JOB, {"id": job_id}, key="beta"))["exportJob"] is None
    assert (await idle_api.execute(NODE, {"id": job_id}, key="beta"))["node"] is None
    listed = (await idle_api.execute(LIST, {"order": "CREATED_AT_DESC"}, key="beta"))["exportJobs"]
    assert (int(listed["totalCount"]), listed["edges"]) == (0, [])
    cancel = (await idle_api.execute(CANCEL, {"id": job_id}, key="beta"))["cancelExport"]
    assert cancel["exportJob"] is None
    assert [(e["code"], e["field"]) for e in cancel["userErrors"]] == [
        ("NOT_FOUND", ["input", "id"])
    ]
    delete = (await idle_api.execute(DELETE, {"id": job_id}, key="beta"))["deleteExport"]
    assert delete["deletedId"] is None
    assert [(e["code"], e["field"]) for e in delete["userErrors"]] == [
        ("NOT_FOUND", ["input", "id"])
    ]
    # Not found rather than forbidden: the same answers as for an id that never existed.
    ghost = "exp_" + "0" * 32
    ghost_cancel = (await idle_api.execute(CANCEL, {"id": ghost}, key="beta"))["cancelExport"]
    assert [e["code"] for e in ghost_cancel["userErrors"]] == ["NOT_FOUND"]
    # The owner still has it, untouched.
    mine = (await idle_api.execute(JOB, {"id": job_id}))["exportJob"]
    assert (mine["id"], mine["status"]) == (job_id, "QUEUED")
    assert (await idle_api.execute(NODE, {"id": job_id}))["node"] == {
        "id": job_id,
        "status": "QUEUED",
    }
    listed = (await idle_api.execute(LIST, {"order": "CREATED_AT_DESC"}))["exportJobs"]
    assert [e["node"]["id"] for e in listed["edges"]] == [job_id]


async def test_the_same_key_and_request_return_the_same_job(idle_api: ApiClient) -> None:
    first = await create_job(idle_api, idempotencyKey="nightly")
    assert first["idempotencyKey"] == "nightly"
    again = await create_job(idle_api, idempotencyKey="nightly")
    assert again["id"] == first["id"] and again["createdAt"] == first["createdAt"]
    # The same request in other words: times as ISO text and as a decimal string.
    reworded = await create_job(
        idle_api,
        idempotencyKey="nightly",
        datastreamId="ds_601",
        startTime=iso(START),
        endTime=str(START + 60 * 10**9),
        schema="raw",
        format="CSV",
    )
    assert reworded["id"] == first["id"]
    listed = (await idle_api.execute(LIST, {"order": "CREATED_AT_DESC"}))["exportJobs"]
    assert int(listed["totalCount"]) == 1


async def test_the_same_key_with_another_request_is_a_conflict(idle_api: ApiClient) -> None:
    first = await create_job(idle_api, idempotencyKey="k1")
    for change in ({"format": "JSONL"}, {"endTime": START + 61 * 10**9}, {"schema": "normalized"}):
        payload = await create_payload(idle_api, idempotencyKey="k1", **change)
        assert payload["exportJob"] is None, change
        [error] = payload["userErrors"]
        assert (error["code"], error["field"]) == ("CONFLICT", ["input", "idempotencyKey"])
        assert first["id"] in error["message"]
    # Keys belong to a workspace: the other one may use the same key for its own job.
    theirs = await create_job(idle_api, key="beta", idempotencyKey="k1", format="JSONL")
    assert theirs["id"] != first["id"]


async def test_concurrent_creates_with_one_key_make_one_job(idle_api: ApiClient) -> None:
    variables = {"input": export_input(idempotencyKey="race")}
    responses = await asyncio.gather(*(idle_api.execute(CREATE, variables) for _ in range(8)))
    payloads = [r["createExport"] for r in responses]
    assert all(p["userErrors"] == [] for p in payloads), payloads
    assert len({p["exportJob"]["id"] for p in payloads}) == 1
    listed = (await idle_api.execute(LIST, {"order": "CREATED_AT_DESC"}))["exportJobs"]
    assert int(listed["totalCount"]) == 1


async def test_a_create_beyond_the_cap_is_rate_limited(seed: Seed, tmp_path: Path) -> None:
    # No worker runs in this app, so the first jobs stay QUEUED (active) until canceled: the
    # count is exact, whatever the machine's speed.
    settings = settings_for(copy_seed(seed, tmp_path / "d"), max_active_exports=CAP)
    async with idle_app(settings, seed.keys) as api:
        first = await create_job(api, idempotencyKey="first")
        second = await create_job(api)
        over = await create_payload(api, format="JSONL")
        assert over["exportJob"] is None
        [error] = over["userErrors"]
        assert (error["code"], error["field"]) == ("RATE_LIMITED", ["input"])
        assert (
            f"already has {CAP} queued or running exports, the limit is {CAP}" in error["message"]
        )
        # Whole seconds, at least one; none is running, so the documented default of 10.
        assert error["retryAfter"] == 10.0
        # A replay of a key is not a new job: it answers even at the cap.
        replay = await create_payload(api, idempotencyKey="first")
        assert replay["userErrors"] == [] and replay["exportJob"]["id"] == first["id"]
        # A bad request is still told what is wrong with it.
        bad = await create_payload(api, limit=0)
        assert [e["code"] for e in bad["userErrors"]] == ["INVALID_ARGUMENT"]
        # The cap counts per workspace.
        assert (await create_payload(api, key="beta"))["userErrors"] == []
        # A canceled job no longer counts.
        canceled = (await api.execute(CANCEL, {"id": second["id"]}))["cancelExport"]
        assert canceled["userErrors"] == []
        assert (await create_payload(api))["userErrors"] == []
        [again] = (await create_payload(api))["userErrors"]
        assert again["code"] == "RATE_LIMITED"


async def test_concurrent_creates_at_the_cap_minus_one_let_exactly_one_through(
    seed: Seed, tmp_path: Path
) -> None:
    settings = settings_for(copy_seed(seed, tmp_path / "d"), max_active_exports=CAP)
    async with idle_app(settings, seed.keys) as api:
        await create_job(api)
        variables = {"input": export_input()}
        responses = await asyncio.gather(*(api.execute(CREATE, variables) for _ in range(6)))
        payloads = [r["createExport"] for r in responses]
        assert sum(p["exportJob"] is not None for p in payloads) == CAP - 1, payloads
        codes = [e["code"] for p in payloads for e in p["userErrors"]]
        assert codes == ["RATE_LIMITED"] * (6 - (CAP - 1))
        listed = (await api.execute(LIST, {"order": "CREATED_AT_DESC"}))["exportJobs"]
        assert int(listed["totalCount"]) == CAP
