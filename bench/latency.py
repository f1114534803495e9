"""`python -m bench.latency`: how responsive the GraphQL API stays while exports run. A real
gateway (`python -m app serve`, embedded mode, an hour of trades) and, beside it, a bare
Starlette endpoint in its own uvicorn process reading the same rows from the same SQLite
database with no GraphQL, no auth and no exports (the floor). 50 finished exports fill the
first page, then 50 clients poll each, every second, for a few seconds: a small query
(`exportJob(id:)`, one row), `exportJobs(first: 20)` (the page the target is set on) and
`exportJobs(first: 50)`; idle, then while exports run back to back (three by default, each a
new normalized CSV export as soon as the last one finished).
Prints p50/p99 in milliseconds with the target beside them, the CPU the gateway process and
the processes it started (embedded workers) used meanwhile, and the share of requests the
gateway answered from an identical request's execution (`gateway_graphql_shared_answers_total`).

`--repo PATH` runs the gateway from another checkout (an older commit, for a before/after
table); the clients and the bare endpoint are this file's. Reports, never asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.fanout import CREATE, ROOT, Gateway, free_port, percentile

TARGET_P99_MS = 100.0
SMALL = "query($id: ID!) { exportJob(id: $id) { id status } }"
LIST_QUERY = """query {{ exportJobs(first: {first}) {{ edges {{ node {{ id status createdAt
  progress {{ rowsWritten }} }} }} }} }}"""
# The target is set on the page a dashboard polls (first: 20); first: 50 is the full page.
TARGET_QUERY = "exportJobs(first: 20)"
PAGES = (20, 50)
STATUS = "query($id: ID!) { exportJob(id: $id) { status } }"
TRADES_MINUTES = 60
EXPORT = {
    "datastreamId": "101",
    "startTime": "2024-01-15T08:00:00Z",
    "endTime": "2024-01-15T09:00:00Z",
    "schema": "normalized",
    "format": "CSV",
}
LISTED_JOBS = 50
FILLER = {**EXPORT, "endTime": "2024-01-15T08:01:00Z"}
BARE_SMALL = "SELECT * FROM export_jobs WHERE id = :id"
BARE_LIST = (
    "SELECT * FROM export_jobs WHERE workspace_id = :workspace "
    "ORDER BY created_at DESC, id DESC LIMIT :limit"
)


def bare_app(database: Path) -> Any:
    """The floor: the same reads through SQLAlchemy and aiosqlite, as the gateway's sessions
    make them (WAL, busy timeout), in a Starlette endpoint."""
    from sqlalchemy import event, text
    from sqlalchemy.ext.asyncio import create_async_engine
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    engine = create_async_engine(f"sqlite+aiosqlite:///{database}", connect_args={"timeout": 30})

    def pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    event.listen(engine.sync_engine, "connect", pragmas)

    async def small(request: Request) -> JSONResponse:
        async with engine.connect() as connection:
            row = (await connection.execute(text(BARE_SMALL), dict(request.query_params))).first()
        if row is None:
            return JSONResponse({"id": None}, status_code=404)
        return JSONResponse({"id": row.id, "status": row.status, "workspace": row.workspace_id})

    async def jobs(request: Request) -> JSONResponse:
        async with engine.connect() as connection:
            params = {**request.query_params, "limit": int(request.query_params["limit"])}
            rows = (await connection.execute(text(BARE_LIST), params)).all()
        return JSONResponse([{"id": r.id, "status": r.status} for r in rows])

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    routes = [Route("/small", small), Route("/jobs", jobs), Route("/healthz", health)]
    return Starlette(routes=routes)


class Bare:
    def __init__(self, database: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.latency",
                "--bare",
                str(database),
                "--port",
                str(self.port),
            ],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("the bare endpoint did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.log.close()


def request_bytes(url: str, path: str, key: str, body: dict[str, Any] | None = None) -> bytes:
    """One HTTP/1.1 request, built once: the clients only write it and read the answer, so
    their own cost stays small beside the servers' (httpx's pool was the bottleneck)."""
    host = url.removeprefix("http://")
    lines = [f"{'POST' if body is not None else 'GET'} {path} HTTP/1.1", f"Host: {host}"]
    lines.append(f"X-Api-Key: {key}")
    payload = b""
    if body is not None:
        payload = json.dumps(body).encode()
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def poll(
    url: str, request: bytes, clients: int, seconds: float, interval: float
) -> list[float]:
    """Each client, on its own kept-alive connection, sends the request every `interval`
    seconds (starting at a random offset; at once when the last answer came late), as a
    dashboard polls; milliseconds each."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    host, port = url.removeprefix("http://").split(":")

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        next_at = time.perf_counter() + random.uniform(0, interval)
        try:
            while next_at < deadline:
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                started = time.perf_counter()
                next_at = max(next_at + interval, started)
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = head.split(b" ", 2)[1]
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                body = await reader.readexactly(length)
                if status != b"200" or b'"errors"' in body:
                    raise RuntimeError(f"{status!r}: {body[:300]!r}")
                latencies.append((time.perf_counter() - started) * 1000)
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return sorted(latencies)


