"""The signed download links: metadata, Range and HEAD, forged or expired links, deleted jobs."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from app.storage import signed_path
from tests.api.helpers import (
    CANCEL,
    DELETE,
    JOB,
    LIST,
    create_job,
    download,
    finished,
    run_export,
)
from tests.helpers.inprocess import (
    BYBIT_TRADES,
    ApiClient,
    Seed,
    copy_seed,
    running_app,
    settings_for,
)

# One app with its workers for the whole module (see `shared_api`).
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def artifact(shared_api: ApiClient) -> dict[str, Any]:
    """The only file of a succeeded Parquet export, shared by the read-only tests."""
    job = await run_export(shared_api, datastreamId=str(BYBIT_TRADES.id), format="PARQUET")
    [only] = job["artifacts"]
    return dict(only)


def stored(artifact: dict[str, Any]) -> dict[str, Any]:
    """What an artifact is, without its link: a link signed a second later differs."""
    return {k: v for k, v in artifact.items() if k not in ("url", "expiresAt")}


def link_parts(url: str) -> tuple[str, str, str]:
    """(artifact id, filename, expires) of a signed download URL."""
    parsed = httpx.URL(url)
    _, downloads, artifact_id, filename = parsed.path.split("/")
    assert downloads == "downloads" and artifact_id.startswith("art_")
    return artifact_id, filename, parsed.params["expires"]


async def test_the_link_serves_the_file_without_a_key(
    shared_api: ApiClient, artifact: dict[str, Any]
) -> None:
    assert "x-api-key" not in {k.lower() for k in shared_api.http.headers}
    content = await download(shared_api, artifact)  # length, type, ETag, name, sha256
    assert content[:4] == b"PAR1" and content[-4:] == b"PAR1"
    assert artifact["contentType"] == "application/vnd.apache.parquet"
    assert artifact["filename"].endswith(".parquet")
    _, filename, expires = link_parts(artifact["url"])
    assert filename == artifact["filename"]
    assert artifact["expiresAt"].endswith(".000000000Z") and int(expires) > 0


async def test_range_requests_get_the_right_bytes(
    shared_api: ApiClient, artifact: dict[str, Any]
) -> None:
    whole = await download(shared_api, artifact)
    size = len(whole)
    for header, start, stop in (
        ("bytes=4-99", 4, 100),
        ("bytes=0-0", 0, 1),
        (f"bytes={size - 10}-", size - 10, size),
        ("bytes=-16", size - 16, size),
    ):
        part = await shared_api.http.get(artifact["url"], headers={"Range": header})
        assert part.status_code == 206, header
        assert part.content == whole[start:stop], header
        assert part.headers["content-range"] == f"bytes {start}-{stop - 1}/{size}", header
        assert int(part.headers["content-length"]) == stop - start
    beyond = await shared_api.http.get(artifact["url"], headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416


async def test_head_answers_like_get_without_the_body(
    shared_api: ApiClient, artifact: dict[str, Any]
) -> None:
    head = await shared_api.http.head(artifact["url"])
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == int(artifact["byteSize"])
    assert head.headers["etag"] == f'"{artifact["sha256"]}"'
    assert head.headers["content-type"].startswith(artifact["contentType"])


async def test_forged_and_expired_links_are_forbidden(
    shared_api: ApiClient, artifact: dict[str, Any], tmp_path: Path
) -> None:
    url = httpx.URL(artifact["url"])
    artifact_id, filename, expires = link_parts(artifact["url"])
    signature = url.params["signature"]
    forged = [
        url.copy_set_param("signature", ("0" if signature[0] != "0" else "1") + signature[1:]),
        url.copy_set_param("expires", str(int(expires) + 3600)),  # a longer life, same signature
        url.copy_set_param("expires", "soon"),
        url.copy_remove_param("signature"),
        url.copy_with(query=None),
        url.copy_with(path=url.path.replace("art_", "art_f", 1)),  # another artifact
    ]
    for link in forged:
        for method in ("GET", "HEAD"):
            response = await shared_api.http.request(method, link)
            assert response.status_code == 403, (method, link)
    # Signed with the gateway's own key, but already expired; and the same link made fresh.
    settings = settings_for(tmp_path)  # the in-process signing secret
    old, _ = signed_path(settings, artifact_id, filename, now=1_000_000)
    assert (await shared_api.http.get(old)).status_code == 403
    fresh, _ = signed_path(settings, artifact_id, filename)
    response = await shared_api.http.get(fresh)
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == artifact["sha256"]


async def test_a_deleted_job_is_gone_and_its_links_answer_404(shared_api: ApiClient) -> None:
    job = await run_export(shared_api)
    [artifact] = job["artifacts"]
    await download(shared_api, artifact)
    deleted = (await shared_api.execute(DELETE, {"id": job["id"]}))["deleteExport"]
    assert deleted == {"deletedId": job["id"], "userErrors": []}
    assert (await shared_api.http.get(artifact["url"])).status_code == 404
    assert (await shared_api.http.head(artifact["url"])).status_code == 404
    assert (await shared_api.execute(JOB, {"id": job["id"]}))["exportJob"] is None
    listed = await shared_api.execute(LIST, {"order": "CREATED_AT_DESC", "first": 100})
    assert job["id"] not in {e["node"]["id"] for e in listed["exportJobs"]["edges"]}
    again = (await shared_api.execute(DELETE, {"id": job["id"]}))["deleteExport"]
    assert again["deletedId"] is None
    assert [(e["code"], e["field"]) for e in again["userErrors"]] == [
        ("NOT_FOUND", ["input", "id"])
    ]


async def test_a_succeeded_job_cannot_be_canceled(shared_api: ApiClient) -> None:
    job = await run_export(shared_api)
    payload = (await shared_api.execute(CANCEL, {"id": job["id"]}))["cancelExport"]
    assert payload["exportJob"] is None
    [error] = payload["userErrors"]
    assert (error["code"], error["field"]) == ("FAILED_PRECONDITION", ["input", "id"])
    assert "already SUCCEEDED" in error["message"]
    after = (await shared_api.execute(JOB, {"id": job["id"]}))["exportJob"]
    assert after["status"] == "SUCCEEDED"
    assert [stored(a) for a in after["artifacts"]] == [stored(a) for a in job["artifacts"]]
    await download(shared_api, after["artifacts"][0])


async def test_a_failed_job_that_asked_lists_and_serves_its_partial_file(
    seed: Seed, tmp_path: Path
) -> None:
    # Every job runs past a time limit this short: it fails after its first batch.
    settings = settings_for(copy_seed(seed, tmp_path), job_timeout_seconds=1e-6)
    async with running_app(settings, seed.keys) as api:
        created = await create_job(api, keepPartial=True)
        assert created["keepPartial"] is True
        job = await finished(api, created["id"])
        assert job["status"] == "FAILED" and "time limit" in job["reason"]
        [artifact] = job["artifacts"]
        assert artifact["partial"] is True and ".partial." in artifact["filename"]
        content = gzip.decompress(await download(api, artifact)).decode()
        assert (
            int(artifact["rowCount"])
            == int(job["progress"]["rowsWritten"])
            == len(content.splitlines()[1:])
            > 0
        )
        plain = await finished(api, (await create_job(api))["id"])  # did not ask: no files
        assert plain["status"] == "FAILED" and plain["artifacts"] == []
