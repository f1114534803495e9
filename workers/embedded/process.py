"""The worker process of an embedded gateway (`python -m app worker --gateway-fd N`, started by
`workers.embedded.supervisor`): the actors of `workers.actors`, as `make worker` runs them, on
an in-memory broker fed by the gateway's wake-ups, their events sent back to the gateway.

It lives as long as its gateway: when the socket closes (the gateway stopped it, or died by any
means, SIGKILL included), it stops its workers (a running job is released, and resumed by the
next worker process) and exits, so it never outlives the gateway."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
from pathlib import Path

import dramatiq

from app import tracing
from app.config import Settings
from app.domain.runtime import Effects, JobEvent, Runtime
from app.heap import freeze_startup_objects
from workers import broker as brokers
from workers.embedded.channel import event_line, parse_wake
from workers.runtime import use_runtime

log = logging.getLogger(__name__)


class _Events:
    """Publishes to the gateway from any actor thread; a closed socket drops the event."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._lock = threading.Lock()

    def publish(self, event: JobEvent) -> None:
        try:
            with self._lock:
                self._sock.sendall(event_line(event))
        except OSError:
            log.debug("the gateway is gone; event %s dropped", event)


WAKES = {
    "export": brokers.wake_export,
    "import": brokers.wake_import,
    "delivery": brokers.wake_delivery,
}


def _lower_priority(by: int) -> None:
    """Every thread of this process, before the workers start theirs (which inherit it): on
    Linux a thread's nice value is its own, and imports have started some already."""
    if by == 0:
        return
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():
        os.nice(by)
        return
    for task in tasks.iterdir():
        with contextlib.suppress(ProcessLookupError):  # a thread that just ended
            tid = int(task.name)
            nice = os.getpriority(os.PRIO_PROCESS, tid)
            os.setpriority(os.PRIO_PROCESS, tid, min(19, nice + by))


def serve_gateway(settings: Settings, fd: int, threads: int) -> None:
    """Run the actors until the gateway closes the socket on `fd`."""
    import workers.actors  # noqa: F401  (registers the actors)

    if not settings.embedded_broker:
        raise SystemExit("--gateway-fd is for embedded mode (BROKER_URL=embedded)")
    # Ctrl-C in a terminal, or SIGTERM to the process group, reaches the gateway too: it
    # decides when this process stops (closing the socket), rather than restart a worker
    # process that stopped on its own while the gateway itself was stopping.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # Batch work yields the CPU to the gateway's event loop, whose requests someone waits for.
    _lower_priority(settings.embedded_worker_nice)
    sock = socket.socket(fileno=fd)
    events = _Events(sock)
    effects = Effects(
        wake_export=brokers.wake_export,
        wake_import=brokers.wake_import,
        publish=events.publish,
        wake_delivery=brokers.wake_delivery,
    )
    tracing.configure(settings)  # before the runtime's engines are made
    runtime = Runtime.create(settings, effects)
    use_runtime(runtime)
    # A short poll timeout lets the process stop its workers in a fraction of a second.
    worker = dramatiq.Worker(brokers.broker, worker_threads=threads, worker_timeout=100)
    freeze_startup_objects()
    worker.start()
    try:
        with sock.makefile("rb") as lines:
            for line in lines:
                wake = parse_wake(line)
                if wake is None:
                    log.warning("ignored a line from the gateway: %r", line[:200])
                    continue
                with tracing.attached(wake.trace):  # the message continues the waker's trace
                    WAKES[wake.kind](wake.job_id)
    except OSError:
        pass
    finally:
        worker.stop()
        tracing.shutdown()
        use_runtime(None)
        runtime.sync_sessions.kw["bind"].dispose()
        sock.close()
