"""Thin Dramatiq actors: a message is only a wake-up; the domain claims the job row, does the
work and records the outcome (`app.domain.exports.execution`, `app.domain.imports.execution`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import dramatiq
from dramatiq.middleware import CurrentMessage, Shutdown

from app import logs, tracing
from app.domain.exports.execution import TransientError, run_export_job
from app.domain.imports import execution as imports
from app.domain.notifications.delivery import run_delivery
from workers.broker import (
    DELIVERY_ACTOR,
    EXPORT_ACTOR,
    EXPORT_QUEUE,
    IMPORT_ACTOR,
    TRACE_OPTION,
)
from workers.runtime import worker_runtime

MAX_RETRIES = 5


@contextlib.contextmanager
def running(actor: str, job_id: str) -> Iterator[None]:
    """What a worker logs carries the job id; with tracing on, its work is a span continuing
    the trace of whoever woke it (the request that created the job, say)."""
    message = CurrentMessage.get_current_message()
    carrier = message.options.get(TRACE_OPTION) if message is not None else None
    attributes = {
        "messaging.system": "dramatiq",
        "messaging.operation": "process",
        "messaging.message.id": message.message_id if message is not None else None,
        "job.id": job_id,
    }
    with logs.job_context(job_id), tracing.continued(f"worker {actor}", carrier, attributes):
        yield


@dramatiq.actor(
    actor_name=EXPORT_ACTOR,
    queue_name=EXPORT_QUEUE,
    max_retries=MAX_RETRIES,
    retry_when=lambda retries, exc: isinstance(exc, TransientError) and retries < MAX_RETRIES,
)
def export_actor(job_id: str) -> None:
    with running(EXPORT_ACTOR, job_id):
        run_export_job(worker_runtime(), job_id, shutdown=Shutdown)


@dramatiq.actor(
    actor_name=IMPORT_ACTOR,
    queue_name=EXPORT_QUEUE,
    max_retries=MAX_RETRIES,
    retry_when=lambda retries, exc: (
        isinstance(exc, imports.TransientError) and retries < MAX_RETRIES
    ),
)
def import_actor(job_id: str) -> None:
    with running(IMPORT_ACTOR, job_id):
        imports.run_import_job(worker_runtime(), job_id, shutdown=Shutdown)


# No broker retries: the delivery row schedules its own (exponential backoff, recorded).
@dramatiq.actor(actor_name=DELIVERY_ACTOR, queue_name=EXPORT_QUEUE, max_retries=0)
def delivery_actor(delivery_id: str) -> None:
    with running(DELIVERY_ACTOR, delivery_id):
        run_delivery(worker_runtime(), delivery_id)
