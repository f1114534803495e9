"""Exports with segments and artifacts in an S3-compatible bucket (a moto server): the
artifact lands in the bucket, and its download URL is the store's presigned URL (the default)
or the gateway's, which streams the file from the bucket (proxy); either gives the bytes the
API's sha256 names. Deleting the export deletes its objects. Imports keep their uploads and
reports in the bucket too."""

from __future__ import annotations

import asyncio
import csv
import gzip
import hashlib
import io
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from app.config import Settings
from app.db.models import ExportArtifactRow
from app.domain.runtime import NO_EFFECTS, Runtime
from app.storage import signed_path
from tests.api.helpers import DELETE, download, idle_app, run_export
from tests.api.test_imports_api import CREATE_UPLOAD, START, lines
from tests.api.test_imports_api import finished as finished_import
from tests.helpers.inprocess import TRADES, ApiClient, Seed, copy_seed, running_app, settings_for
from tests.helpers.object_store import ObjectStore, object_store_in_env, upload_storage

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def store() -> Iterator[ObjectStore]:
    with object_store_in_env() as started:
        yield started


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["presigned", "proxy"])
async def gateway(
    request: pytest.FixtureRequest,
    store: ObjectStore,
    seed: Seed,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[ApiClient, Settings, str]]:
    """The app with its workers, its catalog's segments moved into the bucket."""
    mode = str(request.param)
    data_dir = copy_seed(seed, tmp_path_factory.mktemp(mode))
    prefix = f"api-{mode}"
    upload_storage(store, data_dir / "storage", prefix)
    settings = settings_for(
        data_dir,
        storage_url=f"s3://{store.bucket}/{prefix}",
        storage_s3_endpoint_url=store.endpoint_url,
        storage_downloads=mode,
    )
    async with running_app(settings, seed.keys) as client:
        yield client, settings, prefix


def _artifact_id(settings: Settings, job_id: str) -> str:
    runtime = Runtime.create(settings, NO_EFFECTS)
    try:
        with runtime.sync_sessions() as session:
            return str(
                session.scalars(
                    select(ExportArtifactRow.id).where(ExportArtifactRow.job_id == job_id)
                ).one()
            )
    finally:
        runtime.sync_sessions.kw["bind"].dispose()


def _rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(gzip.decompress(content).decode())))


async def test_an_artifact_lands_in_the_bucket_and_its_url_downloads_it(
    gateway: tuple[ApiClient, Settings, str], store: ObjectStore
) -> None:
    api, settings, prefix = gateway
    job = await run_export(api, format="CSV", compression="GZIP")
    [artifact] = job["artifacts"]
    [key] = store.keys(f"{prefix}/artifacts/{job['id']}/")
    assert key.endswith("/" + artifact["filename"])
    assert not (settings.storage_dir / "artifacts").exists()  # nothing on local disk
    url = httpx.URL(artifact["url"])
    if settings.storage_downloads == "presigned":
        assert str(url).startswith(f"{store.endpoint_url}/{store.bucket}/{key}?")
        assert "X-Amz-Signature" in url.params
        assert int(url.params["X-Amz-Expires"]) == pytest.approx(settings.download_ttl_seconds, 5)
        async with httpx.AsyncClient() as http:  # straight from the store, no gateway
            response = await http.get(str(url))
        assert response.status_code == 200, response.text
        content = response.content
        assert hashlib.sha256(content).hexdigest() == artifact["sha256"]
        assert len(content) == int(artifact["byteSize"])
        assert artifact["filename"] in response.headers["content-disposition"]
        assert response.headers["content-type"] == artifact["contentType"]
    else:
        assert url.host == "gateway.test" and url.path.startswith("/downloads/art_")
        content = await download(api, artifact)  # length, type, ETag, name, sha256
    rows = _rows(content)
    assert len(rows) == int(artifact["rowCount"]) == int(job["progress"]["rowsWritten"]) > 0
    assert rows == sorted(rows, key=lambda row: int(row["collection_timestamp_ns"]))


async def test_the_gateways_link_leads_to_the_same_bytes_in_either_mode(
    gateway: tuple[ApiClient, Settings, str], store: ObjectStore
) -> None:
    """Links in notifications are the gateway's: presigned mode redirects them to the store."""
    api, settings, _prefix = gateway
    job = await run_export(api, format="PARQUET")
    [artifact] = job["artifacts"]
    path, _expires = signed_path(settings, _artifact_id(settings, job["id"]), artifact["filename"])
    response = await api.http.get(path)
    if settings.storage_downloads == "presigned":
        assert response.status_code == 307
        async with httpx.AsyncClient() as http:
            response = await http.get(response.headers["location"])
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == artifact["sha256"]


