"""The Dramatiq broker chosen by BROKER_URL, and how the gateway wakes a worker.

`embedded` uses an in-memory broker whose worker threads run inside the gateway; `redis://`
and `amqp://` select Dramatiq's Redis and RabbitMQ brokers for separate worker processes.
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Pipelines,
    Retries,
    ShutdownNotifications,
)

from app import logs, tracing
from app.config import Settings, get_settings
from app.heap import freeze_startup_objects

log = logging.getLogger(__name__)

EXPORT_QUEUE = get_settings().queue_name
EXPORT_ACTOR = "run_export_job"
IMPORT_ACTOR = "run_import_job"  # on the same queue: one pool of workers runs both
DELIVERY_ACTOR = "deliver_notification"  # webhooks and emails, on the same queue
# The message option carrying the waker's trace context (W3C traceparent), when tracing is on.
TRACE_OPTION = "trace_context"


class WorkerProcessSetup(dramatiq.Middleware):
    """A process `python -m dramatiq` started (`python -m app worker`) logs like the gateway
    and traces when configured. Gateways and embedded worker processes set themselves up."""

    def after_process_boot(self, broker: dramatiq.Broker) -> None:
        settings = get_settings()
        logs.configure(settings.log_format)
        tracing.configure(settings)
        freeze_startup_objects()  # the actors are imported: exports pay for no full passes

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        tracing.shutdown()  # the spans still batched


def _middleware() -> list[dramatiq.Middleware]:
    # No TimeLimit: long exports are normal, and heartbeats (not a timer) detect dead workers.
    return [
        AgeLimit(),
        ShutdownNotifications(notify_shutdown=True),
        Callbacks(),
        Pipelines(),
        Retries(max_retries=5, min_backoff=1000, max_backoff=60_000),
        CurrentMessage(),  # the actors read the trace context of the message they run
        WorkerProcessSetup(),
    ]


def build_broker(settings: Settings) -> dramatiq.Broker:
    url = settings.broker_url
    broker: dramatiq.Broker
    if settings.embedded_broker:
        broker = StubBroker(middleware=_middleware())
    elif url.startswith(("redis://", "rediss://", "unix://")):
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=url, middleware=_middleware())  # type: ignore[no-untyped-call]
    elif url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url, middleware=_middleware())
    else:
        raise ValueError(f"BROKER_URL {url!r}: use embedded, redis://... or amqp://...")
    broker.declare_queue(EXPORT_QUEUE)
    return broker


broker = build_broker(get_settings())
dramatiq.set_broker(broker)


def wake_export(job_id: str) -> None:
    """Tell some worker that a job is waiting. Call only after the job row is committed."""
    _wake(EXPORT_ACTOR, job_id)


def wake_import(job_id: str) -> None:
    """The same for an import job."""
    _wake(IMPORT_ACTOR, job_id)


def wake_delivery(delivery_id: str) -> None:
    """The same for a notification delivery (its row says when it is due)."""
    _wake(DELIVERY_ACTOR, delivery_id)


def _wake(actor: str, job_id: str) -> None:
    """A wake-up that cannot be sent (the broker is down) is not an error of the request that
    made the row: the row is the truth, and the sweeper wakes what waits too long. When
    tracing is on, the message carries the current trace, which the worker continues."""
    trace = tracing.carrier()
    message: dramatiq.Message[object] = dramatiq.Message(
        queue_name=EXPORT_QUEUE,
        actor_name=actor,
        args=(job_id,),
        kwargs={},
        options={TRACE_OPTION: trace} if trace else {},
    )
    try:
        broker.enqueue(message)
    except Exception:
        log.warning(
            "could not wake a worker for %s (%s): the sweeper will, once it has waited",
            job_id,
            actor,
            exc_info=True,
        )
