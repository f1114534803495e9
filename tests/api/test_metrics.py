"""`/metrics` in the Prometheus text format: requests and operations as they happen, jobs and
the queue read from the database at each scrape."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.api.helpers import create_job
from tests.helpers.inprocess import ApiClient


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
