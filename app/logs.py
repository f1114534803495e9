"""One log format for every line a process writes (the app's, uvicorn's, Dramatiq's, the
access log): JSON objects, one a line, or plain text on a terminal (`GATEWAY_LOG_FORMAT`).

Every line says where it comes from: `request_id` while a request is served (set by
`app.web.request_id`), `job_id` while a worker runs a job (set by `workers.actors`), and
`trace_id`/`span_id` while a span is current (tracing on). Those come from context variables,
read by a filter on the handler, so no call site has to pass them."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
import time
from collections.abc import Iterator
from typing import Any, Literal, TextIO

from app import tracing

LogFormat = Literal["auto", "json", "text"]

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
job_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("job_id", default=None)
# What a request learns while it is served and its access line reports (the GraphQL operation).
request_notes_var: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "request_notes", default=None
)

CONTEXT_FIELDS = ("request_id", "job_id", "trace_id", "span_id")
# What every LogRecord has: anything else on a record was passed as `extra` and is printed
# (but uvicorn's copy of its message with terminal colours).
_STANDARD = set(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "color_message",
    *CONTEXT_FIELDS,
}
# Chatty at INFO about their own set-up: their warnings still show.
QUIETER_LOGGERS = ("alembic.runtime.plugins",)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s"


class ContextFilter(logging.Filter):
    """Adds the request id, job id and trace ids current where the line was logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.job_id = job_id_var.get()
        ids = tracing.current_ids()
        record.trace_id, record.span_id = ids if ids is not None else (None, None)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the context
    fields that are set, the record's `extra` fields, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _iso_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The plain text of a terminal, the request or job id in brackets when there is one."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        ids = [
            f"{name}={value}"
            for name in ("request_id", "job_id")
            if (value := getattr(record, name, None)) is not None
        ]
        record.context = f" [{' '.join(ids)}]" if ids else ""
        return super().format(record)


def _iso_time(created: float) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{seconds}.{int(created % 1 * 1000):03d}Z"


def resolved_format(wanted: LogFormat, stream: TextIO) -> Literal["json", "text"]:
    if wanted != "auto":
        return wanted
    isatty = getattr(stream, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


def handler(wanted: LogFormat, stream: TextIO | None = None) -> logging.Handler:
    """A handler writing `stream` (standard error) in the wanted format, with the context."""
    stream = stream or sys.stderr
    result = logging.StreamHandler(stream)
    result.addFilter(ContextFilter())
    kind = resolved_format(wanted, stream)
    result.setFormatter(JsonFormatter() if kind == "json" else TextFormatter())
    return result


# Libraries that set up handlers of their own: their lines go through the root's instead.
ADOPTED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "dramatiq")


def configure(wanted: LogFormat, level: int | str = logging.INFO) -> None:
    """Route every logger of this process through one handler on the root logger."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(wanted))
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name in ADOPTED_LOGGERS:
        adopted = logging.getLogger(name)
        for old in list(adopted.handlers):
            adopted.removeHandler(old)
        adopted.propagate = True
    for name in QUIETER_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


@contextlib.contextmanager
def job_context(job_id: str) -> Iterator[None]:
    """Lines logged inside carry `job_id`."""
    token = job_id_var.set(job_id)
    try:
        yield
    finally:
        job_id_var.reset(token)


def note(**fields: Any) -> None:
    """Add fields to the access line of the request being served (nothing outside one)."""
    notes = request_notes_var.get()
    if notes is not None:
        notes.update(fields)
