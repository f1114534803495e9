"""Real clients of a running gateway: GraphQL over HTTP, and graphql-transport-ws
subscriptions over a WebSocket."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
from websockets.sync.client import connect


class GraphQLClient:
    """One connection per request: nothing to close, so nothing leaks from a test."""

    def __init__(self, base_url: str, api_key: str | None) -> None:
        self.base_url = base_url
        self.api_key = api_key

    def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = {"X-Api-Key": self.api_key} if self.api_key else {}
        all_headers.update(headers or {})
        return httpx.post(
            self.base_url + "/graphql",
            json={"query": query, "variables": variables or {}},
            headers=all_headers,
            timeout=60,
        )

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.post(query, variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]


def subscribe(
    base_url: str, api_key: str | None, query: str, variables: dict[str, Any], timeout: float = 120
) -> Iterator[dict[str, Any]]:
    """Yield each graphql-transport-ws message for one subscription (next/error), until complete."""
    ws_url = base_url.replace("http://", "ws://") + "/graphql"
    with connect(ws_url, subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:  # type: ignore[list-item]
        ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"apiKey": api_key} if api_key else {}}
            )
        )
        ack = json.loads(ws.recv(timeout=10))
        assert ack["type"] == "connection_ack", ack
        ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables},
                }
            )
        )
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message["type"] in ("ping",):
                ws.send(json.dumps({"type": "pong"}))
                continue
            if message["type"] == "complete":
                return
            yield message
            if message["type"] == "error":
                return