async def keep_exporting(url: str, key: str, stop: asyncio.Event, done: list[str]) -> None:
    """One export at a time, back to back, until `stop`."""
    headers = {"X-Api-Key": key}
    async with httpx.AsyncClient(timeout=120, headers=headers) as http:
        while not stop.is_set():
            variables = {"input": EXPORT}
            answer = await http.post(
                f"{url}/graphql", json={"query": CREATE, "variables": variables}
            )
            job_id = answer.json()["data"]["createExport"]["exportJob"]["id"]
            while not stop.is_set():
                await asyncio.sleep(0.2)
                state = await http.post(
                    f"{url}/graphql", json={"query": STATUS, "variables": {"id": job_id}}
                )
                if state.json()["data"]["exportJob"]["status"] not in ("QUEUED", "RUNNING"):
                    done.append(job_id)
                    break


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time of the gateway process, and of the processes it started (embedded workers)."""
    tick = os.sysconf("SC_CLK_TCK")

    def own(process: int) -> float:
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / tick

    def children(process: int) -> list[int]:
        found = []
        for task in Path(f"/proc/{process}/task").glob("*"):
            with contextlib.suppress(OSError):
                found += [int(c) for c in (task / "children").read_text().split()]
        return found

    descendants, stack = [], children(pid)
    while stack:
        child = stack.pop()
        descendants.append(child)
        stack += children(child)
    return own(pid), sum(own(child) for child in descendants)


async def measure(
    gateway_pid: int,
    gateway_url: str,
    bare_url: str,
    key: str,
    clients: int,
    seconds: float,
    interval: float,
    exports: int,
) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=clients * 2, max_keepalive_connections=clients * 2)
    async with httpx.AsyncClient(timeout=120, limits=limits, headers={"X-Api-Key": key}) as http:
        # A full first page in every phase: 50 finished one-minute exports.
        job_ids = []
        for _ in range(LISTED_JOBS):
            answer = await http.post(
                f"{gateway_url}/graphql", json={"query": CREATE, "variables": {"input": FILLER}}
            )
            job_ids.append(answer.json()["data"]["createExport"]["exportJob"]["id"])
        job_id = job_ids[-1]
        for waiting in job_ids:
            while True:
                state = await http.post(
                    f"{gateway_url}/graphql", json={"query": STATUS, "variables": {"id": waiting}}
                )
                if state.json()["data"]["exportJob"]["status"] not in ("QUEUED", "RUNNING"):
                    break
                await asyncio.sleep(0.2)
        workspace = await _workspace_of(bare_url, job_id)

        gql = "/graphql"
        probes = {
            ("small", "gateway"): (
                gateway_url,
                request_bytes(gateway_url, gql, key, {"query": SMALL, "variables": {"id": job_id}}),
            ),
            ("small", "bare"): (bare_url, request_bytes(bare_url, f"/small?id={job_id}", key)),
        }
        for first in PAGES:
            query = LIST_QUERY.format(first=first)
            probes[(f"exportJobs(first: {first})", "gateway")] = (
                gateway_url,
                request_bytes(gateway_url, gql, key, {"query": query}),
            )
            probes[(f"exportJobs(first: {first})", "bare")] = (
                bare_url,
                request_bytes(bare_url, f"/jobs?workspace={workspace}&limit={first}", key),
            )

        results: dict[str, Any] = {}
        for phase in ("idle", f"{exports} exports running"):
            stop = asyncio.Event()
            done: list[str] = []
            busy = []
            if phase != "idle":
                busy = [
                    asyncio.create_task(keep_exporting(gateway_url, key, stop, done))
                    for _ in range(exports)
                ]
                await asyncio.sleep(1.0)  # the exports are running
            for (query, server), (url, request) in probes.items():
                shared_before = await shared_answers(http, gateway_url)
                before = cpu_seconds(gateway_pid), time.perf_counter()
                latencies = await poll(url, request, clients, seconds, interval)
                after = cpu_seconds(gateway_pid), time.perf_counter()
                wall = after[1] - before[1]
                results[f"{phase}|{query}|{server}"] = {
                    "requests": len(latencies),
                    "p50": percentile(latencies, 0.50),
                    "p99": percentile(latencies, 0.99),
                    "gateway_cores": (after[0][0] - before[0][0]) / wall,
                    "worker_cores": (after[0][1] - before[0][1]) / wall,
                    "shared": await shared_answers(http, gateway_url) - shared_before,
                }
            stop.set()
            await asyncio.gather(*busy)
            if busy:
                results[f"{phase}|exports finished"] = len(done)
        return results


async def shared_answers(http: httpx.AsyncClient, gateway_url: str) -> float:
    """Queries the gateway answered from another identical query's execution, so far (0 for
    a gateway that does not count them)."""
    text = (await http.get(f"{gateway_url}/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "gateway_graphql_shared_answers_total":
                return float(sample.value)
    return 0.0


async def _workspace_of(bare_url: str, job_id: str) -> str:
    """The workspace of the bench's key (the bare endpoint has no auth: it is told)."""
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.get(f"{bare_url}/small", params={"id": job_id})
    answer.raise_for_status()
    return str(answer.json()["workspace"])


