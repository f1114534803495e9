"""The generated operations over a transport that retries what the gateway refused without
running it, and raises typed errors (`errors`) instead of the generated generic ones."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from export_gateway_client._generated.client import GeneratedClient
from export_gateway_client.errors import (
    ConnectionFailed,
    GatewayError,
    Problem,
    ProtocolError,
    error_for,
    from_graphql_errors,
)
from export_gateway_client.retry import RETRYABLE_CODES, RetryPolicy, parse_retry_after

Sleep = Callable[[float], Awaitable[None]]
_HTTP_CODES = {429: "RATE_LIMITED", 503: "UNAVAILABLE"}


async def send_with_retries(
    send: Callable[[], Awaitable[httpx.Response]],
    policy: RetryPolicy,
    sleep: Sleep,
    *,
    graphql: bool = True,
) -> httpx.Response:
    """`send()` until its answer is not a refusal worth retrying, or the attempts run out
    (then the last answer, for the caller to raise from). `graphql`: the answer is a GraphQL
    response whose errors count (not a file being downloaded, judged by its status alone)."""
    attempt = 0
    while True:
        attempt += 1
        try:
            response = await send()
        except httpx.ConnectError as exc:  # nothing was sent: safe for any operation
            if attempt >= policy.max_attempts:
                problem = Problem("CONNECTION_FAILED", f"cannot reach the gateway: {exc}")
                raise ConnectionFailed([problem]) from exc
            await sleep(policy.delay(attempt))
            continue
        wait = retry_wait(response, graphql=graphql)
        if wait is None or attempt >= policy.max_attempts:
            return response
        await response.aclose()
        await sleep(policy.delay(attempt, wait[1]))


def retry_wait(
    response: httpx.Response, *, graphql: bool = True
) -> tuple[str, float | None] | None:
    """(code, seconds the gateway asked to wait or None) when the answer is a refusal to retry:
    HTTP 429 or 503, or a GraphQL error coded RATE_LIMITED or UNAVAILABLE. Else None."""
    header = parse_retry_after(response.headers.get("retry-after"))
    code = _HTTP_CODES.get(response.status_code)
    asked: float | None = None
    if graphql:
        first = _first_error(_body(response))
        if first is not None:
            extensions = first.get("extensions") or {}
            code = (
                str(extensions.get("code")) if extensions.get("code") in RETRYABLE_CODES else code
            )
            value = extensions.get("retryAfter")
            if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
                asked = float(value)
    if code is None:
        return None
    return code, asked if asked is not None else header


def raise_for_response(response: httpx.Response) -> dict[str, Any]:
    """The `data` of a GraphQL answer, or the typed error it carries."""
    body = _body(response)
    header = parse_retry_after(response.headers.get("retry-after"))
    if isinstance(body, dict) and body.get("errors"):
        raise from_graphql_errors(
            body["errors"], status_code=response.status_code, retry_after=header
        )
    if not 200 <= response.status_code < 300:
        code = _HTTP_CODES.get(response.status_code, "PROTOCOL_ERROR")
        problem = Problem(code, f"HTTP {response.status_code}: {response.text[:200]}")
        raise error_for([problem], status_code=response.status_code, retry_after=header)
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        problem = Problem("PROTOCOL_ERROR", f"not a GraphQL answer: {response.text[:200]}")
        raise ProtocolError([problem], status_code=response.status_code)
    data: dict[str, Any] = body["data"]
    return data


class Api(GeneratedClient):
    """Every generated operation, sent with the API key, retried by `policy`, its failures
    raised as `GatewayError`s."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        http_client: httpx.AsyncClient,
        ws_url: str,
        policy: RetryPolicy,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(
            url=url,
            headers={"X-Api-Key": api_key},
            # httpx's post takes its options by keyword only; the generated protocol does not say
            http_client=http_client,  # type: ignore[arg-type]
            ws_url=ws_url,
            ws_connection_init_payload={"apiKey": api_key},
        )
        self.policy = policy
        self.sleep = sleep
        self.api_key = api_key

    async def execute(
        self,
        query: str,
        operation_name: str | None = None,
        variables: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = {"X-Api-Key": self.api_key, **kwargs.pop("headers", {})}

        async def send() -> httpx.Response:
            response = await super(Api, self).execute(
                query, operation_name, variables, headers=headers, **kwargs
            )
            assert isinstance(response, httpx.Response)
            return response

        return await send_with_retries(send, self.policy, self.sleep)

    def get_data(self, response: Any) -> dict[str, Any]:
        assert isinstance(response, httpx.Response)
        return raise_for_response(response)

    async def _handle_ws_message(
        self, message: Any, websocket: Any, expected_type: Any = None
    ) -> dict[str, Any] | None:
        """The generated handler drops the `errors` of a `next` message and raises a generic
        error for an `error` message: both become typed errors here."""
        try:
            parsed = json.loads(message)
        except (TypeError, ValueError):
            parsed = None
        if isinstance(parsed, dict):
            payload = parsed.get("payload")
            if parsed.get("type") == "next" and isinstance(payload, dict) and payload.get("errors"):
                raise from_graphql_errors(payload["errors"])
            if parsed.get("type") == "error" and isinstance(payload, list):
                raise from_graphql_errors(payload)
        result: dict[str, Any] | None = await super()._handle_ws_message(
            message, websocket, expected_type
        )
        return result


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _first_error(body: Any) -> dict[str, Any] | None:
    if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
        first = body["errors"][0]
        return first if isinstance(first, dict) else None
    return None


__all__ = ["Api", "GatewayError", "raise_for_response", "retry_wait", "send_with_retries"]
