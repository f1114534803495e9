"""Object storage through real processes, in both modes: `ingest` stores segments in the
bucket (a moto server), an export's artifact goes there too (nothing on local disk), and its
download URL, the store's presigned one (embedded here) or the gateway's streaming it
(distributed here), gives the bytes its sha256 names, read back with the standard library;
`fsck --checksums` finds the catalog and the bucket agree. (Imports through the bucket are
tested in process, tests/api/test_object_storage_api.py.)"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers.data import BINANCE, Dataset
from tests.helpers.environments import GatewayHandle, environment
from tests.helpers.object_store import ObjectStore, object_store
from tests.helpers.operations import download, expected_raw, read_text_rows, run_export
from tests.helpers.processes import run_cli

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def store() -> Iterator[ObjectStore]:
    with object_store() as started:
        yield started


@pytest.fixture(
    scope="module",
    params=[("embedded", "presigned"), ("distributed", "proxy")],
    ids=["embedded-presigned", "distributed-proxy"],
)
def bucket_gateway(
    request: pytest.FixtureRequest,
    store: ObjectStore,
    tmp_path_factory: pytest.TempPathFactory,
    dataset: Dataset,
) -> Iterator[tuple[GatewayHandle, str]]:
    mode, downloads = request.param
    prefix = f"e2e-{mode}"
    with environment(
        mode,
        tmp_path_factory.mktemp(f"bucket-{mode}"),
        dataset,
        workers=1,
        streams=[BINANCE.id],
        **store.env(prefix, downloads),
    ) as handle:
        yield handle, prefix


def test_segments_and_artifacts_live_in_the_bucket_and_download_whole(
    bucket_gateway: tuple[GatewayHandle, str], store: ObjectStore, dataset: Dataset
) -> None:
    gateway, prefix = bucket_gateway
    assert store.keys(f"{prefix}/segments/{BINANCE.id}/")  # `ingest` wrote there
    job = run_export(gateway, BINANCE.id, "raw", "CSV")
    [artifact] = job["artifacts"]
    [key] = store.keys(f"{prefix}/artifacts/")
    assert key.endswith("/" + artifact["filename"])
    local = gateway.data_dir / "storage"
    assert not (local / "segments").exists() and not (local / "artifacts").exists()
    if gateway.env["STORAGE_DOWNLOADS"] == "presigned":
        assert artifact["url"].startswith(f"{store.endpoint_url}/{store.bucket}/{key}?")
        response = httpx.get(artifact["url"], timeout=60)  # from the store itself
        assert response.status_code == 200
        content = response.content
        assert artifact["filename"] in response.headers["content-disposition"]
        assert len(content) == int(artifact["byteSize"])
        assert hashlib.sha256(content).hexdigest() == artifact["sha256"]
    else:
        assert artifact["url"].startswith(gateway.gateway.url + "/downloads/art_")
        content = download(artifact)  # length, ETag, name, type, sha256
    rows = read_text_rows("CSV", content, gzipped=True)
    expected = expected_raw(dataset, BINANCE.id)
    assert [(int(r["collection_timestamp_ns"]), r["data"]) for r in rows] == expected
    report = run_cli(gateway.env, "fsck", "--checksums")  # the CLI walks the bucket too
    assert "the catalog and the storage agree" in report.stdout + report.stderr, report
