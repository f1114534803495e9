"""Alembic, configured in code so that the installed package migrates itself."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from app.config import Settings
from app.db.engine import _ensure_sqlite_dir

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", settings.sync_database_url.replace("%", "%%"))
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    _ensure_sqlite_dir(settings.sync_database_url)
    command.upgrade(alembic_config(settings), revision)
