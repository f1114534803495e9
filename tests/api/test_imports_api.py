"""Imports over the API, in process: a file sent in a multipart GraphQL request (the GraphQL
multipart request spec), and one PUT to a signed upload URL; records stored and counted,
rejected records in a downloadable report, limits refused with typed errors."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.helpers import idle_app
from tests.helpers.inprocess import TRADES, ApiClient, Seed, copy_seed, settings_for

BASE_TS = 1_900_000_000 * 10**9
JOB_FIELDS = """id status reason note datastreamId filename onError attempts
  progress { bytesRead byteSize recordsRead recordsRejected recordsStored }
  rejectedRecords { url byteSize keptUntil }"""
IMPORT_RECORDS = f"""mutation($input: ImportRecordsInput!) {{ importRecords(input: $input) {{
  importJob {{ {JOB_FIELDS} }} userErrors {{ code field message }} }} }}"""
CREATE_UPLOAD = """mutation($input: CreateImportUploadInput!) { createImportUpload(input: $input) {
  upload { id filename url expiresAt maxBytes } userErrors { code field message } } }"""
START = f"""mutation($input: StartImportInput!) {{ startImport(input: $input) {{
  importJob {{ {JOB_FIELDS} }} userErrors {{ code field message }} }} }}"""
JOB = f"query($id: ID!) {{ importJob(id: $id) {{ {JOB_FIELDS} }} }}"
LIST = """query($after: String) { importJobs(first: 1, after: $after) {
  totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }"""
AVAILABILITY = "query($ds: ID!) { availability(datastreamId: $ds) { ranges { rowCount } } }"


def lines(count: int, bad: dict[int, str] | None = None) -> bytes:
    rows = [
        json.dumps(
            {"collection_timestamp_ns": BASE_TS + i, "data": {"e": "trade", "t": i, "p": "1.5"}}
        )
        for i in range(count)
    ]
    for index, text in (bad or {}).items():
        rows[index] = text
    return ("\n".join(rows) + "\n").encode()


async def multipart(
    api: ApiClient, filename: str, content: bytes, key: str = "alpha", **input: Any
) -> httpx.Response:
    """importRecords as the GraphQL multipart request spec sends it: operations, map, file."""
    operations = {
        "query": IMPORT_RECORDS,
        "variables": {"input": {"datastreamId": str(TRADES.id), "file": None, **input}},
    }
    return await api.http.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": (filename, content, "application/octet-stream")},
        headers={"X-Api-Key": api.keys[key]},
    )


async def imported(api: ApiClient, filename: str, content: bytes, **input: Any) -> dict[str, Any]:
    response = await multipart(api, filename, content, **input)
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["importRecords"]
    assert payload["userErrors"] == [], payload
    return dict(payload["importJob"])


async def finished(api: ApiClient, job_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = (await api.execute(JOB, {"id": job_id}))["importJob"]
        if job["status"] not in ("QUEUED", "RUNNING"):
            return dict(job)
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.02)


async def stored_rows(api: ApiClient) -> int:
    ranges = (await api.execute(AVAILABILITY, {"ds": str(TRADES.id)}))["availability"]["ranges"]
    return sum(int(r["rowCount"]) for r in ranges)


async def test_a_multipart_import_stores_its_records(shared_api: ApiClient) -> None:
    before = await stored_rows(shared_api)
    queued = await imported(shared_api, "trades.jsonl", lines(300))
    assert queued["status"] in ("QUEUED", "RUNNING") and queued["filename"] == "trades.jsonl"
    job = await finished(shared_api, queued["id"])
    assert job["status"] == "SUCCEEDED", job
    progress = job["progress"]
    assert (
        int(progress["recordsRead"]),
        int(progress["recordsStored"]),
        int(progress["recordsRejected"]),
    ) == (
        300,
        300,
        0,
    )
    assert int(progress["bytesRead"]) == int(progress["byteSize"]) == len(lines(300))
    assert await stored_rows(shared_api) == before + 300
    node = await shared_api.execute(
        "query($id: ID!) { node(id: $id) { ... on ImportJob { status } } }", {"id": job["id"]}
    )
    assert node["node"] == {"status": "SUCCEEDED"}


async def test_a_signed_upload_takes_one_put_and_skipped_records_are_reported(
    shared_api: ApiClient,
) -> None:
    created = await shared_api.execute(CREATE_UPLOAD, {"input": {"filename": "mixed.jsonl"}})
    upload = created["createImportUpload"]["upload"]
    content = lines(50, {2: "nope", 40: '{"collection_timestamp_ns": 1, "data": 7}'})
    tampered = upload["url"].replace("signature=", "signature=0")
    assert (await shared_api.http.put(tampered, content=content)).status_code == 403
    put = await shared_api.http.put(upload["url"], content=content)
    assert put.status_code == 201, put.text
    assert put.json()["byteSize"] == len(content)
    again = await shared_api.http.put(upload["url"], content=content)
    assert (
        again.status_code == 409 and again.json()["errors"][0]["extensions"]["code"] == "CONFLICT"
    )
    started = await shared_api.execute(
        START,
        {"input": {"uploadId": upload["id"], "datastreamId": str(TRADES.id), "onError": "SKIP"}},
    )
    job = await finished(shared_api, started["startImport"]["importJob"]["id"])
    assert job["status"] == "SUCCEEDED", job
    assert (int(job["progress"]["recordsStored"]), int(job["progress"]["recordsRejected"])) == (
        48,
        2,
    )
    report = job["rejectedRecords"]
    response = await shared_api.http.get(report["url"])
    assert response.status_code == 200 and len(response.content) == int(report["byteSize"])
    rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
    assert [(r["line"], r["record"]) for r in rows] == [
        ("3", "nope"),
        ("41", '{"collection_timestamp_ns": 1, "data": 7}'),
    ]
    # The upload is used: starting it again is a conflict, not a second import.
    twice = await shared_api.execute(
        START, {"input": {"uploadId": upload["id"], "datastreamId": str(TRADES.id)}}
    )
    assert twice["startImport"]["userErrors"][0]["code"] == "CONFLICT"


async def test_abort_fails_naming_the_line(shared_api: ApiClient) -> None:
    queued = await imported(shared_api, "bad.jsonl", lines(10, {6: "{"}))
    job = await finished(shared_api, queued["id"])
    assert job["status"] == "FAILED"
    assert "bad.jsonl:7: not JSON" in job["reason"]
    assert int(job["progress"]["recordsStored"]) == 0


async def test_bad_inputs_are_typed_user_errors(idle_api: ApiClient) -> None:
    as_json = await idle_api.execute(
        IMPORT_RECORDS, {"input": {"datastreamId": str(TRADES.id), "file": "not a file"}}
    )
    assert as_json["importRecords"]["userErrors"][0]["field"] == ["input", "file"]
    bad_name = (await multipart(idle_api, "trades.txt", b"x")).json()["data"]["importRecords"]
    assert bad_name["userErrors"][0]["field"] == ["input", "file"]
    unknown = await multipart(
        idle_api, "t.csv", b"collection_timestamp_ns,data\n", datastreamId="99"
    )
    assert unknown.json()["data"]["importRecords"]["userErrors"][0]["code"] == "NOT_FOUND"
    viewer = await multipart(idle_api, "t.csv", b"", key="alpha-viewer")
    assert viewer.json()["data"]["importRecords"]["userErrors"][0]["code"] == "FORBIDDEN"
    not_sent = await idle_api.execute(CREATE_UPLOAD, {"input": {"filename": "later.csv"}})
    upload_id = not_sent["createImportUpload"]["upload"]["id"]
    early = await idle_api.execute(
        START, {"input": {"uploadId": upload_id, "datastreamId": str(TRADES.id)}}
    )
    assert early["startImport"]["userErrors"][0]["code"] == "FAILED_PRECONDITION"
    foreign = await idle_api.execute(
        START, {"input": {"uploadId": upload_id, "datastreamId": str(TRADES.id)}}, key="beta"
    )
    assert foreign["startImport"]["userErrors"][0]["code"] == "NOT_FOUND"


async def test_import_jobs_are_listed_newest_first_per_workspace(idle_api: ApiClient) -> None:
    ids = [(await imported(idle_api, f"{i}.jsonl", lines(1)))["id"] for i in range(3)]
    seen, after = [], None
    while True:
        page = (await idle_api.execute(LIST, {"after": after}))["importJobs"]
        assert int(page["totalCount"]) == 3
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ids[::-1]
    other = await idle_api.execute(LIST, {"after": None}, key="beta")
    assert int(other["importJobs"]["totalCount"]) == 0
    response = await idle_api.post(LIST, {"after": "bm90IGEgY3Vyc29y"})
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"


@pytest.fixture
async def small_limit_api(seed: Seed, tmp_path: Path) -> AsyncIterator[ApiClient]:
    settings = settings_for(copy_seed(seed, tmp_path / "data"), max_import_bytes=2048)
    async with idle_app(settings, seed.keys) as client:
        yield client


async def test_files_past_the_limit_are_refused_with_typed_errors(
    small_limit_api: ApiClient,
) -> None:
    api = small_limit_api
    declared = await api.execute(CREATE_UPLOAD, {"input": {"filename": "t.csv", "byteSize": 4096}})
    assert declared["createImportUpload"]["userErrors"][0]["code"] == "PAYLOAD_TOO_LARGE"
    upload = (await api.execute(CREATE_UPLOAD, {"input": {"filename": "t.jsonl"}}))[
        "createImportUpload"
    ]["upload"]
    assert int(upload["maxBytes"]) == 2048
    put = await api.http.put(upload["url"], content=lines(100))
    assert put.status_code == 413
    assert put.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    # A multipart request past the limit (plus room for its other parts) never reaches GraphQL.
    huge = await multipart(api, "t.jsonl", b"x" * (2048 + 300_000))
    assert huge.status_code == 413
    # Inside the request limit but past the import limit: a user error naming the field.
    over = (await multipart(api, "t.jsonl", lines(100))).json()["data"]["importRecords"]
    assert over["userErrors"][0]["code"] == "PAYLOAD_TOO_LARGE"
    assert over["userErrors"][0]["field"] == ["input", "file"]


async def test_a_file_upload_needs_a_content_length(idle_api: ApiClient) -> None:
    upload = (await idle_api.execute(CREATE_UPLOAD, {"input": {"filename": "t.jsonl"}}))[
        "createImportUpload"
    ]["upload"]

    async def chunks() -> AsyncIterator[bytes]:
        yield lines(3)

    response = await idle_api.http.put(upload["url"], content=chunks())
    assert response.status_code == 411
    assert response.json()["errors"][0]["extensions"]["code"] == "LENGTH_REQUIRED"
