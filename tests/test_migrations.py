"""Alembic migrations on both backends: they build exactly the models' schema, and go down
and up again cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.config import Settings
from app.db.engine import make_sync_engine
from app.db.migrate import alembic_config, upgrade
from app.db.models import Base
from tests.helpers.services import require, temporary_database


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield Settings(data_dir=tmp_path)
        return
    require("PostgreSQL", "127.0.0.1", 5432)
    with temporary_database() as url:
        yield Settings(data_dir=tmp_path, database_url=url)


def _differences(settings: Settings) -> list:
    engine = make_sync_engine(settings)
    try:
        with engine.connect() as connection:
            return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))
    finally:
        engine.dispose()


def test_migrations_build_the_models_schema_and_round_trip(settings: Settings) -> None:
    upgrade(settings)
    assert _differences(settings) == []
    command.downgrade(alembic_config(settings), "base")
    upgrade(settings)
    assert _differences(settings) == []
