"""`python -m bench.fanout`: subscription fan-out. A real gateway (`python -m app serve`,
embedded mode, five minutes of trades) with N WebSocket clients subscribed to
`exportJobsUpdated`; one export is created; each client's latency is the time from the
`createExport` answer to its first event about that job. Measured for 1 client (the
baseline) and for N, in the same run.

`--repo PATH` runs the gateway from another checkout (an older commit, for a before/after
table); the clients are this file's. Reports, never asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
TARGET_P99_MS = 250.0
FOLLOW_ALL = "subscription { exportJobsUpdated { id status progress { rowsWritten } } }"
CREATE = """mutation($input: CreateExportInput!) { createExport(input: $input) {
  exportJob { id } userErrors { code message } } }"""
EXPORT = {
    "datastreamId": "101",
    "startTime": "2024-01-15T08:00:00Z",
    "endTime": "2024-01-15T08:05:00Z",
    "schema": "normalized",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Gateway:
    def __init__(self, repo: Path, data_dir: Path) -> None:
        self.repo = repo
        self.data_dir = data_dir
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
        for name in ("DATABASE_URL", "BROKER_URL", "STORAGE_URL", "EVENTS_URL"):
            self.env.pop(name, None)
        self.env.update(
            GATEWAY_DATA_DIR=str(data_dir),
            GATEWAY_RATE_LIMIT_REQUESTS_PER_MINUTE="100000000",
            GATEWAY_RATE_LIMIT_COST_PER_MINUTE="1000000000",
            GATEWAY_MAX_ACTIVE_EXPORTS="1000",
        )
        self.log = open(data_dir / "gateway.log", "ab")  # noqa: SIM115 - closed in stop()
        self.process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "app", *args],
            cwd=self.repo,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        lines = done.stdout.strip().splitlines()
        return lines[-1] if lines else ""

    def start(self) -> str:
        self.cli("migrate")
        self.cli(
            "ingest",
            str(self.trades_file()),
            "--datastream",
            "101",
            "--exchange",
            "binance",
            "--symbol",
            "BTCUSDT",
            "--base",
            "BTC",
            "--quote",
            "USDT",
        )
        key = self.cli("create-key", "--workspace", "bench")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(self.port)],
            cwd=self.repo,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return key
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        log = (self.data_dir / "gateway.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"the gateway did not start:\n{log}")

    def trades_file(self) -> Path:
        """Five minutes of Binance trades, as the demo makes them (the export is not what is
        measured: its events are)."""
        from app.demo.trades import DEMO_START, DEMO_STREAMS, binance_trades

        path = self.data_dir / "trades.jsonl"
        end = DEMO_START + 5 * 60 * 10**9
        with path.open("w") as out:
            for ts, message in binance_trades(DEMO_STREAMS[0], DEMO_START, end, 101):
                out.write(json.dumps({"collection_timestamp_ns": ts, "data": message}) + "\n")
        return path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(30)
            self.process = None
        if not self.log.closed:
            self.log.close()


async def subscriber(url: str, key: str, ready: asyncio.Event, got: asyncio.Queue[Any]) -> None:
    async with websockets.connect(
        url.replace("http", "ws") + "/graphql",
        subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
        open_timeout=60,
        max_queue=None,
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"apiKey": key}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": FOLLOW_ALL}})
        )
        ready.set()
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] == "ping":
                await ws.send(json.dumps({"type": "pong"}))
            elif message["type"] == "next":
                update = message["payload"]["data"]["exportJobsUpdated"]
                await got.put((time.perf_counter(), update["id"]))


async def measure(url: str, key: str, clients: int) -> list[float]:
    """Milliseconds from the createExport answer to each client's first event of the job."""
    queues: list[asyncio.Queue[Any]] = [asyncio.Queue() for _ in range(clients)]
    readies = [asyncio.Event() for _ in range(clients)]
    tasks = []
    for index in range(clients):
        tasks.append(asyncio.create_task(subscriber(url, key, readies[index], queues[index])))
        if index % 50 == 49:
            await asyncio.sleep(0.05)  # do not storm the accept queue
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 300)
    await asyncio.sleep(1.0)  # every subscription has read its (empty) starting state
    async with httpx.AsyncClient(timeout=60) as http:
        response = await http.post(
            f"{url}/graphql",
            json={"query": CREATE, "variables": {"input": EXPORT}},
            headers={"X-Api-Key": key},
        )
    created = time.perf_counter()
    job_id = response.json()["data"]["createExport"]["exportJob"]["id"]
    latencies = []
    for queue in queues:
        while True:
            at, seen_id = await asyncio.wait_for(queue.get(), 120)
            if seen_id == job_id:
                latencies.append(max(0.0, (at - created) * 1000))
                break
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return sorted(latencies)


def percentile(values: list[float], fraction: float) -> float:
    return values[min(len(values) - 1, round(fraction * (len(values) - 1)))]


def run(repo: Path, clients: int) -> dict[int, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as folder:
        gateway = Gateway(repo, Path(folder))
        try:
            key = gateway.start()
            results = {}
            for count in (1, clients):
                latencies = asyncio.run(measure(gateway.url, key, count))
                results[count] = {
                    "p50_ms": percentile(latencies, 0.5),
                    "p99_ms": percentile(latencies, 0.99),
                    "max_ms": latencies[-1],
                }
            return results
        finally:
            gateway.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--repo", type=Path, default=ROOT, help="the gateway's checkout")
    args = parser.parse_args(argv)
    results = run(args.repo.resolve(), args.clients)
    print(f"subscription fan-out ({args.repo}): first event after createExport")
    print(f"{'clients':>8} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}")
    for count, row in results.items():
        print(f"{count:>8} {row['p50_ms']:>9.0f} {row['p99_ms']:>9.0f} {row['max_ms']:>9.0f}")
    one, many = results[1], results[args.clients]
    print(
        f"p99 with {args.clients} clients: {many['p99_ms']:.0f} ms "
        f"({many['p99_ms'] / max(one['p99_ms'], 1e-9):.1f}x one client's); "
        f"target <= {TARGET_P99_MS:.0f} ms"
    )


if __name__ == "__main__":
    main()
