"""Chaos, not one fault at a time: a distributed cluster of its own (PostgreSQL, Redis, two
gateways, three worker processes) runs a steady mix of exports, imports and a recurring
export, every job followed by a subscriber, while faults from a seeded schedule strike: workers
and gateways SIGKILLed and restarted, Redis restarted empty, PostgreSQL crashed and restarted,
a worker stopped past the heartbeat timeout and continued (a zombie).

Afterwards every job has ended, and SUCCEEDED; each export's files are those of the same
request run before the faults; no file is torn or written twice; fsck finds nothing wrong;
each subscriber saw its job's terminal state. The seed is printed first (CHAOS_SEED replays a
run); a table of faults and recovery times is printed last and written as JSON beside the
run's logs. `make test` runs a bounded budget, `make chaos` (CHAOS_BUDGET=full) a long one."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.chaos import checks
from tests.helpers.chaos.cluster import IMPORTS, Cluster, running_cluster
from tests.helpers.chaos.faults import Report, inject, plan
from tests.helpers.chaos.workload import (
    IMPORT_RECORDS,
    IMPORT_REJECTED_LINES,
    SCHEDULE_PERIODS,
    SCHEDULE_SHAPES,
    SHAPES,
    Defects,
    Gateways,
    Job,
    create_export,
    create_schedule,
    follow,
    import_records,
)
from tests.helpers.own_services import require_servers

pytestmark = pytest.mark.chaos


@dataclass(frozen=True)
class Budget:
    name: str
    exports: int
    imports: int
    faults: int
    workers: int
    submit_gap: tuple[float, float]  # seconds between two submissions
    drain_seconds: float  # for every job to end once the faults stopped


BOUNDED = Budget("bounded", 12, 2, 5, 3, (0.1, 0.6), 240)
FULL = Budget("full", 50, 6, 20, 3, (0.1, 0.8), 600)


def test_every_job_survives_the_chaos_with_the_files_of_a_quiet_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_servers()
    budget = FULL if os.environ.get("CHAOS_BUDGET") == "full" else BOUNDED
    seed = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(1, 10**6))
    with capsys.disabled():
        print(f"\nchaos: CHAOS_SEED={seed} budget={budget.name} logs in {tmp_path}")
    report = Report(seed, budget.name)
    started = time.monotonic()
    with running_cluster(tmp_path, budget.workers) as cluster:
        report.seconds["start"] = time.monotonic() - started
        defects = Defects()
        gateways = Gateways(cluster, defects, random.Random(seed + 1))
        # The quiet phase: every request once, undisturbed, for the files to expect.
        mark = time.monotonic()
        baseline = _quiet_run(cluster, gateways)
        report.seconds["quiet run"] = time.monotonic() - mark
        mark = time.monotonic()
        jobs = _chaos(cluster, gateways, budget, seed, report)
        report.seconds["chaos"] = time.monotonic() - mark
        mark = time.monotonic()
        jobs += _schedule_jobs(cluster, gateways, budget.drain_seconds)
        _drain(cluster, jobs, budget.drain_seconds)
        report.seconds["drain"] = time.monotonic() - mark
        report.subscriber_connections = sum(j.subscriber.connections for j in jobs if j.subscriber)
        report.request_retries = gateways.retries
        _count(report, cluster, jobs)
        report.takeovers = _takeovers(cluster)
        try:
            _check(cluster, jobs, baseline, budget, defects)
        finally:
            report.seconds["total"] = time.monotonic() - started
            (tmp_path / "chaos-report.json").write_text(json.dumps(report.as_json(), indent=2))
            with capsys.disabled():
                print("\n" + report.table())


def _quiet_run(cluster: Cluster, gateways: Gateways) -> dict[str, tuple[str, checks.Signature]]:
    """Every export shape and each of the schedule's periods once, before any fault: each
    shape's job and files."""
    jobs = [
        create_export(gateways, shape, f"quiet-{shape}") for shape in [*SHAPES, *SCHEDULE_SHAPES]
    ]
    _drain(cluster, jobs, 180)
    for job in jobs:
        assert _status(cluster, job) == "SUCCEEDED", job
    return {job.shape: (job.id, checks.published_files(cluster, job.id)) for job in jobs}


