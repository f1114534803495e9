"""The runtime actors run with. A gateway with embedded workers hands over its own (so events
reach its subscribers in-process); a worker process builds one from its settings on first use.

This and `workers.broker` are the composition root of worker processes: they wire the
domain's effects to the Dramatiq broker and the event bus."""

from __future__ import annotations

import threading

from app import tracing
from app.config import Settings, get_settings
from app.domain.runtime import Effects, Runtime
from app.events import EventBus, build_event_bus
from workers.broker import wake_delivery, wake_export, wake_import

_lock = threading.Lock()
_runtime: Runtime | None = None


def runtime_with(settings: Settings, bus: EventBus) -> Runtime:
    """A runtime whose effects wake workers through the broker and publish on `bus`."""
    effects = Effects(
        wake_export=wake_export,
        wake_import=wake_import,
        publish=bus.publish,
        wake_delivery=wake_delivery,
    )
    return Runtime.create(settings, effects)


def use_runtime(runtime: Runtime | None) -> None:
    """Run the actors of this process with `runtime` (None: build one on next use)."""
    global _runtime
    with _lock:
        _runtime = runtime


def worker_runtime() -> Runtime:
    global _runtime
    with _lock:
        if _runtime is None:
            settings = get_settings()
            tracing.configure(settings)  # before the runtime's engines are made
            _runtime = runtime_with(settings, build_event_bus(settings))
        return _runtime