async def test_deleting_an_export_deletes_its_objects(
    gateway: tuple[ApiClient, Settings, str], store: ObjectStore
) -> None:
    api, _settings, prefix = gateway
    job = await run_export(api, format="CSV", split={"maxRowsPerFile": 100})
    assert len(store.keys(f"{prefix}/artifacts/{job['id']}/")) == len(job["artifacts"]) > 2
    payload = (await api.execute(DELETE, {"id": job["id"]}))["deleteExport"]
    assert payload["userErrors"] == []
    assert store.keys(f"{prefix}/artifacts/{job['id']}/") == []


async def test_an_upload_and_its_report_of_rejected_records_live_in_the_bucket(
    gateway: tuple[ApiClient, Settings, str], store: ObjectStore
) -> None:
    """Any gateway takes the PUT and any worker reads it: the upload goes to the bucket, the
    import's segment and its report too, and the upload is removed once imported."""
    api, settings, prefix = gateway
    created = await api.execute(CREATE_UPLOAD, {"input": {"filename": "mixed.jsonl"}})
    upload = created["createImportUpload"]["upload"]
    content = lines(50, {2: "nope"})
    put = await api.http.put(upload["url"], content=content)
    assert put.status_code == 201, put.text
    assert store.keys(f"{prefix}/uploads/{upload['id']}/") == [
        f"{prefix}/uploads/{upload['id']}/mixed.jsonl"
    ]
    started = await api.execute(
        START,
        {"input": {"uploadId": upload["id"], "datastreamId": str(TRADES.id), "onError": "SKIP"}},
    )
    job = await finished_import(api, started["startImport"]["importJob"]["id"])
    assert job["status"] == "SUCCEEDED", job
    assert (int(job["progress"]["recordsStored"]), int(job["progress"]["recordsRejected"])) == (
        49,
        1,
    )
    deadline = time.monotonic() + 10  # the worker removes the upload just after it announces
    while store.keys(f"{prefix}/uploads/{upload['id']}/"):
        assert time.monotonic() < deadline, "the upload was not removed"
        await asyncio.sleep(0.05)
    # One folder per attempt (a worker that lost the job never touches the new owner's).
    [report_key] = store.keys(f"{prefix}/imports/{job['id']}/")
    assert report_key.startswith(f"{prefix}/imports/{job['id']}/")
    assert report_key.endswith("/rejected.csv") and report_key.count("/") == 4
    assert not (settings.storage_dir / "uploads").exists()
    report = job["rejectedRecords"]
    if settings.storage_downloads == "presigned":
        assert report["url"].startswith(f"{store.endpoint_url}/{store.bucket}/")
        async with httpx.AsyncClient() as http:
            response = await http.get(report["url"])
    else:
        response = await api.http.get(report["url"])
    assert response.status_code == 200 and len(response.content) == int(report["byteSize"])
    assert f"{job['id']}-rejected.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
    assert [(r["line"], r["record"]) for r in rows] == [("3", "nope")]


async def test_readiness_checks_that_the_bucket_exists(
    settings: Settings, seed: Seed, store: ObjectStore
) -> None:
    for bucket, ready in ((store.bucket, True), ("no-such-bucket", False)):
        in_bucket = settings.model_copy(
            update={
                "storage_url": f"s3://{bucket}/health",
                "storage_s3_endpoint_url": store.endpoint_url,
            }
        )
        async with idle_app(in_bucket, seed.keys) as api:
            response = await api.http.get("/readyz")
        assert response.json()["checks"]["storage"]["ok"] is ready, response.json()
        assert response.status_code == (200 if ready else 503)


async def test_range_and_head_requests_get_the_right_bytes(
    gateway: tuple[ApiClient, Settings, str],
) -> None:
    """Through the gateway (proxy) or straight from the store (presigned): a byte range, the
    last bytes, a range past the end, and HEAD, as the local disk serves them."""
    api, settings, _prefix = gateway
    job = await run_export(api, format="PARQUET")
    [artifact] = job["artifacts"]
    async with httpx.AsyncClient() as store_http:
        http = api.http if settings.storage_downloads == "proxy" else store_http
        whole = (await http.get(artifact["url"])).content
        size = len(whole)
        assert size == int(artifact["byteSize"])
        for header, start, stop in (("bytes=4-99", 4, 100), ("bytes=-10", size - 10, size)):
            part = await http.get(artifact["url"], headers={"Range": header})
            assert part.status_code == 206, header
            assert part.content == whole[start:stop]
            assert part.headers["content-range"] == f"bytes {start}-{stop - 1}/{size}"
        past = await http.get(artifact["url"], headers={"Range": f"bytes={size}-"})
        assert past.status_code == 416
        if settings.storage_downloads == "proxy":  # a presigned URL is signed for GET alone
            head = await http.head(artifact["url"])
            assert head.status_code == 200 and head.content == b""
            assert int(head.headers["content-length"]) == size
            assert head.headers["etag"] == f'"{artifact["sha256"]}"'
