"""Fixtures shared by every layer: the in-process store, runtime and app; the generated
records and a real gateway per mode for the end-to-end tests; and the guarantee that no
process outlives the run."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.config import Settings
from app.domain.runtime import Runtime
from tests.helpers.data import Dataset, write_dataset
from tests.helpers.environments import GatewayHandle, environment
from tests.helpers.inprocess import (
    ApiClient,
    RecordingEffects,
    Seed,
    build_seed,
    copy_seed,
    running_app,
    settings_for,
)
from tests.helpers.own_services import RedisServer, own_redis_server
from tests.helpers.processes import stop_started_since
from tests.helpers.receivers import smtp_inbox


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of the test's own, which it may kill and restart (the machine's stays up)."""
    with own_redis_server(tmp_path / "redis") as server:
        yield server


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return write_dataset(tmp_path_factory.mktemp("records"))


@pytest.fixture(scope="session", params=["embedded", "distributed"])
def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, dataset: Dataset
) -> Iterator[GatewayHandle]:
    """The whole end-to-end suite runs once per mode, with a real SMTP server to send email to."""
    data_dir = tmp_path_factory.mktemp(f"gateway-{request.param}")
    with (
        smtp_inbox() as inbox,
        environment(
            request.param,
            data_dir,
            dataset,
            GATEWAY_SMTP_HOST="127.0.0.1",
            GATEWAY_SMTP_PORT=str(inbox.port),
            GATEWAY_SMTP_SECURITY="NONE",
        ) as handle,
    ):
        handle.inbox = inbox
        yield handle


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The last line of defence (a fixture that never reached its teardown): stop whatever
    is still running, and fail the run if anything was."""
    leaked = stop_started_since(0)
    if leaked:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nprocesses still running at the end of the session (stopped): {leaked}")


# -- the in-process layer --------------------------------------------------------------------


@pytest.fixture(scope="session")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    return build_seed(tmp_path_factory.mktemp("seed"))


@pytest.fixture
def settings(seed: Seed, tmp_path: Path) -> Settings:
    """A fresh copy of the seeded store, in embedded mode."""
    return settings_for(copy_seed(seed, tmp_path / "data"))


@pytest.fixture
def effects() -> RecordingEffects:
    return RecordingEffects()


@pytest.fixture
async def runtime(settings: Settings, effects: RecordingEffects) -> AsyncIterator[Runtime]:
    runtime = Runtime.create(settings, effects.effects)
    yield runtime
    await runtime.dispose()


@pytest.fixture
async def api(settings: Settings, seed: Seed) -> AsyncIterator[ApiClient]:
    """The real app in this process, called over HTTP through the ASGI transport."""
    async with running_app(settings, seed.keys) as client:
        yield client
