"""The browser pages built from frontend/: the dashboard and GraphiQL load only the gateway's
own files (so they work offline), hashed assets are cached for good, and a checkout whose
bundle was not built answers a 503 that says how to build it, never a crash."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.api.helpers import WithoutLifespan
from workers.broker import broker


def client_for(settings: Settings, bundle_dir: Path | None = None) -> Iterator[TestClient]:
    with TestClient(WithoutLifespan(create_app(settings, bundle_dir))) as client:
        yield client
    broker.flush_all()


@pytest.fixture
def gateway(settings: Settings) -> Iterator[TestClient]:
    yield from client_for(settings)


@pytest.fixture
def unbuilt(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    yield from client_for(settings, tmp_path / "never-built")


def test_the_dashboard_loads_only_its_own_assets(gateway: TestClient) -> None:
    page = gateway.get("/dashboard")
    assert page.status_code == 200 and '<div id="app">' in page.text
    assert page.headers["cache-control"] == "no-cache"
    sources = re.findall(r'(?:src|href)="(?!data:)([^"]+)"', page.text)  # data: is inline
    assert any(s.endswith(".js") for s in sources) and any(s.endswith(".css") for s in sources)
    assert all(s.startswith("/ui/assets/") for s in sources), sources
    for source in sources:
        asset = gateway.get(source)
        assert asset.status_code == 200, source
        assert "immutable" in asset.headers["cache-control"]
        # Nothing fetched from elsewhere: no fonts, stylesheets or scripts off the gateway.
        assert not re.search(r"@import\s+url\(|url\(\s*['\"]?https?://", asset.text), source


def test_unknown_assets_are_404(gateway: TestClient) -> None:
    assert gateway.get("/ui/assets/nothing-here.js").status_code == 404


def test_an_unbuilt_bundle_is_a_503_that_says_how_to_build_it(unbuilt: TestClient) -> None:
    for response in (
        unbuilt.get("/dashboard"),
        unbuilt.get("/graphql", headers={"Accept": "text/html"}),
        unbuilt.get("/ui/assets/dashboard.js"),
    ):
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("text/plain")
        assert "make frontend" in response.text
    # The API itself does not need the pages.
    api = unbuilt.post("/graphql", json={"query": "{ __typename }"})
    assert api.status_code == 200 and api.json()["data"] == {"__typename": "Query"}