def run(repo: Path, clients: int, seconds: float, interval: float, exports: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as folder:
        data_dir = Path(folder)
        gateway = Gateway(repo, data_dir)
        gateway.trades_file = lambda: _trades(data_dir)  # type: ignore[method-assign]
        bare = None
        try:
            key = gateway.start()
            bare = Bare(data_dir / "gateway.db", data_dir / "bare.log")
            return asyncio.run(
                measure(
                    _pid(gateway), gateway.url, bare.url, key, clients, seconds, interval, exports
                )
            )
        finally:
            if bare is not None:
                bare.stop()
            gateway.stop()


def _pid(gateway: Gateway) -> int:
    assert gateway.process is not None
    return gateway.process.pid


def _trades(data_dir: Path) -> Path:
    from app.demo.trades import DEMO_START, DEMO_STREAMS, binance_trades

    path = data_dir / "trades.jsonl"
    end = DEMO_START + TRADES_MINUTES * 60 * 10**9
    with path.open("w") as out:
        for ts, message in binance_trades(DEMO_STREAMS[0], DEMO_START, end, 101):
            out.write(json.dumps({"collection_timestamp_ns": ts, "data": message}) + "\n")
    return path


def report(
    title: str,
    results: dict[str, Any],
    clients: int,
    interval: float,
    exports: int,
    seconds: float,
) -> None:
    print(title)
    print(
        f"{clients} clients, each polling every {interval:g} s; p50 / p99 in ms; target: "
        f"p99 <= {TARGET_P99_MS:.0f} ms for {TARGET_QUERY} on the gateway while {exports} "
        "exports run"
    )
    print(
        f"{'phase':<22}{'query':<24}{'gateway p50':>12}{'p99':>8}{'bare p50':>10}{'p99':>8}"
        f"{'gateway CPU':>13}{'per request':>13}{'workers CPU':>13}{'shared':>8}"
    )
    for key, value in results.items():
        phase, query, server = [*key.split("|"), "", ""][:3]
        if server != "gateway":
            continue
        bare = results[f"{phase}|{query}|bare"]
        print(
            f"{phase:<22}{query:<24}{value['p50']:>12.0f}{value['p99']:>8.0f}"
            f"{bare['p50']:>10.0f}{bare['p99']:>8.0f}"
            f"{value['gateway_cores']:>8.2f} cores"
            f"{value['gateway_cores'] * 1000 * seconds / max(1, value['requests']):>10.1f} ms"
            f"{value['worker_cores']:>8.2f} cores"
            f"{value.get('shared', 0) / max(1, value['requests']):>8.0%}"
        )
    busy = f"{exports} exports running"
    target = results[f"{busy}|{TARGET_QUERY}|gateway"]["p99"]
    met = "met" if target <= TARGET_P99_MS else "NOT met"
    others = ", ".join(
        f"{query} {results[f'{busy}|{query}|gateway']['p99']:.0f} ms"
        for query in ("small", *(f"exportJobs(first: {first})" for first in PAGES))
        if query != TARGET_QUERY
    )
    finished = results.get(f"{busy}|exports finished", 0)
    print(
        f"gateway p99 of {TARGET_QUERY} while {exports} exports ran: {target:.0f} ms (target "
        f"<= {TARGET_P99_MS:.0f} ms: {met}); p99 of {others}; {finished} exports finished "
        "meanwhile"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--repo", type=Path, default=ROOT, help="checkout whose gateway runs")
    parser.add_argument("--clients", type=int, default=50)
    # Six probes per phase: 6 s each keeps the run near a minute and a half.
    parser.add_argument("--seconds", type=float, default=6.0, help="per query and phase")
    parser.add_argument(
        "--interval", type=float, default=1.0, help="seconds between two polls of a client"
    )
    parser.add_argument("--exports", type=int, default=3, help="exports running at once")
    parser.add_argument("--json", type=Path, help="write the results as JSON")
    parser.add_argument("--bare", type=Path, help=argparse.SUPPRESS)  # serve the bare endpoint
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare is not None:
        import uvicorn

        uvicorn.run(bare_app(args.bare), host="127.0.0.1", port=args.port, log_level="warning")
        return
    results = run(args.repo.resolve(), args.clients, args.seconds, args.interval, args.exports)
    report(
        f"GraphQL latency ({args.repo.resolve()})",
        results,
        args.clients,
        args.interval,
        args.exports,
        args.seconds,
    )
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
