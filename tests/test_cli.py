"""The command line's own behaviour: a version, help for every option, and clear refusals
(exit status 2 and one line, never a traceback) for bad options and bad settings."""

from __future__ import annotations

import argparse
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from app import cli, logs, tracing
from app.config import get_settings
from app.db.models import DatastreamRow, ExchangeRow, IngestedFileRow, InstrumentRow, SegmentRow
from app.domain.runtime import NO_EFFECTS, Runtime
from tests.helpers.inprocess import TRADES, Seed, copy_seed, settings_for


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("python -m app 0.")


def test_a_bad_log_level_is_refused_naming_the_choices(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", "--log-level", "nonsense"])
    assert exited.value.code == 2
    assert "invalid choice: 'nonsense'" in capsys.readouterr().err


def test_a_bad_setting_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_PORT", "eighty")
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exited:
            cli.main(["migrate"])
    finally:
        get_settings.cache_clear()
    assert str(exited.value.code).startswith("invalid configuration: GATEWAY_PORT:")


def test_every_option_has_help() -> None:
    parser = cli.build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name, command in commands.choices.items():
        for action in command._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"


def test_every_command_has_help() -> None:
    parser = cli.build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    described = {choice.dest: choice.help for choice in commands._choices_actions}
    assert set(described) == set(commands.choices)
    assert all(described.values()), described


@pytest.fixture
def command_line(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """`main` as a shell runs it, reading fresh settings, without replacing the test process's
    log handlers or ending its tracing."""
    monkeypatch.setattr(logs, "configure", lambda *args, **kwargs: None)
    monkeypatch.setattr(tracing, "shutdown", lambda: None)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def refusal(argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert isinstance(exited.value.code, str), exited.value.code  # a message, exit status 1
    return exited.value.code


def test_a_bad_database_url_is_named(command_line: pytest.MonkeyPatch) -> None:
    command_line.setenv("DATABASE_URL", "localhost:5432")
    assert refusal(["migrate"]).startswith("invalid configuration: DATABASE_URL: not a database")
    command_line.setenv("DATABASE_URL", "mysql://root@localhost/gateway")
    assert "only SQLite and PostgreSQL" in refusal(["migrate"])
    command_line.setenv("DATABASE_URL", "sqlite:///x.db")
    command_line.setenv("BROKER_URL", "kafka://localhost")
    assert refusal(["migrate"]).startswith("invalid configuration: BROKER_URL: use embedded")


def test_an_unreachable_database_is_one_line_without_the_password(
    command_line: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    command_line.setenv("GATEWAY_DATA_DIR", str(tmp_path))
    command_line.setenv("DATABASE_URL", f"postgresql://gateway:secret@127.0.0.1:{closed_port()}/x")
    message = refusal(["migrate"])
    assert message.startswith("the database at postgresql://gateway:***@127.0.0.1:")
    assert "cannot be reached" in message and "secret" not in message


def test_serve_on_a_port_in_use_says_so_before_starting(
    command_line: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    command_line.setenv("GATEWAY_DATA_DIR", str(tmp_path))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        message = refusal(["serve", "--port", str(port)])
    assert message.startswith(f"cannot listen on 127.0.0.1:{port}: the address is in use")
    assert not (tmp_path / "gateway.db").exists()  # nothing was migrated


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_fsck_rebuilds_a_lost_catalog_once_and_says_what_it_could_not(
    seed: Seed,
    tmp_path: Path,
    command_line: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = copy_seed(seed, tmp_path / "data")
    runtime = Runtime.create(settings_for(data), NO_EFFECTS)
    with runtime.sync_sessions() as session:  # the catalog is lost; the files are there
        for table in (IngestedFileRow, SegmentRow, DatastreamRow, InstrumentRow, ExchangeRow):
            session.execute(delete(table))
        session.commit()
    runtime.sync_sessions.kw["bind"].dispose()
    command_line.delenv("GATEWAY_DATABASE_URL", raising=False)
    command_line.delenv("GATEWAY_STORAGE_URL", raising=False)
    command_line.setenv("GATEWAY_DATA_DIR", str(data))
    get_settings.cache_clear()
    try:
        cli.main(["fsck", "--rebuild-catalog"])  # returns: exit status 0
        summary = capsys.readouterr().err
        assert "3 datastreams created" in summary and "total" in summary

        with pytest.raises(SystemExit) as refused:
            cli.main(["fsck", "--rebuild-catalog"])
        assert str(refused.value.code).startswith("refused: the catalog is not empty")

        torn = data / "storage" / "segments" / str(TRADES.id) / "torn.parquet"
        torn.write_bytes(b"PAR1")
        with pytest.raises(SystemExit) as failed:
            cli.main(["fsck", "--rebuild-catalog", "--merge"])
        assert failed.value.code == 1
        listing = capsys.readouterr().err
        assert "0 datastreams created" in listing and "not registered" in listing

        with pytest.raises(SystemExit) as misused:
            cli.main(["fsck", "--merge"])
        assert misused.value.code == 2
    finally:
        get_settings.cache_clear()
