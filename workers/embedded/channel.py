"""What travels over the socket between an embedded gateway and its worker process: one JSON
object per line. The gateway sends wake-ups (`{"wake": "export", "id": "exp_..."}`), the worker
sends the events its jobs publish (`{"event": {...JobEvent...}}`).

A line lost with a process that died only delays things: the job row is the truth, and the
gateway re-wakes unfinished jobs when it restarts the worker and in every sweep."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Literal

from app.domain.runtime import JobEvent

WakeKind = Literal["export", "import", "delivery"]
WAKE_KINDS: tuple[WakeKind, ...] = ("export", "import", "delivery")


def wake_line(kind: WakeKind, job_id: str) -> bytes:
    return (json.dumps({"wake": kind, "id": job_id}) + "\n").encode()


def event_line(event: JobEvent) -> bytes:
    return (json.dumps({"event": asdict(event)}) + "\n").encode()


def parse_wake(line: bytes) -> tuple[WakeKind, str] | None:
    """A wake-up, or None for a line that is not one (skipped, never fatal)."""
    try:
        message = json.loads(line)
        kind, job_id = message["wake"], message["id"]
    except (ValueError, KeyError, TypeError):
        return None
    if kind not in WAKE_KINDS or not isinstance(job_id, str):
        return None
    return kind, job_id


def parse_event(line: bytes) -> JobEvent | None:
    try:
        return JobEvent(**json.loads(line)["event"])
    except (ValueError, KeyError, TypeError):
        return None
