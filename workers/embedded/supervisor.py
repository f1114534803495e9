"""The gateway's side of embedded mode: it starts one worker process (`workers.embedded.process`),
wakes it over a local socket, publishes the events it sends back on the gateway's bus, and
restarts it with backoff when it dies. Exports, imports and notification deliveries so never
run in the gateway's process: its event loop only serves the API.

Nothing is lost when the worker process dies: a wake-up sent while none runs is dropped, and
each (re)start resumes every unfinished job (`on_start`, `resume_unfinished`); the sweeper
re-wakes the rest. The process never outlives the gateway: stopping closes the socket and
waits (then kills), and a gateway that dies closes the socket with it, which the worker process
takes as its signal to stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
import time
from collections.abc import Awaitable, Callable

from app import tracing
from app.config import Settings
from app.domain.runtime import Effects, JobEvent
from workers.embedded.channel import WakeKind, parse_event, wake_line

log = logging.getLogger(__name__)
# Between restarts of a worker process that keeps dying: doubled each time up to the cap, and
# back to the first once a process has lived HEALTHY_SECONDS.
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0
HEALTHY_SECONDS = 60.0
# How long a stopping worker process may take to release its jobs before it is killed.
STOP_TIMEOUT_SECONDS = 10.0
SETTINGS_ENV = "GATEWAY_EMBEDDED_WORKER_SETTINGS"


class WorkerSupervisor:
    """One worker process at a time, for the gateway's lifetime (`start`, `stop`)."""

    def __init__(
        self,
        settings: Settings,
        publish: Callable[[JobEvent], None],
        resync: Callable[[], None],
    ) -> None:
        """`publish` takes the worker process's events; `resync` tells subscribers to re-read
        what they follow, when a worker process died and its last events with it."""
        self.settings = settings
        self._publish = publish
        self._resync = resync
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.starts = 0  # worker processes started so far

    def effects(self) -> Effects:
        """The gateway's effects: wake-ups go to the worker process, events to the bus."""
        return Effects(
            wake_export=lambda job_id: self.wake("export", job_id),
            wake_import=lambda job_id: self.wake("import", job_id),
            publish=self._publish,
            wake_delivery=lambda delivery_id: self.wake("delivery", delivery_id),
        )

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    def wake(self, kind: WakeKind, job_id: str) -> None:
        """Callable from any thread; dropped while no worker process runs (see the module)."""
        loop = self._loop
        if loop is None:
            return
        line = wake_line(kind, job_id, tracing.carrier())  # this thread's trace, if any
        try:
            if asyncio.get_running_loop() is loop:
                self._write(line)
                return
        except RuntimeError:
            pass  # another thread
        with contextlib.suppress(RuntimeError):  # the loop is closed: the gateway stopped
            loop.call_soon_threadsafe(self._write, line)

    def _write(self, line: bytes) -> None:
        writer = self._writer
        if writer is not None and not writer.is_closing():
            writer.write(line)

    async def start(self, on_start: Callable[[], Awaitable[object]]) -> None:
        """Start supervising; `on_start` runs after each worker process starts (it resumes the
        jobs the previous one left)."""
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._supervise(on_start))

    async def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Close the socket (the worker process releases its jobs and exits); kill it if it
        takes longer than `timeout`."""
        self._stopping = True
        writer, process = self._writer, self._process
        if writer is not None and not writer.is_closing():
            with contextlib.suppress(OSError):
                writer.write_eof()  # its last events still come back until it exits
        if process is not None and process.returncode is None:
            try:
                await asyncio.wait_for(process.wait(), timeout)
            except TimeoutError:
                log.warning(
                    "worker process %s did not stop in %.0f s; killed", process.pid, timeout
                )
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _supervise(self, on_start: Callable[[], Awaitable[object]]) -> None:
        backoff = FIRST_BACKOFF_SECONDS
        while not self._stopping:
            started = time.monotonic()
            try:
                code = await self._run_once(on_start)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("embedded worker process failed")
                code = None
            if self._stopping:
                return
            if time.monotonic() - started >= HEALTHY_SECONDS:
                backoff = FIRST_BACKOFF_SECONDS
            log.warning(
                "embedded worker process exited (code %s); restarting in %.1f s", code, backoff
            )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    async def _run_once(self, on_start: Callable[[], Awaitable[object]]) -> int | None:
        ours, theirs = socket.socketpair()
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "app",
                "worker",
                "--gateway-fd",
                str(theirs.fileno()),
                "--threads",
                str(self.settings.worker_threads),
                pass_fds=(theirs.fileno(),),
                env=self._environment(),
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()  # the child holds its own copy; its exit is our end-of-file
        self._process = process
        self.starts += 1
        try:
            reader, writer = await asyncio.open_connection(sock=ours)
        except BaseException:
            ours.close()
            raise
        self._writer = writer
        try:
            if self.starts > 1:
                self._resync()  # events may have died with the last process
            await on_start()
            while line := await reader.readline():
                event = parse_event(line)
                if event is not None:
                    self._publish(event)
            return await process.wait()
        finally:
            self._writer = None
            writer.close()
            if process.returncode is None and not self._stopping:
                # The socket broke but the process lives: it cannot be woken, so replace it.
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()

    def _environment(self) -> dict[str, str]:
        """The gateway's settings exactly (they may not come from the environment alone)."""
        env = dict(os.environ)
        env["BROKER_URL"] = "embedded"
        env["GATEWAY_QUEUE_NAME"] = self.settings.queue_name
        env[SETTINGS_ENV] = self.settings.model_dump_json()
        return env