def _chaos(
    cluster: Cluster, gateways: Gateways, budget: Budget, seed: int, report: Report
) -> list[Job]:
    """Faults on this thread, new work on another: before each fault, its share of the
    exports is let through, so that jobs are queued and running when it strikes."""
    faults = plan(random.Random(seed), budget.faults, budget.workers)
    print("faults planned:", [(f.kind, f.target, f.gap_seconds) for f in faults])
    create_schedule(gateways)
    jobs: list[Job] = []
    work_rng = random.Random(seed + 2)
    imports_at = set(work_rng.sample(range(budget.exports), budget.imports))
    permits = threading.Semaphore(0)
    failures: list[BaseException] = []

    def submit() -> None:
        try:
            for i in range(budget.exports):
                permits.acquire()
                if i in imports_at:
                    done = len([j for j in jobs if j.kind == "import"])
                    jobs.append(import_records(gateways, done))
                shape = work_rng.choice(list(SHAPES))
                jobs.append(create_export(gateways, shape, f"chaos-{seed}-{i}"))
                time.sleep(work_rng.uniform(*budget.submit_gap))
        except BaseException as exc:
            failures.append(exc)

    submitter = threading.Thread(target=submit, daemon=True)
    submitter.start()
    share = -(-budget.exports // len(faults))
    for fault in faults:
        permits.release(share)
        injected = inject(cluster, fault)
        print(
            f"fault {injected.fault.kind} on {injected.fault.target} (holding "
            f"{injected.claims_held} claims): recovered in {injected.recovery_seconds} s"
        )
        report.faults.append(injected)
    permits.release(budget.exports)  # whatever is left
    submitter.join(600)
    assert not failures, failures
    return jobs


def _schedule_jobs(cluster: Cluster, gateways: Gateways, timeout: float) -> list[Job]:
    """The recurring export's jobs, one per due period, once the scheduler made them."""
    deadline = time.monotonic() + timeout
    while True:
        runs = cluster.rows(
            "select period_start_ns, job_id from export_schedule_runs order by period_start_ns"
        )
        if len(runs) == len(SCHEDULE_PERIODS) and all(job for _start, job in runs):
            break
        assert time.monotonic() < deadline, f"the schedule's runs: {runs}"
        time.sleep(0.5)
    return [
        follow(gateways, Job(str(job_id), "schedule", shape))
        for (_start, job_id), shape in zip(runs, SCHEDULE_SHAPES, strict=True)
    ]


def _status(cluster: Cluster, job: Job) -> str:
    table = "import_jobs" if job.kind == "import" else "export_jobs"
    [(status,)] = cluster.rows(f"select status from {table} where id = %s", job.id)
    return str(status)


def _drain(cluster: Cluster, jobs: list[Job], timeout: float) -> None:
    """Until every job has ended and its subscriber has seen it end."""
    deadline = time.monotonic() + timeout
    for job in jobs:
        assert job.subscriber is not None
        left = max(0.0, deadline - time.monotonic())
        assert job.subscriber.done.wait(left), (
            f"{job.kind} {job.id} ({job.shape}) is {_status(cluster, job)}; its subscriber "
            f"saw {job.subscriber.statuses}"
        )


def _count(report: Report, cluster: Cluster, jobs: list[Job]) -> None:
    for job in jobs:
        counts = report.jobs.setdefault(job.kind, {})
        status = _status(cluster, job)
        counts[status] = counts.get(status, 0) + 1


def _takeovers(cluster: Cluster) -> dict[str, int]:
    """Claims taken again (attempts beyond the first): work the faults interrupted."""
    return {
        table: int(cluster.rows(f"select coalesce(sum(attempts - 1), 0) from {table}")[0][0])
        for table in ("export_jobs", "export_parts", "import_jobs")
    }


def _check(
    cluster: Cluster,
    jobs: list[Job],
    baseline: dict[str, tuple[str, checks.Signature]],
    budget: Budget,
    defects: Defects,
) -> None:
    assert defects.found == [], defects.found
    for job in jobs:
        status = _status(cluster, job)
        assert status == "SUCCEEDED", f"{job.kind} {job.id} ({job.shape}) is {status}"
        assert job.subscriber is not None and job.subscriber.terminal == status, (
            job.id,
            job.subscriber and job.subscriber.statuses,
        )
        if job.kind == "import":
            rejected = [str(line) for line in IMPORT_REJECTED_LINES]
            assert checks.import_reports(cluster, job.id) == rejected
        else:
            quiet_job, expected = baseline[job.shape]
            published = checks.published_files(cluster, job.id)
            assert published == expected, (
                f"{job.shape}: {published} != {expected}\n"
                + checks.difference(cluster, job.id, quiet_job)
            )
    imports = [j for j in jobs if j.kind == "import"]
    assert len(imports) == budget.imports
    # Each import's records stored once (one marker row was there before).
    stored = IMPORT_RECORDS - len(IMPORT_REJECTED_LINES)
    assert checks.imported_rows(cluster, IMPORTS.id) == 1 + len(imports) * stored
    checks.gateways_logged_no_bug(cluster)
    checks.fsck_is_clean(cluster)
