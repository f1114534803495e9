"""`/metrics` in the Prometheus text format: requests and operations as they happen; jobs,
the queue, export output, the health of deliveries and collections read from the database at
each scrape."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from app.config import Settings
from app.db.engine import make_sync_sessions
from app.db.models import CollectionRow, NotificationAttemptRow, NotificationDeliveryRow
from app.domain.notifications.events import PING, record_event
from engine.timestamps import now_ns
from tests.api.helpers import DELETE, JOB, create_job, finished
from tests.helpers.inprocess import TRADES, ApiClient, Seed, copy_seed, running_app, settings_for


async def samples(api: ApiClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await api.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


async def test_operations_jobs_and_the_queue_are_counted(idle_api: ApiClient) -> None:
    await create_job(idle_api)
    await create_job(idle_api)
    await idle_api.execute("{ viewer { workspace { id } } }")
    bad = await idle_api.http.post("/graphql", json={"query": "{ nope }"})
    assert bad.status_code in (200, 400)
    found = await samples(idle_api)
    mutation = (("field", "createExport"), ("outcome", "ok"), ("type", "mutation"))
    assert found[("gateway_graphql_operations_total", mutation)] == 2
    query = (("field", "viewer"), ("outcome", "ok"), ("type", "query"))
    assert found[("gateway_graphql_operations_total", query)] == 1
    failed = [
        k
        for k in found
        if k[0] == "gateway_graphql_operations_total" and ("outcome", "error") in k[1]
    ]
    assert failed, found
    assert found[("gateway_jobs", (("kind", "export"), ("status", "QUEUED")))] == 2
    assert found[("gateway_queue_depth", ())] == 2
    assert found[("gateway_http_requests_total", (("route", "/graphql"), ("status", "2xx")))] >= 3
    assert ("gateway_http_request_duration_seconds_count", (("route", "/graphql"),)) in found


OUTPUT = (
    "gateway_export_files_published_total",
    "gateway_export_rows_written_total",
    "gateway_export_bytes_written_total",
)


async def test_export_output_counters_count_what_was_published_and_never_go_down(
    seed: Seed, tmp_path: Path
) -> None:
    settings = settings_for(copy_seed(seed, tmp_path / "data"))
    async with running_app(settings, seed.keys) as api:
        before = await samples(api)
        assert [before[(name, ())] for name in OUTPUT] == [0, 0, 0]
        job = await create_job(api)
        assert (await finished(api, job["id"]))["status"] == "SUCCEEDED"
        artifacts = (await api.execute(JOB, {"id": job["id"]}))["exportJob"]["artifacts"]
        published = [
            len(artifacts),
            sum(int(a["rowCount"]) for a in artifacts),
            sum(int(a["byteSize"]) for a in artifacts),
        ]
        assert published[1] > 0
        after = await samples(api)
        assert [after[(name, ())] for name in OUTPUT] == published
        await api.execute(DELETE, {"id": job["id"]})
        assert [(await samples(api))[(name, ())] for name in OUTPUT] == published


async def test_delivery_and_collection_health(idle_api: ApiClient, settings: Settings) -> None:
    healthy = await samples(idle_api)
    assert healthy[("gateway_notification_deliveries_retrying", ())] == 0
    assert healthy[("gateway_notification_oldest_undelivered_seconds", ())] == 0
    assert healthy[("gateway_collections", (("state", "unheld"),))] == 0
    workspace = (await idle_api.execute("{ viewer { workspace { id } } }"))["viewer"]
    now = now_ns()
    with make_sync_sessions(settings)() as session:
        event_id = record_event(session, workspace["workspace"]["id"], PING, {})
        session.flush()
        failing = NotificationDeliveryRow(
            id="dlv_failing",
            workspace_id=workspace["workspace"]["id"],
            event_id=event_id,
            channel="WEBHOOK",
            target_id="whk_x",
            status="PENDING",
            attempts=1,
            created_at=now - 120 * 10**9,
            next_attempt_at=now + 30 * 10**9,
        )
        session.add(failing)
        session.flush()
        session.add_all(
            [
                NotificationAttemptRow(
                    delivery_id=failing.id,
                    number=1,
                    started_at=now - 10**9,
                    latency_ms=12,
                    status_code=500,
                    error="the receiver answered 500",
                ),
                # A collection whose collector died (lease over) with its feed failing.
                CollectionRow(
                    datastream_id=TRADES.id,
                    collector_id="gone",
                    lease_expires_at=now - 10**9,
                    connected=False,
                    error="connection refused",
                    updated_at=now,
                ),
            ]
        )
        session.commit()
    found = await samples(idle_api)
    assert found[("gateway_notification_deliveries_retrying", ())] == 1
    assert 119 <= found[("gateway_notification_oldest_undelivered_seconds", ())] < 3600
    assert found[("gateway_notification_attempts_recent", (("outcome", "failed"),))] == 1
    assert found[("gateway_notification_attempts_recent", (("outcome", "ok"),))] == 0
    assert found[("gateway_collections", (("state", "collected"),))] == 1
    assert found[("gateway_collections", (("state", "unheld"),))] == 1
    assert found[("gateway_collections", (("state", "failing"),))] == 1
