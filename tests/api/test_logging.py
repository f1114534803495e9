"""Quiet, useful logs: a client's mistake is one line at INFO without a traceback; only an
unexpected failure logs a traceback, once, with the request id the client saw."""

from __future__ import annotations

import logging

import pytest

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
