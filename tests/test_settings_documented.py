"""Every setting is in the README's configuration table, under a name it is read by."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import AliasChoices

from app.config import Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def environment_names(field_name: str) -> list[str]:
    alias = Settings.model_fields[field_name].validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    prefix = str(Settings.model_config.get("env_prefix", ""))
    return [f"{prefix}{field_name}".upper()]


def configuration_table() -> str:
    text = README.read_text()
    start = text.index("\n## Configuration\n")
    return text[start : text.index("\n## ", start + 1)]


def test_every_setting_is_in_the_readme() -> None:
    table = configuration_table()
    missing = [
        environment_names(name)[0]
        for name in Settings.model_fields
        if not any(f"`{env}`" in table for env in environment_names(name))
    ]
    assert missing == [], f"add these to the README's Configuration table: {missing}"


def test_names_are_read_from_the_environment_as_documented(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The check above names the variables the way pydantic-settings reads them."""
    assert environment_names("database_url") == ["DATABASE_URL", "GATEWAY_DATABASE_URL"]
    monkeypatch.setenv(environment_names("log_format")[0], "json")
    monkeypatch.setenv(environment_names("database_url")[0], "sqlite:///elsewhere.db")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.log_format, settings.database_url) == ("json", "sqlite:///elsewhere.db")
