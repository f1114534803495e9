"""End to end: a recurring export whose periods lie in the past is caught up at once, one job
per period, by the gateway's scheduler (and, when distributed, by a `python -m app scheduler`
process running beside it), and the jobs' files hold each period's records."""

from __future__ import annotations

import time
from typing import Any

import pytest

from engine.timestamps import parse_timestamp
from tests.helpers.data import BINANCE, Dataset
from tests.helpers.environments import GatewayHandle
from tests.helpers.operations import download, read_text_rows
from tests.helpers.processes import SchedulerProcess

pytestmark = pytest.mark.e2e

CREATE = """mutation($input: CreateExportScheduleInput!) { createExportSchedule(input: $input) {
  exportSchedule { id nextPeriodStart } userErrors { code field message } } }"""
RUNS = """query($id: ID!) { exportSchedule(id: $id) { nextPeriodStart
  runs { totalCount edges { node { periodStart periodEnd status reason
    exportJob { id status startTime endTime progress { rowsWritten }
      artifacts { filename url byteSize rowCount sha256 contentType } } } } } } }"""
DELETE = """mutation($id: ID!) { deleteExportSchedule(input: {id: $id}) {
  deletedId userErrors { code } } }"""


def test_a_schedule_catches_up_on_past_periods_with_one_job_each(
    gateway: GatewayHandle, dataset: Dataset
) -> None:
    scheduler = None
    if gateway.mode == "distributed":  # a second scheduler, racing the gateway's
        env = {**gateway.env, "GATEWAY_SCHEDULE_INTERVAL_SECONDS": "0.5"}
        scheduler = SchedulerProcess(env, gateway.data_dir / "scheduler.log").start()
    client = gateway.client("b")
    try:
        created = client.execute(
            CREATE,
            {
                "input": {
                    "name": "yearly binance trades",
                    "export": {"datastreamId": str(BINANCE.id), "format": "CSV"},
                    "every": "P1Y",
                    "periodStart": "2024-01-01T00:00:00+01:00",
                    "timezone": "Europe/Paris",
                    "delay": "PT1H",
                }
            },
        )["createExportSchedule"]
        assert created["userErrors"] == []
        schedule_id = created["exportSchedule"]["id"]
        runs = _settled_runs(client.execute, schedule_id, count=2)
        # Latest period first: 2025 (no data) and 2024 (the whole dataset).
        assert [(r["periodStart"], r["periodEnd"]) for r in runs] == [
            ("2024-12-31T23:00:00.000000000Z", "2025-12-31T23:00:00.000000000Z"),
            ("2023-12-31T23:00:00.000000000Z", "2024-12-31T23:00:00.000000000Z"),
        ]
        later, first = (r["exportJob"] for r in runs)
        assert int(later["progress"]["rowsWritten"]) == 0
        assert (first["startTime"], first["endTime"]) == (
            runs[1]["periodStart"],
            runs[1]["periodEnd"],
        )
        [artifact] = first["artifacts"]
        rows = read_text_rows("CSV", download(artifact), gzipped=True)
        assert [(int(r["collection_timestamp_ns"]), r["data"]) for r in rows] == sorted(
            dataset.records[BINANCE.id]
        )
        # Nothing more: the next period (2026) has not ended, and no period got two jobs.
        jobs = client.execute(
            '{ exportJobs(first: 100, datastreamId: "501") { edges { node { idempotencyKey } } } }'
        )["exportJobs"]["edges"]
        keys = [e["node"]["idempotencyKey"] for e in jobs]
        assert sorted(k for k in keys if k and schedule_id in k) == sorted(
            f"schedule:{schedule_id}:{parse_timestamp(r['periodStart'])}" for r in runs
        )
        assert (
            client.execute(DELETE, {"id": schedule_id})["deleteExportSchedule"]["userErrors"] == []
        )
    finally:
        if scheduler is not None:
            scheduler.stop()


def _settled_runs(execute: Any, schedule_id: str, count: int) -> list[dict[str, Any]]:
    """The schedule's runs once `count` of them have SUCCEEDED (the sweeper loop of an
    embedded gateway passes every ten seconds: it takes two passes)."""
    deadline = time.monotonic() + 60
    runs: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = execute(RUNS, {"id": schedule_id})["exportSchedule"]["runs"]
        runs = [e["node"] for e in found["edges"]]
        assert int(found["totalCount"]) <= count, runs
        if len(runs) == count and all(r["status"] == "SUCCEEDED" for r in runs):
            return runs
        assert not any(r["status"] in ("FAILED", "CANCELED") for r in runs), runs
        time.sleep(0.3)
    raise AssertionError(f"runs did not settle: {runs}")
