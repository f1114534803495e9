"""`python -m bench.parts`: one export on many workers. A real gateway in distributed mode
(PostgreSQL, Redis broker) with a few hours of generated Binance trades; the same export,
split by HOUR (normalized CSV, gzip), run with 1 and then 2 worker processes
(`python -m app worker --processes 1|2 --threads 1`). Prints the wall time of each (from
`createExport` to SUCCEEDED, polled over GraphQL) and the ratio, the same rows exported unsplit
(one file, one worker) for the cost of parts, and whether the two runs published the same
files. Reports, never asserts a timing.

`--hours` sets the size; `--postgres` and `--redis` the services (defaults: the loopback
ones the end-to-end tests use).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
HOUR = 3600 * 10**9
CREATE = """mutation($input: CreateExportInput!) { createExport(input: $input) {
  exportJob { id } userErrors { code message } } }"""
JOB = """query($id: ID!) { exportJob(id: $id) { status reason
  progress { rowsWritten } artifacts { filename sha256 } } }"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def trades_file(folder: Path, hours: int) -> tuple[Path, int, int]:
    """`hours` hours of Binance trades: one generated hour, repeated shifted by an hour."""
    from app.demo.trades import DEMO_START, DEMO_STREAMS, binance_trades

    sample = list(binance_trades(DEMO_STREAMS[0], DEMO_START, DEMO_START + HOUR, 101))
    base = pa.table(
        {
            "collection_timestamp_ns": pa.array([t for t, _ in sample], pa.int64()),
            "data": pa.array([m for _, m in sample]),
        }
    )
    path = folder / "trades.parquet"
    with pq.ParquetWriter(path, base.schema) as writer:
        for hour in range(hours):
            shifted = pc.add(base.column(0), pa.scalar(hour * HOUR, pa.int64()))
            writer.write_table(base.set_column(0, "collection_timestamp_ns", shifted))
    return path, DEMO_START, base.num_rows * hours


class Cluster:
    """A migrated database, a gateway, and workers started and stopped on demand."""

    def __init__(self, folder: Path, postgres: str, redis: str) -> None:
        import psycopg

        self.folder = folder
        self.admin = postgres
        self.database = f"bench_parts_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(postgres, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.database}"')
        base = postgres.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
        for name in ("DATABASE_URL", "BROKER_URL", "STORAGE_URL", "EVENTS_URL"):
            self.env.pop(name, None)
        self.env.update(
            GATEWAY_DATA_DIR=str(folder / "data"),
            DATABASE_URL=f"{base}/{self.database}",
            BROKER_URL=redis,
            GATEWAY_QUEUE_NAME=f"bench-parts-{uuid.uuid4().hex[:8]}",
            GATEWAY_RATE_LIMIT_REQUESTS_PER_MINUTE="100000000",
            GATEWAY_JOB_TIMEOUT_SECONDS="3600",
            PYTHONUNBUFFERED="1",
        )
        self.processes: list[subprocess.Popen[bytes]] = []

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "app", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        lines = done.stdout.strip().splitlines()
        return lines[-1] if lines else ""

    def spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with open(self.folder / f"{name}.log", "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "app", *args],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    def start_gateway(self) -> None:
        self.spawn("gateway", "serve", "--port", str(self.port), "--no-migrate")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the gateway did not start; see gateway.log")

    def wait_ready(self, name: str, processes: int) -> None:
        """Until each worker process has said it is ready (Dramatiq logs it once per process)."""
        deadline = time.monotonic() + 120
        log = self.folder / f"{name}.log"
        while time.monotonic() < deadline:
            if (
                log.read_text(errors="replace").count("Worker process is ready for action")
                >= processes
            ):
                return
            time.sleep(0.2)
        raise RuntimeError(f"the workers did not start; see {name}.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @staticmethod
    def stop(process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def close(self) -> None:
        import psycopg

        for process in self.processes:
            self.stop(process)
        with psycopg.connect(self.admin, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


def graphql(url: str, key: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables},
        headers={"X-Api-Key": key},
        timeout=60,
    )
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return dict(body["data"])


def export_once(cluster: Cluster, key: str, request: dict[str, Any]) -> tuple[float, Any]:
    """Wall seconds from createExport to SUCCEEDED, and the files published."""
    started = time.perf_counter()
    created = graphql(cluster.url, key, CREATE, {"input": request})["createExport"]
    assert not created["userErrors"], created["userErrors"]
    job_id = created["exportJob"]["id"]
    while True:
        job = graphql(cluster.url, key, JOB, {"id": job_id})["exportJob"]
        if job["status"] not in ("QUEUED", "RUNNING"):
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    if job["status"] != "SUCCEEDED":
        raise RuntimeError(f"{job_id}: {job['status']} {job['reason']}")
    files = sorted((a["filename"].replace(job_id, "<job>"), a["sha256"]) for a in job["artifacts"])
    return elapsed, files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hours", type=int, default=12)
    parser.add_argument("--runs", type=int, default=2, help="runs per worker count (best kept)")
    parser.add_argument("--compression", default="GZIP", choices=["GZIP", "ZSTD", "NONE"])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-parts-") as name:
        folder = Path(name)
        path, start, rows = trades_file(folder, args.hours)
        cluster = Cluster(folder, args.postgres, args.redis)
        try:
            cluster.cli("migrate")
            ingest = ["ingest", str(path), "--datastream", "101", "--exchange", "binance"]
            ingest += ["--symbol", "BTCUSDT", "--base", "BTC", "--quote", "USDT"]
            cluster.cli(*ingest)
            key = cluster.cli("create-key", "--workspace", "bench")
            cluster.start_gateway()
            request = {
                "datastreamId": "101",
                "startTime": str(start),
                "endTime": str(start + args.hours * HOUR),
                "schema": "normalized",
                "format": "CSV",
                "compression": args.compression,
                "split": {"by": "HOUR"},
            }
            results: dict[int, float] = {}
            published: dict[int, Any] = {}
            unsplit = 0.0
            for processes in (1, 2):
                worker = cluster.spawn(
                    f"workers{processes}",
                    "worker",
                    "--processes",
                    str(processes),
                    "--threads",
                    "1",
                )
                cluster.wait_ready(f"workers{processes}", processes)
                times = []
                for _ in range(args.runs):
                    seconds, files = export_once(cluster, key, request)
                    times.append(seconds)
                    published[processes] = files
                results[processes] = min(times)
                if processes == 1:  # the same rows unsplit: one file, no parts
                    whole = {k: v for k, v in request.items() if k != "split"}
                    unsplit = min(export_once(cluster, key, whole)[0] for _ in range(args.runs))
                cluster.stop(worker)
        finally:
            cluster.close()
    print(
        f"bench.parts: {rows:,} normalized trades, {args.hours} hours, split by HOUR, "
        f"CSV {args.compression}, distributed mode ({os.cpu_count()} cores)"
    )
    for processes, seconds in results.items():
        print(f"  {processes} worker process(es) x 1 thread: {seconds:6.2f} s wall")
    print(f"  the same rows unsplit (one file), 1 worker: {unsplit:6.2f} s wall")
    print(f"  speed-up, 2 vs 1 workers: {results[1] / results[2]:.2f}x")
    print(f"  same files both ways: {published[1] == published[2]}")
    print(json.dumps({"parts_wall_seconds": results, "unsplit_seconds": unsplit, "rows": rows}))


if __name__ == "__main__":
    main()
