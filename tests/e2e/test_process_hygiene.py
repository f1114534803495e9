"""A test run leaves no process behind: helpers that start gateways and workers stop them
however the test ends."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.helpers.processes import (
    Gateway,
    gateway_env,
    run_cli,
    stopping_started_processes,
)

pytestmark = pytest.mark.e2e


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("ending", [AssertionError, KeyboardInterrupt])
def test_processes_are_stopped_when_the_test_fails_or_is_interrupted(
    tmp_path: Path, ending: type[BaseException]
) -> None:
    env = gateway_env(tmp_path)
    run_cli(env, "migrate")
    gateways: list[Gateway] = []
    with pytest.raises(ending), stopping_started_processes():
        gateways.append(Gateway(env, tmp_path / "first.log").start())
        # A test that restarts the gateway replaces it: the first one must not be forgotten.
        gateways.append(Gateway(env, tmp_path / "second.log").start())
        assert all(_listening(g.port) for g in gateways)
        raise ending("the test ends badly")
    for gateway in gateways:
        assert gateway.process is not None and gateway.process.poll() is not None
        assert not _listening(gateway.port)
