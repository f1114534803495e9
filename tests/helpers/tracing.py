"""Spans kept in memory: the process's tracer provider, set up once for the tests that trace
(a process has one provider; OpenTelemetry refuses to replace it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app import tracing
from tests.helpers.inprocess import settings_for

_exporter: InMemorySpanExporter | None = None


def memory_spans() -> InMemorySpanExporter:
    """The exporter every span of this process ends in, emptied for the caller."""
    global _exporter
    if _exporter is None or not tracing.active():
        _exporter = InMemorySpanExporter()
        tracing.configure(settings_for(Path("unused"), tracing=True), exporter=_exporter)
    assert tracing.active()
    _exporter.clear()
    return _exporter


def hex_ids(span: Any) -> tuple[str, str, str | None]:
    """A finished span's trace id, span id and parent span id, in hex."""
    context = span.get_span_context()
    parent = f"{span.parent.span_id:016x}" if span.parent is not None else None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}", parent
