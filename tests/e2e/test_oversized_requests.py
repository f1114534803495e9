"""Against a real server: an oversized body is refused from its Content-Length, without the
server waiting for (or reading) the body, while /healthz keeps answering; an oversized header
is refused too. (No timings are asserted: a socket timeout only says the server never
answered.)"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.processes import Gateway, gateway_env, run_cli, stopping_started_processes

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    folder = tmp_path_factory.mktemp("oversized")
    env = gateway_env(folder)
    run_cli(env, "migrate")
    with stopping_started_processes():
        yield Gateway(env, Path(folder) / "gateway.log").start()


def status_line(sock: socket.socket) -> str:
    received = b""
    while b"\r\n" not in received:
        chunk = sock.recv(4096)
        if not chunk:
            break
        received += chunk
    return received.split(b"\r\n", 1)[0].decode()


def test_a_huge_body_is_refused_before_it_is_sent_and_health_stays_up(server: Gateway) -> None:
    declared = 50 * 1024 * 1024
    sockets = []
    try:
        for _ in range(4):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(
                b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {declared}\r\n\r\n".encode()
                + b"{" * 1024  # a little of the body: the rest is never sent
            )
            sockets.append(sock)
        # Each answer comes while its body is still 50 MB short.
        assert [status_line(s).split()[1] for s in sockets] == ["413"] * 4
        assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200
    finally:
        for sock in sockets:
            sock.close()


def test_a_huge_header_is_refused(server: Gateway) -> None:
    response = httpx.post(
        server.url + "/graphql",
        json={"query": "{ __typename }"},
        headers={"X-Api-Key": "k" * 1_000_000},
        timeout=10,
    )
    assert response.status_code in (400, 431)
    assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200
