"""`python -m bench.request_cpu`: the CPU one GraphQL request costs the gateway, measured in
process (no network, no other load): `exportJobs(first: 20)` over 50 jobs and
`exportJob(id:)`, sent one after the other through the ASGI app; CPU time per request (the
process's, so the SQLite thread's work counts too). Under load the API's latency is this CPU
times the queue in front of it, so this is the figure to cut.

`--repo PATH` measures another checkout's gateway (an older commit, for a before/after
table), in a child process; `--profile` prints where a request's time goes (pyinstrument).
Reports, never asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LATENCY_TARGET_MS = 100.0  # bench.latency's p99 target, which this CPU bounds
LIST = """query { exportJobs(first: 20) { edges { node { id status createdAt
  progress { rowsWritten } } } } }"""
SMALL = "query($id: ID!) { exportJob(id: $id) { id status } }"
JOBS = 50
REQUESTS = 300


async def measure(data_dir: Path, key: str, profile: bool) -> dict[str, float]:
    import httpx

    from app.config import Settings
    from app.main import create_app, release
    from bench.fanout import CREATE, EXPORT

    app = create_app(Settings())  # no lifespan: no workers, the jobs stay QUEUED
    transport = httpx.ASGITransport(app=app)
    headers = {"X-Api-Key": key}
    results: dict[str, float] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        job_id = ""
        for _ in range(JOBS):
            create = {"query": CREATE, "variables": {"input": EXPORT}}
            answer = (await http.post("/graphql", json=create, headers=headers)).json()
            job_id = answer["data"]["createExport"]["exportJob"]["id"]
        requests: list[tuple[str, dict[str, Any]]] = [
            ("exportJobs(first: 20)", {"query": LIST}),
            ("exportJob(id:)", {"query": SMALL, "variables": {"id": job_id}}),
        ]
        for name, body in requests:
            for _ in range(30):  # warm: caches, pools, imports
                await http.post("/graphql", json=body, headers=headers)
            profiler = None
            if profile:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0002, async_mode="enabled")
                profiler.start()
            costs = []
            for _ in range(REQUESTS):
                started = time.process_time()
                response = await http.post("/graphql", json=body, headers=headers)
                costs.append((time.process_time() - started) * 1000)
                assert "errors" not in response.json(), response.text
            if profiler is not None:
                profiler.stop()
                print(profiler.output_text(unicode=False, color=False, show_all=False))
            results[name] = statistics.median(costs)
    await release(app)
    return results


def prepare(data_dir: Path, repo: Path) -> tuple[dict[str, str], str]:
    from bench.fanout import Gateway

    gateway = Gateway(repo, data_dir)
    gateway.cli("migrate")
    gateway.cli(
        "ingest", str(gateway.trades_file()), "--datastream", "101", "--exchange", "binance",
        "--symbol", "BTCUSDT", "--base", "BTC", "--quote", "USDT",
    )  # fmt: skip
    key = gateway.cli("create-key", "--workspace", "bench")
    gateway.log.close()
    return gateway.env, key


# The child imports the gateway from the measured checkout and this file's `measure`.
CHILD = """
import asyncio, importlib.util, json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
spec = importlib.util.spec_from_file_location("request_cpu", sys.argv[2])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps(asyncio.run(module.measure(Path(sys.argv[3]), sys.argv[4], sys.argv[5] == "1"))))
"""


def run(repo: Path, profile: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-cpu-") as folder:
        env, key = prepare(Path(folder), repo)
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(repo), __file__, folder, key, str(int(profile))],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-3000:])
        lines = done.stdout.strip().splitlines()
        if profile:
            print("\n".join(lines[:-1]))
        result: dict[str, float] = json.loads(lines[-1])
        return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.request_cpu", description=__doc__)
    parser.add_argument("--repo", type=Path, default=ROOT, help="the gateway's checkout")
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile")
    args = parser.parse_args(argv)
    os.environ.pop("PYTHONPATH", None)
    results = run(args.repo.resolve(), args.profile)
    print(f"CPU per GraphQL request, in process ({args.repo}): median")
    for name, ms in results.items():
        print(f"  {name:<24} {ms:6.2f} ms")
    print(
        f"(bounds bench.latency: p99 <= {LATENCY_TARGET_MS:.0f} ms with 50 clients polling "
        "needs the queue of requests in front of one to clear within it)"
    )


if __name__ == "__main__":
    main()
