"""Faults from a seeded schedule, one after the other, and how long the cluster takes to
recover from each.

Recovered means: every gateway answers /readyz with 200, and every job and part that was
RUNNING when the fault struck has since made progress (a heartbeat newer than the fault,
written by whichever worker owns it now) or ended. A killed or paused worker's claims count
only once another worker took them over, so a pause includes the stale-heartbeat timeout."""

from __future__ import annotations

import dataclasses
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from tests.helpers.chaos.cluster import HEARTBEAT_STALE_SECONDS, Cluster

KINDS = ("kill_worker", "pause_worker", "kill_gateway", "restart_redis", "restart_postgres")
RECOVERY_LIMIT_SECONDS = 90.0
# A paused worker stays stopped past the stale-heartbeat timeout, so its work is taken over
# while it still holds its claims; then it continues, as a zombie.
PAUSE_SECONDS = HEARTBEAT_STALE_SECONDS + 3


@dataclass(frozen=True)
class Fault:
    kind: str
    target: int  # a worker's or gateway's index (unused for the services)
    gap_seconds: float  # once work runs, how long before it strikes


@dataclass
class Injected:
    fault: Fault
    at: float  # time.time()
    claims_held: int = 0  # RUNNING jobs and parts the worker struck held
    recovery_seconds: float | None = None  # None: not within RECOVERY_LIMIT_SECONDS


def plan(rng: random.Random, count: int, workers: int) -> list[Fault]:
    """Every kind at least once (when `count` allows), the rest drawn at random, in a
    shuffled order, each striking 0.2 to 1.5 seconds after work is seen running."""
    kinds = list(KINDS) * (count // len(KINDS)) + rng.sample(KINDS, count % len(KINDS))
    rng.shuffle(kinds)
    faults = []
    for kind in kinds:
        target = rng.randrange(workers) if "worker" in kind else rng.randrange(2)
        faults.append(Fault(kind, target, round(rng.uniform(0.2, 1.5), 2)))
    return faults


def inject(cluster: Cluster, fault: Fault) -> Injected:
    """Strike `gap_seconds` after some work is seen running (or after ten seconds
    without any), and measure."""
    deadline = time.monotonic() + 10
    while not _running_now(cluster) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(fault.gap_seconds)
    held = 0
    if "worker" in fault.kind:  # where it hurts: the worker holding the most claims
        target, held = cluster.busiest_worker(fault.target)
        fault = dataclasses.replace(fault, target=target)
    injected = Injected(fault, time.time(), claims_held=held)
    running = _running_now(cluster)
    paused = None
    if fault.kind == "kill_worker":
        cluster.kill_worker(fault.target)
    elif fault.kind == "pause_worker":
        paused = cluster.pause_worker(fault.target, PAUSE_SECONDS)
    elif fault.kind == "kill_gateway":
        cluster.kill_gateway(fault.target)
    elif fault.kind == "restart_redis":
        cluster.restart_redis()
    elif fault.kind == "restart_postgres":
        cluster.restart_postgres()
    else:
        raise AssertionError(fault.kind)
    injected.recovery_seconds = _recovered_after(cluster, injected.at, running)
    if paused is not None:
        paused.join()  # the zombie is back before the next fault
    return injected


def _running_now(cluster: Cluster) -> dict[str, str]:
    """RUNNING jobs and parts (id -> table) as the fault strikes."""
    found = {}
    for table in ("export_jobs", "export_parts", "import_jobs"):
        for (row_id,) in cluster.rows(f"select id from {table} where status = 'RUNNING'"):
            found[row_id] = table
    return found


def _recovered_after(cluster: Cluster, since: float, running: dict[str, str]) -> float | None:
    since_ns = int(since * 1e9)
    deadline = since + RECOVERY_LIMIT_SECONDS
    waiting = dict(running)
    while time.time() < deadline:
        try:
            for row_id, table in list(waiting.items()):
                [(status, heartbeat)] = cluster.rows(
                    f"select status, heartbeat_at from {table} where id = %s", row_id
                )
                if status != "RUNNING" or (heartbeat or 0) > since_ns:
                    del waiting[row_id]
            if not waiting and cluster.ready():
                return round(time.time() - since, 2)
        except Exception:  # the database is still coming back
            pass
        time.sleep(0.1)
    return None


@dataclass
class Report:
    seed: int
    budget: str
    faults: list[Injected] = field(default_factory=list)
    jobs: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> status -> count
    subscriber_connections: int = 0
    request_retries: int = 0
    takeovers: dict[str, int] = field(default_factory=dict)  # table -> claims taken again
    seconds: dict[str, float] = field(default_factory=dict)

    def by_kind(self) -> dict[str, dict[str, Any]]:
        table: dict[str, dict[str, Any]] = {}
        for kind in KINDS:
            times = [i.recovery_seconds for i in self.faults if i.fault.kind == kind]
            done = [t for t in times if t is not None]
            table[kind] = {
                "injected": len(times),
                "not_recovered": len(times) - len(done),
                "recovery_seconds_median": round(statistics.median(done), 2) if done else None,
                "recovery_seconds_max": max(done) if done else None,
            }
        return table

    def as_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "budget": self.budget,
            "jobs": self.jobs,
            "faults": [
                {
                    "kind": i.fault.kind,
                    "target": i.fault.target,
                    "gap_seconds": i.fault.gap_seconds,
                    "claims_held": i.claims_held,
                    "recovery_seconds": i.recovery_seconds,
                }
                for i in self.faults
            ],
            "faults_by_kind": self.by_kind(),
            "subscriber_connections": self.subscriber_connections,
            "request_retries": self.request_retries,
            "takeovers": self.takeovers,
            "seconds": self.seconds,
        }

    def table(self) -> str:
        lines = [
            f"chaos run: seed {self.seed} (replay: CHAOS_SEED={self.seed}), budget {self.budget}",
            "jobs: "
            + ", ".join(
                f"{kind} {sum(s.values())} ({', '.join(f'{n} {st}' for st, n in s.items())})"
                for kind, s in self.jobs.items()
            ),
            f"subscriber connections {self.subscriber_connections}, "
            f"request retries {self.request_retries}, claims taken over "
            + ", ".join(f"{t} {n}" for t, n in self.takeovers.items()),
            f"{'fault':<18}{'injected':>9}{'recovery median s':>19}{'max s':>8}{'stuck':>7}",
        ]
        for kind, row in self.by_kind().items():
            lines.append(
                f"{kind:<18}{row['injected']:>9}{_shown(row['recovery_seconds_median']):>19}"
                f"{_shown(row['recovery_seconds_max']):>8}{row['not_recovered']:>7}"
            )
        lines.append("phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items()))
        return "\n".join(lines)


def _shown(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
