"""OpenTelemetry tracing, off unless configured: `GATEWAY_TRACING=true`, or the standard
`OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) set; `OTEL_SDK_DISABLED=true` turns it
off. Every other standard `OTEL_*` variable is the SDK's and the OTLP exporter's to read
(service name, resource attributes, sampler, headers, protocol details).

When tracing is off nothing here imports OpenTelemetry or creates an SDK object: `span` and
`continued` hand back a null context, `carrier` an empty dict. The packages are an optional
extra (`pip install 'export-gateway[tracing]'`), so a deployment without tracing installs
none of them.

What is traced, and where the spans are opened: the HTTP request (W3C `traceparent` honoured;
the ASGI middleware, `app.main`), the GraphQL operation with its name and type and its root
fields (`graphql_extension`), the database statements (`trace_engine`, `app.db.engine`), and a
job: the context of whoever woke a worker travels in the wake-up (`carrier`; the Dramatiq
message's options, or the embedded worker process's wake-up line), and the worker continues
it (`continued`) with a span for the export run or part (`span`, in the domain)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from app.config import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

SERVICE_NAME = "export-gateway"
INSTRUMENTATION = "export_gateway"
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
INSTALL_HINT = "pip install 'export-gateway[tracing]'"

_lock = threading.Lock()
_provider: TracerProvider | None = None


class TracingUnavailable(RuntimeError):
    """Tracing is configured but the OpenTelemetry packages are not installed."""


def wanted(settings: Settings) -> bool:
    """What the configuration asks for (nothing is imported to answer)."""
    if settings.tracing is not None:
        return settings.tracing
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(os.environ.get(name) for name in ENDPOINT_VARIABLES)


def active() -> bool:
    """Whether this process traces (`configure` set a provider up)."""
    return _provider is not None


def enabled_for(settings: Settings) -> bool:
    """Whether what `settings` configure is traced: they want it and the process traces."""
    return _provider is not None and wanted(settings)


def configure(settings: Settings, exporter: SpanExporter | None = None) -> bool:
    """Set this process's tracer provider up once, if the settings want tracing; True when
    this process traces. `exporter` replaces OTLP (the tests keep spans in memory); spans go
    to it as they end, whereas OTLP gets them in batches."""
    global _provider
    if not wanted(settings):
        return False
    with _lock:
        if _provider is None:
            _provider = _new_provider(exporter)
    return True


def _new_provider(exporter: SpanExporter | None) -> TracerProvider:
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError as exc:
        raise TracingUnavailable(
            f"tracing is configured but OpenTelemetry is not installed: {INSTALL_HINT}"
        ) from exc
    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over our default name.
    named = "OTEL_SERVICE_NAME" in os.environ or "service.name=" in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    resource = Resource.create({} if named else {"service.name": SERVICE_NAME})
    provider = TracerProvider(resource=resource)  # OTEL_TRACES_SAMPLER is honoured here
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        provider.add_span_processor(BatchSpanProcessor(_otlp_exporter()))
    trace.set_tracer_provider(provider)  # for libraries that use the global one
    return provider


def _otlp_exporter() -> SpanExporter:
    """OTLP over HTTP/protobuf; the endpoint, headers and timeout come from OTEL_* variables."""
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as exc:
        raise TracingUnavailable(
            f"tracing is configured but the OTLP exporter is not installed: {INSTALL_HINT}"
        ) from exc
    return OTLPSpanExporter()


def shutdown() -> None:
    """Send the spans still batched (a process about to exit); once."""
    global _provider
    with _lock:
        stopping, _provider = _provider, None
    if stopping is not None:
        stopping.shutdown()


def provider() -> TracerProvider:
    if _provider is None:
        raise RuntimeError("tracing is not configured in this process")
    return _provider


# ---- spans ------------------------------------------------------------------------------


@contextlib.contextmanager
def span(name: str, attributes: Mapping[str, Any] | None = None) -> Iterator[None]:
    """A child span of the current one (nothing when tracing is off); an exception that
    leaves it is recorded on it."""
    if _provider is None:
        yield
        return
    tracer = _provider.get_tracer(INSTRUMENTATION)
    with tracer.start_as_current_span(name, attributes=_clean(attributes)):
        yield


@contextlib.contextmanager
def continued(
    name: str, carrier: Mapping[str, str] | None, attributes: Mapping[str, Any] | None = None
) -> Iterator[None]:
    """A consumer span continuing the trace in `carrier` (a new trace without one): a worker's
    side of a wake-up."""
    if _provider is None:
        yield
        return
    from opentelemetry.propagate import extract
    from opentelemetry.trace import SpanKind

    parent = extract(dict(carrier)) if carrier else None
    tracer = _provider.get_tracer(INSTRUMENTATION)
    with tracer.start_as_current_span(
        name, context=parent, kind=SpanKind.CONSUMER, attributes=_clean(attributes)
    ):
        yield


@contextlib.contextmanager
def attached(carrier: Mapping[str, str] | None) -> Iterator[None]:
    """Make the context in `carrier` current (no span of its own): what the embedded worker
    process does before handing a wake-up on to its broker."""
    if _provider is None or not carrier:
        yield
        return
    from opentelemetry import context
    from opentelemetry.propagate import extract

    token = context.attach(extract(dict(carrier)))
    try:
        yield
    finally:
        context.detach(token)


def carrier() -> dict[str, str]:
    """The current trace context as W3C headers (`traceparent`, `tracestate`), for a message
    that wakes a worker; empty when tracing is off or no span is current."""
    if _provider is None:
        return {}
    from opentelemetry.propagate import inject

    headers: dict[str, str] = {}
    inject(headers)
    return headers


def current_ids() -> tuple[str, str] | None:
    """The current trace and span ids in hex, for log lines; None outside a span."""
    if _provider is None:
        return None
    from opentelemetry.trace import get_current_span

    context = get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


def _clean(attributes: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Attribute values OpenTelemetry takes (None dropped)."""
    if not attributes:
        return None
    return {key: value for key, value in attributes.items() if value is not None}


