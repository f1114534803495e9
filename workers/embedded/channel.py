"""What travels over the socket between an embedded gateway and its worker process: one JSON
object per line. The gateway sends wake-ups (`{"wake": "export", "id": "exp_..."}`, with `"trace":
{"traceparent": ...}` when tracing is on), the worker
sends the events its jobs publish (`{"event": {...JobEvent...}}`).

A line lost with a process that died only delays things: the job row is the truth, and the
gateway re-wakes unfinished jobs when it restarts the worker and in every sweep."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

from app.domain.runtime import JobEvent

WakeKind = Literal["export", "import", "delivery"]
WAKE_KINDS: tuple[WakeKind, ...] = ("export", "import", "delivery")


@dataclass(frozen=True)
class Wake:
    kind: WakeKind
    job_id: str
    trace: dict[str, str]  # the waker's trace context (W3C headers); empty without tracing


def wake_line(kind: WakeKind, job_id: str, trace: dict[str, str] | None = None) -> bytes:
    message: dict[str, object] = {"wake": kind, "id": job_id}
    if trace:
        message["trace"] = trace
    return (json.dumps(message) + "\n").encode()


def event_line(event: JobEvent) -> bytes:
    return (json.dumps({"event": asdict(event)}) + "\n").encode()


def parse_wake(line: bytes) -> Wake | None:
    """A wake-up, or None for a line that is not one (skipped, never fatal)."""
    try:
        message = json.loads(line)
        kind, job_id = message["wake"], message["id"]
        trace = message.get("trace") or {}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if kind not in WAKE_KINDS or not isinstance(job_id, str):
        return None
    if not isinstance(trace, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in trace.items()
    ):
        trace = {}  # a malformed context is dropped, the wake-up kept
    return Wake(kind, job_id, trace)


def parse_event(line: bytes) -> JobEvent | None:
    try:
        return JobEvent(**json.loads(line)["event"])
    except (ValueError, KeyError, TypeError):
        return None
