"""Thin Dramatiq actors: a message is only a wake-up; the domain claims the job row, does the
work and records the outcome (`app.domain.exports.execution`, `app.domain.imports.execution`)."""

from __future__ import annotations

import dramatiq
from dramatiq.middleware import Shutdown

from app.domain.exports.execution import TransientError, run_export_job
from app.domain.imports import execution as imports
from app.domain.notifications.delivery import run_delivery
from workers.broker import DELIVERY_ACTOR, EXPORT_ACTOR, EXPORT_QUEUE, IMPORT_ACTOR
from workers.runtime import worker_runtime

MAX_RETRIES = 5


@dramatiq.actor(
    actor_name=EXPORT_ACTOR,
    queue_name=EXPORT_QUEUE,
    max_retries=MAX_RETRIES,
    retry_when=lambda retries, exc: isinstance(exc, TransientError) and retries < MAX_RETRIES,
)
def export_actor(job_id: str) -> None:
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
    imports.run_import_job(worker_runtime(), job_id, shutdown=Shutdown)


# No broker retries: the delivery row schedules its own (exponential backoff, recorded).
@dramatiq.actor(actor_name=DELIVERY_ACTOR, queue_name=EXPORT_QUEUE, max_retries=0)
def delivery_actor(delivery_id: str) -> None:
    run_delivery(worker_runtime(), delivery_id)