# ---- instrumentation of the libraries (called only when tracing is on) --------------------


def trace_engine(engine: Any) -> None:
    """Spans for the statements of a SQLAlchemy engine (the sync engine of an async one)."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import NoOpMeter

    connections = NoOpMeter(INSTRUMENTATION).create_up_down_counter("db.client.connections")
    tracer = _provider.get_tracer("opentelemetry.instrumentation.sqlalchemy")
    EngineTracer(tracer, engine, connections)  # type: ignore[no-untyped-call]


def asgi_middleware() -> tuple[Any, dict[str, Any]]:
    """The ASGI middleware that opens a span per HTTP request and WebSocket (continuing the
    client's `traceparent`), and its options: the probes and the scrape are not traced."""
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return OpenTelemetryMiddleware, {
        "tracer_provider": provider(),
        "excluded_urls": "/healthz,/readyz,/metrics",
        "exclude_spans": ["receive", "send"],
    }


def graphql_extension() -> type[Any]:
    """Strawberry's OpenTelemetry extension, with the operation's type and name as
    attributes, and spans for the root fields only (one per field of every object would cost
    more than the operation it describes). Neither the document nor any argument is
    recorded: both may hold secrets (a webhook's, a password in a template)."""
    from graphql import GraphQLResolveInfo
    from opentelemetry.trace import SpanKind
    from strawberry.extensions import LifecycleStep
    from strawberry.extensions.tracing import OpenTelemetryExtension

    class GraphQLTracing(OpenTelemetryExtension):
        def __init__(self, *, execution_context: Any = None) -> None:
            super().__init__(
                execution_context=execution_context,
                tracer_provider=provider(),
                arg_filter=lambda _args, _info: {},
            )

        def on_operation(self) -> Generator[None, None, None]:
            operation = self._tracer.start_span("GraphQL", kind=SpanKind.INTERNAL)
            self._span_holder[LifecycleStep.OPERATION] = operation
            operation.set_attribute("component", "graphql")
            try:
                yield
            finally:
                # Known once the document is parsed: GraphQL Query: JobStatus, say.
                kind, name = _operation_type(self), _operation_name(self)
                operation.update_name(f"GraphQL {kind.title()}" + (f": {name}" if name else ""))
                operation.set_attribute("graphql.operation.type", kind)
                operation.set_attribute("graphql.operation.name", name)
                operation.end()

        async def resolve(
            self,
            _next: Any,
            root: Any,
            info: GraphQLResolveInfo[Any],
            *args: Any,
            **kwargs: Any,
        ) -> Any:
            if info.path.prev is None:
                return await super().resolve(_next, root, info, *args, **kwargs)
            result = _next(root, info, *args, **kwargs)
            if hasattr(result, "__await__"):
                result = await result
            return result

    return GraphQLTracing


def _operation_name(extension: Any) -> str:
    return str(extension.execution_context.operation_name or "")


def _operation_type(extension: Any) -> str:
    """query, mutation or subscription; "unknown" for a document that did not parse."""
    try:
        return str(extension.execution_context.operation_type.value)
    except Exception:
        return "unknown"
