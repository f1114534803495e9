"""Fixtures of the in-process API tests: the app without workers (jobs stay QUEUED), and one
app with its embedded workers shared by the tests of a module that only read files back."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from app.config import Settings
from tests.api.helpers import idle_app
from tests.helpers.inprocess import ApiClient, Seed, copy_seed, running_app, settings_for


@pytest.fixture
async def idle_api(settings: Settings, seed: Seed) -> AsyncIterator[ApiClient]:
    """The real app on a fresh copy of the seed, without its workers: nothing runs a job."""
    async with idle_app(settings, seed.keys) as client:
        yield client


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_api(
    seed: Seed, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ApiClient]:
    """The real app with its embedded workers, one per module: stopping the worker threads
    takes about two seconds, so modules whose tests only create jobs and read their files
    share one (their tests run in the module's event loop and never count jobs)."""
    settings = settings_for(copy_seed(seed, tmp_path_factory.mktemp("shared")))
    async with running_app(settings, seed.keys) as client:
        yield client
