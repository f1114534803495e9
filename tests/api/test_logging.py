"""Quiet, useful logs: a client's mistake is one line at INFO without a traceback; only an
unexpected failure logs a traceback, once, with the request id the client saw. In JSON, every
line written while a request is served carries its id, the access line included."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from app import logs
from app.domain.exports import queries
from tests.helpers.inprocess import ApiClient

JOB = "query($id: ID!) { exportJob(id: $id) { id } }"


async def test_a_client_error_is_one_line_without_a_traceback(
    idle_api: ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = await idle_api.post("{ exportJobs(first: 100000) { totalCount } }", key=None)
    request_id = response.headers["x-request-id"]
    mine = [r for r in caplog.records if request_id in r.getMessage()]
    assert [(r.levelno, r.exc_info) for r in mine] == [(logging.INFO, None)]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_an_unexpected_failure_logs_one_traceback_with_the_request_id(
    idle_api: ApiClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database is on fire")

    monkeypatch.setattr(queries, "get_export", broken)
    response = await idle_api.post(JOB, {"id": "exp_" + "0" * 32})
    request_id = response.headers["x-request-id"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and request_id in errors[0].getMessage()
    assert errors[0].exc_info is not None and "on fire" in str(errors[0].exc_info[1])


@contextlib.contextmanager
def json_lines() -> Iterator[list[dict[str, Any]]]:
    """Every line the process logs meanwhile, as the gateway writes them (GATEWAY_LOG_FORMAT=
    json), parsed back."""
    stream = io.StringIO()
    handler = logs.handler("json", stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    parsed: list[dict[str, Any]] = []
    try:
        yield parsed
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        parsed.extend(json.loads(line) for line in stream.getvalue().splitlines())


async def test_json_lines_carry_the_request_id_access_line_included(
    idle_api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database is on fire")

    monkeypatch.setattr(queries, "get_export", broken)
    with json_lines() as lines:
        response = await idle_api.post(
            "query OneJob($id: ID!) { exportJob(id: $id) { id } }", {"id": "exp_" + "0" * 32}
        )
    request_id = response.headers["x-request-id"]
    [access] = [line for line in lines if line["logger"] == "gateway.access"]
    assert access["request_id"] == request_id
    assert (access["method"], access["path"], access["status"]) == ("POST", "/graphql", 200)
    assert access["operation"] == "OneJob" and access["operation_type"] == "query"
    assert access["duration_ms"] >= 0 and access["client"]
    assert access["level"] == "INFO" and access["time"].endswith("Z")
    # The resolver's failure, logged deep inside GraphQL, carries the same id.
    [error] = [line for line in lines if line["level"] == "ERROR"]
    assert error["request_id"] == request_id
    assert "on fire" in error["exception"]
    served = [line for line in lines if line["logger"] != "httpx"]  # the test's client
    assert all(line["request_id"] == request_id for line in served)


async def test_a_refused_request_has_its_access_line_too(idle_api: ApiClient) -> None:
    with json_lines() as lines:
        response = await idle_api.http.post(
            "/graphql", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    [access] = [line for line in lines if line["logger"] == "gateway.access"]
    assert access["status"] == 400 and access["request_id"] == response.headers["x-request-id"]
    assert "operation" not in access  # GraphQL never ran
