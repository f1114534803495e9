"""Notifications: an export's terminal state recorded as an event in its own transaction,
fanned out to webhooks, delivered signed (Standard Webhooks) to a real local receiver,
retried with backoff and recorded; addresses of the gateway's own network refused."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from app.db.models import (
    NotificationAttemptRow,
    NotificationDeliveryRow,
    NotificationEventRow,
)
from app.domain.errors import DomainError
from app.domain.exports import commands, retention
from app.domain.imports import commands as import_commands
from app.domain.imports import uploads
from app.domain.imports.commands import ImportRequest
from app.domain.imports.execution import run_import_job
from app.domain.notifications import targets
from app.domain.notifications.delivery import run_delivery
from app.domain.notifications.dispatch import notify_once, purge_old
from app.domain.notifications.messages import longs_as_strings
from app.domain.runtime import Runtime
from tests.domain.helpers import (
    export_request,
    run_job,
    runtime_for,
    set_job,
    settings_with,
    window,
)
from tests.helpers.inprocess import TRADES, RecordingEffects, Seed
from tests.helpers.receivers import webhook_receiver


async def _deliver_all(runtime: Runtime) -> list[str]:
    woken = await notify_once(runtime)
    for delivery_id in woken:
        await asyncio.to_thread(run_delivery, runtime, delivery_id)
    return woken


async def test_a_succeeded_export_reaches_the_webhook_signed_and_recorded(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    settings = settings_with(
        seed, tmp_path, webhook_allow_private_addresses=True, notify_retry_base_seconds=0.05
    )
    async with runtime_for(settings, effects) as runtime, runtime.sessions() as session:
        with webhook_receiver() as receiver:
            receiver.statuses = [500]  # the first attempt fails, the retry succeeds
            hook = await targets.create_webhook(
                session,
                seed.principals["alpha"],
                settings,
                url=receiver.url,
                events=["export.succeeded"],
                secret=None,
                description=None,
            )
            job, _ = await commands.create_export(
                runtime, seed.principals["alpha"], export_request(**window(1, 2))
            )
            await run_job(runtime, job.id)
            assert len(await _deliver_all(runtime)) == 1
            await asyncio.sleep(0.2)
            assert len(await _deliver_all(runtime)) == 1
            assert len(receiver.requests) == 2
            first, second = receiver.requests
            assert first.headers["webhook-id"] == second.headers["webhook-id"]  # de-duplication
            event = Webhook(hook.secret).verify(second.body, second.headers)
            assert event["type"] == "export.succeeded"
            assert event["data"]["id"] == job.id and event["data"]["status"] == "SUCCEEDED"
            [artifact] = event["data"]["artifacts"]
            assert "/downloads/" in artifact["url"] and "signature=" in artifact["url"]
            # Long fields read as the API shows them: decimal strings, every digit kept.
            assert event["data"]["datastreamId"] == str(job.datastream_id)
            assert int(artifact["byteSize"]) > 0 and isinstance(artifact["byteSize"], str)
            assert event["data"]["progress"]["rowsWritten"] == str(artifact["rowCount"])
            with pytest.raises(Exception):  # noqa: B017  (another secret: refused)
                Webhook(targets.new_secret()).verify(second.body, second.headers)
        delivery = await session.scalar(select(NotificationDeliveryRow))
        assert delivery is not None
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            "SUCCEEDED",
            2,
            204,
        )
        attempts = (await session.scalars(select(NotificationAttemptRow))).all()
        assert [a.status_code for a in attempts] == [500, 204]
        assert await _deliver_all(runtime) == []  # nothing is sent twice


async def test_a_canceled_export_records_its_event_in_the_cancel_transaction(
    runtime: Runtime, seed: Seed
) -> None:
    job, _ = await commands.create_export(runtime, seed.principals["alpha"], export_request())
    await commands.cancel_export(runtime, seed.principals["alpha"], job.id)
    async with runtime.sessions() as session:
        [event] = (await session.scalars(select(NotificationEventRow))).all()
    assert event.type == "export.canceled" and event.data["status"] == "CANCELED"
    assert event.data["id"] == job.id and json.dumps(event.data)


async def test_webhooks_to_the_gateways_own_network_are_refused(
    runtime: Runtime, seed: Seed
) -> None:
    async with runtime.sessions() as session:
        for url in ("http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://169.254.169.254/x"):
            with pytest.raises(DomainError) as refused:
                await targets.create_webhook(
                    session,
                    seed.principals["alpha"],
                    runtime.settings,
                    url=url,
                    events=["export.failed"],
                    secret=None,
                    description=None,
                )
            assert refused.value.errors[0].field == ("input", "url")


async def test_an_import_records_its_outcome_with_the_stored_records(
    runtime: Runtime, seed: Seed
) -> None:
    message = {"e": "trade", "s": "BTCUSDT", "t": 1, "p": "1.5", "q": "0.1", "T": 1, "m": True}
    line = {"collection_timestamp_ns": 1_900_000_000 * 10**9, "data": message}
    upload = await uploads.store_file(
        runtime,
        seed.principals["alpha"],
        "one.jsonl",
        io.BytesIO((json.dumps(line) + "\n").encode()),
        "input.file",
    )
    job, _ = await import_commands.start_import(
        runtime,
        seed.principals["alpha"],
        ImportRequest(upload_id=upload.id, datastream_id=str(TRADES.id)),
    )
    await asyncio.to_thread(run_import_job, runtime, job.id)
    async with runtime.sessions() as session:
        [event] = (await session.scalars(select(NotificationEventRow))).all()
    assert (event.type, event.data["id"]) == ("import.succeeded", job.id)
    assert event.data["progress"]["recordsStored"] == 1


async def test_an_email_policy_chooses_among_the_events(runtime: Runtime, seed: Seed) -> None:
    who = seed.principals["alpha"]
    async with runtime.sessions() as session:
        failures = await targets.create_email_notification(
            session,
            who,
            recipients=["a@example.com"],
            policy="ON_FAILURE",
            events=None,
            subject="$status",
            text="$job_id",
        )
        everything = await targets.create_email_notification(
            session,
            who,
            recipients=["b@example.com"],
            policy="ALWAYS",
            events=None,
            subject="$status",
            text="$job_id",
        )
    job, _ = await commands.create_export(runtime, who, export_request())
    await commands.cancel_export(runtime, who, job.id)
    await notify_once(runtime)
    async with runtime.sessions() as session:
        targeted = (await session.scalars(select(NotificationDeliveryRow.target_id))).all()
    assert everything.id in targeted and failures.id not in targeted


async def _one_webhook(runtime: Runtime, seed: Seed, url: str, events: list[str]) -> str:
    async with runtime.sessions() as session:
        hook = await targets.create_webhook(
            session,
            seed.principals["alpha"],
            runtime.settings,
            url=url,
            events=events,
            secret=None,
            description=None,
        )
    return hook.id


async def _delivery(runtime: Runtime) -> NotificationDeliveryRow:
    async with runtime.sessions() as session:
        delivery = await session.scalar(select(NotificationDeliveryRow))
    assert delivery is not None
    return delivery


async def test_a_slow_receiver_costs_one_timeout_and_is_retried_later(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    settings = settings_with(
        seed, tmp_path, webhook_allow_private_addresses=True, notify_timeout_seconds=0.3
    )
    async with runtime_for(settings, effects) as runtime:
        with webhook_receiver() as receiver:
            receiver.delay = 2.0
            await _one_webhook(runtime, seed, receiver.url, ["export.canceled"])
            job, _ = await commands.create_export(
                runtime, seed.principals["alpha"], export_request()
            )
            await commands.cancel_export(runtime, seed.principals["alpha"], job.id)
            assert len(await _deliver_all(runtime)) == 1
        delivery = await _delivery(runtime)
    assert delivery.status == "PENDING" and delivery.last_status_code is None
    assert delivery.last_error and "Timeout" in delivery.last_error
    assert delivery.next_attempt_at is not None  # the default backoff: about 30 s later
    assert delivery.next_attempt_at - delivery.created_at > 25 * 10**9


async def test_the_address_is_checked_again_at_delivery(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    """A name that resolved to a public address when saved may point inside later (DNS
    rebinding); here the gateway stopped allowing loopback after the webhook was saved."""
    folder = tmp_path / "data"
    allowing = settings_with(seed, folder, webhook_allow_private_addresses=True)
    with webhook_receiver() as receiver:
        async with runtime_for(allowing, effects) as runtime:
            await _one_webhook(runtime, seed, receiver.url, ["export.canceled"])
            job, _ = await commands.create_export(
                runtime, seed.principals["alpha"], export_request()
            )
            await commands.cancel_export(runtime, seed.principals["alpha"], job.id)
        refusing = allowing.model_copy(update={"webhook_allow_private_addresses": False})
        async with runtime_for(refusing, effects) as runtime:
            assert len(await _deliver_all(runtime)) == 1
            delivery = await _delivery(runtime)
        assert receiver.requests == []
    assert delivery.status == "PENDING" and "loopback" in (delivery.last_error or "")


async def test_an_expired_export_is_told_by_the_sweeper_in_its_transaction(
    runtime: Runtime, seed: Seed
) -> None:
    job, _ = await commands.create_export(runtime, seed.principals["alpha"], export_request())
    await run_job(runtime, job.id)
    await set_job(runtime, job.id, expires_at=1)
    async with runtime.sessions() as session:
        changed = await retention.expire_due(session, runtime.settings)
        events = (await session.scalars(select(NotificationEventRow))).all()
    assert [c.id for c in changed] == [job.id]
    assert [e.type for e in events] == ["export.succeeded", "export.expired"]
    assert events[1].data["status"] == "EXPIRED"


async def test_old_events_go_once_their_deliveries_have_finished(
    seed: Seed, tmp_path: Path, effects: RecordingEffects
) -> None:
    settings = settings_with(seed, tmp_path, webhook_allow_private_addresses=True)
    async with runtime_for(settings, effects) as runtime:
        with webhook_receiver() as receiver:
            await _one_webhook(runtime, seed, receiver.url, ["export.canceled"])
            job, _ = await commands.create_export(
                runtime, seed.principals["alpha"], export_request()
            )
            await commands.cancel_export(runtime, seed.principals["alpha"], job.id)
            await notify_once(runtime)  # fanned out, not yet sent: PENDING
            async with runtime.sessions() as session:
                assert await purge_old(session, keep_seconds=1e-9) == 0
            await asyncio.to_thread(run_delivery, runtime, (await _delivery(runtime)).id)
        async with runtime.sessions() as session:
            assert await purge_old(session, keep_seconds=1e-9) == 1
            assert (await session.scalars(select(NotificationDeliveryRow))).all() == []
            assert (await session.scalars(select(NotificationAttemptRow))).all() == []


@pytest.mark.parametrize(
    "url", ["http://a\x00b/", "http://" + "x" * 70 + ".example/", "http://[::1", "http://:80/"]
)
async def test_malformed_webhook_urls_are_invalid_arguments(
    runtime: Runtime, seed: Seed, url: str
) -> None:
    async with runtime.sessions() as session:
        with pytest.raises(DomainError) as refused:
            await targets.create_webhook(
                session,
                seed.principals["alpha"],
                runtime.settings,
                url=url,
                events=["export.failed"],
                secret=None,
                description=None,
            )
    assert [e.field for e in refused.value.errors] == [("input", "url")]


def test_long_fields_are_sent_as_strings_past_two_to_the_53() -> None:
    data = {
        "datastreamId": 2**63 - 1,
        "datastreamIds": [9007199254740993, 7],
        "artifacts": [{"byteSize": 12, "partial": False, "filename": "a.csv"}],
        "attempts": 3,  # an Int in the API: left a number
        "progress": {"rowsWritten": None},
    }
    assert longs_as_strings(data) == {
        "datastreamId": "9223372036854775807",
        "datastreamIds": ["9007199254740993", "7"],
        "artifacts": [{"byteSize": "12", "partial": False, "filename": "a.csv"}],
        "attempts": 3,
        "progress": {"rowsWritten": None},
    }
