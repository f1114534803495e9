"""The one log format of every process (app.logs): JSON or text, uvicorn's and Dramatiq's
lines through the same handler, and the job id and trace ids where they apply."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from app import logs, tracing
from tests.helpers.tracing import memory_spans
from workers.actors import running


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """`logs.configure` replaces the root's handlers (pytest's too): put them back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    adopted = {name: logging.getLogger(name) for name in logs.ADOPTED_LOGGERS}
    before = {name: (list(lg.handlers), lg.propagate) for name, lg in adopted.items()}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, (old, propagate) in before.items():
        adopted[name].handlers[:] = old
        adopted[name].propagate = propagate


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_is_text_on_a_terminal_and_json_elsewhere() -> None:
    assert logs.resolved_format("auto", Terminal()) == "text"
    assert logs.resolved_format("auto", io.StringIO()) == "json"
    assert logs.resolved_format("json", Terminal()) == "json"


def test_uvicorn_and_dramatiq_lines_go_through_the_gateways_handler(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    uvicorn = logging.getLogger("uvicorn.error")
    uvicorn.addHandler(logging.StreamHandler())  # what uvicorn's own configuration does
    uvicorn.propagate = False
    logs.configure("json")
    uvicorn.info("Started server process [%d]", 42)
    logging.getLogger("dramatiq.worker.Worker").warning("a worker line")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(line["logger"], line["message"]) for line in lines] == [
        ("uvicorn.error", "Started server process [42]"),
        ("dramatiq.worker.Worker", "a worker line"),
    ]


def test_a_workers_lines_carry_the_job_id_and_the_trace() -> None:
    memory_spans()  # tracing on in this process
    stream = io.StringIO()
    log = logging.getLogger("test.worker")
    log.addHandler(logs.handler("json", stream))
    log.setLevel(logging.INFO)
    with running("run_export_job", "exp_1"):
        log.info("inside the job")
        ids = tracing.current_ids()
    log.info("after it")
    log.handlers.clear()
    inside, after = (json.loads(line) for line in stream.getvalue().splitlines())
    assert ids is not None
    assert (inside["job_id"], inside["trace_id"], inside["span_id"]) == ("exp_1", *ids)
    assert "job_id" not in after and "trace_id" not in after


def test_text_lines_name_the_request() -> None:
    stream = io.StringIO()
    log = logging.getLogger("test.text")
    log.addHandler(logs.handler("text", stream))
    log.setLevel(logging.INFO)
    token = logs.request_id_var.set("req-1")
    try:
        log.info("served")
    finally:
        logs.request_id_var.reset(token)
        log.handlers.clear()
    assert stream.getvalue().rstrip().endswith("INFO test.text [request_id=req-1]: served")
