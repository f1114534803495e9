"""Command line: serve, worker, collect, scheduler, migrate, ingest, create-key, demo."""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError
from rich.console import Console

from app import logs, tracing
from app.config import Settings, get_settings

# uvicorn's names for its log levels.
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")

if TYPE_CHECKING:
    from app.domain.ingest import IngestResult
    from app.domain.runtime import Runtime

console = Console(stderr=True)
DEMO_WORKSPACE = "demo"


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> None:
    from app.db.migrate import upgrade

    upgrade(settings)
    console.print("[green]database is up to date[/]")


def cmd_fsck(settings: Settings, args: argparse.Namespace) -> None:
    from rich.table import Table

    from app.domain.fsck import check

    if args.merge and not args.rebuild_catalog:
        console.print("python -m app fsck: error: --merge goes with --rebuild-catalog")
        raise SystemExit(2)  # as argparse refuses a bad option
    if args.rebuild_catalog:
        _rebuild_catalog(settings, merge=args.merge)
        return
    report = check(
        _runtime(settings),
        repair=args.repair,
        checksums=args.checksums,
        grace_seconds=args.grace_seconds,
    )
    console.print(
        f"checked {report.segments_checked:,} segments, {report.artifacts_checked:,} artifacts "
        f"and {report.files_seen:,} segment files"
    )
    if report.not_self_describing:
        console.print(
            f"{len(report.not_self_describing):,} segments are not self-describing (written "
            "before segment files carried their description): they work, and --rebuild-catalog "
            "registers them only from their folder; e.g. " + report.not_self_describing[0]
        )
    if report.clean:
        console.print("[green]the catalog and the storage agree[/]")
        return
    table = Table("kind", "path", "problem", "action")
    for finding in report.findings:
        remove, removed = (
            ("abort", "aborted") if finding.kind == "upload" else ("delete", "deleted")
        )
        if finding.repaired:
            action = "marked broken" if finding.entry_id else removed
        elif finding.repairable:
            action = "--repair would " + ("mark it" if finding.entry_id else f"{remove} it")
        else:
            action = "left: younger than the grace period"
        table.add_row(finding.kind, finding.path, finding.problem, action)
    console.print(table)
    left = [f for f in report.findings if not f.repaired]
    raise SystemExit(1 if left else 0)


def _rebuild_catalog(settings: Settings, merge: bool) -> None:
    from rich.table import Table

    from app.domain.rebuild import CatalogNotEmpty, rebuild_catalog

    try:
        report = rebuild_catalog(_runtime(settings), merge=merge)
    except CatalogNotEmpty as refused:
        raise SystemExit(f"refused: {refused}") from None
    if not (report.per_datastream or report.already_known or report.unregistered):
        where = settings.storage_url if settings.object_storage else settings.storage_dir
        console.print(f"[yellow]no segment files under {where}/segments[/]")
    table = Table(
        "datastream", "stream", "segments", "retired", "rows", "bytes", title="registered"
    )
    for datastream_id, totals in sorted(report.per_datastream.items()):
        table.add_row(
            str(datastream_id),
            totals.name,
            f"{totals.segments:,}",
            f"{totals.retired:,}",
            f"{totals.rows:,}",
            f"{totals.bytes:,}",
        )
    total = report.totals
    table.add_row(
        "total",
        "",
        f"{total.segments:,}",
        f"{total.retired:,}",
        f"{total.rows:,}",
        f"{total.bytes:,}",
    )
    console.print(table)
    console.print(
        f"{report.datastreams:,} datastreams created, {report.not_self_describing:,} segments "
        f"registered from their folder (not self-describing), {report.already_known:,} already "
        "catalogued"
    )
    problems = [("not registered", *p) for p in report.unregistered] + [
        ("conflict", *p) for p in report.conflicts
    ]
    if problems:
        listing = Table("what", "path", "why")
        for row in problems:
            listing.add_row(*row)
        console.print(listing)
        raise SystemExit(1)


def _runtime(settings: Settings) -> Runtime:
    """The CLI's commands run where no worker waits and nobody subscribes: no effects."""
    from app.domain.runtime import NO_EFFECTS, Runtime

    return Runtime.create(settings, NO_EFFECTS)


def _demo_key(settings: Settings) -> str:
    """The demo workspace's key, created once and kept (0600) in data_dir so that every
    `make run` can print it again; real keys are only ever shown at creation."""
    from app.domain.auth import create_api_key, create_workspace, find_workspace

    path = settings.data_dir / "demo-api-key"
    if path.exists():
        return path.read_text().strip()
    with _runtime(settings).sync_sessions() as session:
        workspace = find_workspace(session, DEMO_WORKSPACE) or create_workspace(
            session, DEMO_WORKSPACE
        )
        _key, token = create_api_key(session, workspace.id, "demo")
        session.commit()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(token)
    path.chmod(0o600)
    return token


def cmd_demo(settings: Settings, _args: argparse.Namespace) -> None:
    from app.demo.loader import load_demo_data, store_is_empty

    runtime = _runtime(settings)
    if not store_is_empty(runtime):
        console.print("record store is not empty: demo data not loaded")
        return
    with console.status("generating demo data (Binance and Bybit trades and books, 3 hours)…"):
        results = load_demo_data(runtime)
    for result in results:
        console.print(f"datastream {result.datastream_id}: {result.rows:,} records")


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from app.main import create_app

    host, port = args.host or settings.host, args.port or settings.port
    _check_can_listen(host, port)  # before migrating and starting workers for nothing
    if not args.no_migrate:
        cmd_migrate(settings, args)
    if args.demo or settings.demo_data:
        cmd_demo(settings, args)
        key = _demo_key(settings)
        console.print(f"demo API key: [bold]{key}[/]  (send it as the X-Api-Key header)")
        settings = _with_demo_feed(settings)
        console.print(
            f"demo exchange feed: {settings.binance_ws_url} (Binance and Bybit protocols): "
            "createCollectionSubscription on a demo datastream collects it live"
        )
    console.print(f"GraphQL (and GraphiQL): [bold]http://{host}:{port}/graphql[/]")
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=args.log_level,
        log_config=None,  # uvicorn's lines go through our handler (app.logs)
        access_log=False,  # the gateway writes its own, with the request id (app.web.request_id)
        ws="websockets-sansio",
        ws_max_size=settings.max_body_bytes,  # a WebSocket message is bounded like a body
    )


def _check_can_listen(host: str, port: int) -> None:
    """A port in use (or an address not of this machine) is one line, not a server that
    starts, fails to bind and stops again."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _name, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            probe.bind(address)
    except OSError as exc:
        reason = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc})"
        raise SystemExit(
            f"cannot listen on {host}:{port}: the address {reason}; choose another with "
            "--host/--port (or GATEWAY_HOST/GATEWAY_PORT)"
        ) from None


def _with_demo_feed(settings: Settings) -> Settings:
    """The gateway serves the local exchange feed and collects from it, not the internet."""
    base = f"ws://127.0.0.1:{settings.demo_feed_port}"
    return settings.model_copy(
        update={
            "demo_feed": True,
            "binance_ws_url": base,
            "bybit_ws_url": base + "/v5/public",
        }
    )


def cmd_collect(settings: Settings, args: argparse.Namespace) -> None:
    """A collector process (distributed mode): holds feeds by lease until SIGTERM or Ctrl-C."""
    import asyncio
    import signal

    from app.events import build_event_bus
    from workers.collector.runner import Collector
    from workers.runtime import runtime_with

    async def collect() -> None:
        runtime = runtime_with(settings, build_event_bus(settings))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        try:
            await Collector(runtime).run(stop)
        finally:
            await runtime.dispose()

    asyncio.run(collect())


def cmd_scheduler(settings: Settings, args: argparse.Namespace) -> None:
    """The scheduler of recurring exports alone, until SIGTERM or Ctrl-C: for deployments
    that turn it off in gateways (GATEWAY_SCHEDULE_IN_GATEWAY=false). Any number may run, with
    or without gateways scheduling too: each period still gets one job."""
    import asyncio
    import signal

    from app.domain.schedules.scheduler import schedule_forever
    from app.events import build_event_bus
    from workers.runtime import runtime_with

    if settings.embedded_broker:
        console.print(
            "BROKER_URL is `embedded`: jobs created here wait for a gateway's sweeper to wake "
            "its workers (the gateway also schedules, unless GATEWAY_SCHEDULE_IN_GATEWAY=false)"
        )

    async def schedule() -> None:
        runtime = runtime_with(settings, build_event_bus(settings))
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(schedule_forever(runtime))
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            pass
        finally:
            await runtime.dispose()

    asyncio.run(schedule())


def cmd_worker(settings: Settings, args: argparse.Namespace) -> None:
    if args.gateway_fd is not None:  # an embedded gateway's worker process
        from workers.embedded.process import serve_gateway
        from workers.embedded.supervisor import SETTINGS_ENV

        given = os.environ.get(SETTINGS_ENV)
        if given is not None:
            settings = Settings.model_validate_json(given)
        serve_gateway(settings, args.gateway_fd, args.threads or settings.worker_threads)
        return
    if settings.embedded_broker:
        console.print(
            "[red]BROKER_URL is `embedded`: the gateway runs its own workers. "
            "Set BROKER_URL=redis://... or amqp://... to run separate workers.[/]"
        )
        sys.exit(2)
    processes = args.processes or settings.worker_processes
    threads = args.threads or settings.worker_threads
    # Dramatiq's worker processes write to a pipe, not this terminal: they log in the format
    # decided here, set up by workers.broker.WorkerProcessSetup rather than by Dramatiq.
    os.environ["GATEWAY_LOG_FORMAT"] = logs.resolved_format(settings.log_format, sys.stderr)
    os.execvp(
        sys.executable,
        [
            sys.executable,
            "-m",
            "dramatiq",
            "workers.actors",
            "--processes",
            str(processes),
            "--threads",
            str(threads),
            "--skip-logging",
        ],
    )


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> None:
    from app.domain import wire_formats
    from app.domain.catalog import DatastreamSpec
    from app.domain.ingest import ingest_file

    spec = None
    if args.exchange:
        wire = args.wire_format or wire_formats.default_for(args.exchange, args.stream_type)
        try:
            wire_formats.check(wire)
        except ValueError as exc:
            console.print(f"[red]{exc}[/]")
            sys.exit(2)
        spec = DatastreamSpec(
            args.datastream,
            args.exchange,
            args.exchange_name or args.exchange.title(),
            args.symbol,
            args.base or "",
            args.quote or "",
            args.instrument_type,
            args.stream_type,
            wire,
        )
    path = Path(args.file)
    started = time.monotonic()
    try:
        with _ingest_progress(path) as on_progress:
            result = ingest_file(
                _runtime(settings), args.datastream, path, spec, args.force, on_progress
            )
    except Exception as exc:  # a bad line (IngestError), a bad id, an unknown datastream
        console.print(f"[red]ingest failed, nothing was stored: {exc}[/]")
        sys.exit(1)
    if result.warning is not None:
        console.print(f"[yellow]warning: {result.warning}[/]")
    if result.already is not None:
        console.print(result.already)
    elif result.rows == 0:
        console.print(f"{args.file} holds no records: nothing was stored or created")
    else:
        console.print(_ingest_summary(result, path, time.monotonic() - started))


@contextlib.contextmanager
def _ingest_progress(path: Path) -> Iterator[Callable[[int, int], None]]:
    """A progress bar over the file's bytes, with records read, MB/s and the time left
    (on standard error; plain lines when it is not a terminal)."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("{task.fields[records]:>12,} records"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(path.name, total=path.stat().st_size, records=0)

        def on_progress(bytes_read: int, records: int) -> None:
            progress.update(task, completed=bytes_read, records=records)

        yield on_progress


def _ingest_summary(result: IngestResult, path: Path, seconds: float) -> str:
    from engine.timestamps import format_timestamp

    size = path.stat().st_size
    rate = result.rows / seconds if seconds > 0 else 0.0
    return (
        f"datastream {result.datastream_id}: {result.rows:,} records in "
        f"{result.segments} segment(s), {size / 1e6:,.1f} MB in {seconds:,.1f} s "
        f"({size / 1e6 / max(seconds, 1e-9):,.1f} MB/s, {rate:,.0f} records/s); "
        f"{format_timestamp(result.min_ts or 0)} to {format_timestamp(result.max_ts or 0)}"
    )


def cmd_create_key(settings: Settings, args: argparse.Namespace) -> None:
    from app.domain.auth import Role, create_api_key, create_workspace, find_workspace

    with _runtime(settings).sync_sessions() as session:
        workspace = find_workspace(session, args.workspace) or create_workspace(
            session, args.workspace
        )
        key, token = create_api_key(session, workspace.id, args.name, Role(args.role))
        session.commit()
    console.print(f"workspace {workspace.name} ({workspace.id}), {key.role} key {key.id}")
    print(token)  # stdout: the only output, for scripts


def build_parser() -> argparse.ArgumentParser:
    from app.domain.orphans import GRACE_SECONDS

    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {_version()}", help="print the version"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    serve = sub.add_parser("serve", help="run the gateway (and embedded workers)")
    serve.add_argument("--host", help="address to listen on (default GATEWAY_HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default GATEWAY_PORT, 8000)")
    serve.add_argument("--demo", action="store_true", help="load demo data if the store is empty")
    serve.add_argument(
        "--no-migrate", action="store_true", help="do not apply database migrations at start"
    )
    serve.add_argument(
        "--log-level",
        default="info",
        type=str.lower,
        choices=LOG_LEVELS,
        help="how much the gateway and its access log say (default info)",
    )
    serve.set_defaults(func=cmd_serve)
    worker = sub.add_parser("worker", help="run worker processes (distributed mode)")
    worker.add_argument(
        "--processes", type=int, help="worker processes (default GATEWAY_WORKER_PROCESSES, 1)"
    )
    worker.add_argument(
        "--threads", type=int, help="threads per process (default GATEWAY_WORKER_THREADS, 2)"
    )
    worker.add_argument(
        "--gateway-fd",
        type=int,
        help="embedded mode: the socket of the gateway that started this process (internal)",
    )
    worker.set_defaults(func=cmd_worker)
    sub.add_parser(
        "collect", help="run a live collector (distributed mode; a gateway collects in embedded)"
    ).set_defaults(func=cmd_collect)
    sub.add_parser(
        "scheduler",
        help="run the scheduler of recurring exports (gateways also run it unless told not to)",
    ).set_defaults(func=cmd_scheduler)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    fsck = sub.add_parser(
        "fsck",
        help="check that the catalog and the storage agree (exit status 1 if not), or "
        "rebuild the segment catalog from the files",
    )
    fsck.add_argument(
        "--repair",
        action="store_true",
        help="delete orphan and temporary files older than the grace period; mark broken "
        "catalog entries (never deletes them)",
    )
    fsck.add_argument(
        "--checksums", action="store_true", help="also compare each artifact's SHA-256 (reads all)"
    )
    fsck.add_argument(
        "--grace-seconds",
        type=float,
        default=GRACE_SECONDS,
        help="files younger than this may belong to a writer about to commit (default 6 h)",
    )
    fsck.add_argument(
        "--rebuild-catalog",
        action="store_true",
        help="register every segment file of the storage into an empty (migrated) catalog, "
        "with its exchanges, instruments and datastreams; export jobs and their files are "
        "not recoverable from files and are not registered (exit status 1 if a file could "
        "not be registered)",
    )
    fsck.add_argument(
        "--merge",
        action="store_true",
        help="with --rebuild-catalog: into a catalog that is not empty, registering only the "
        "files it does not know and reporting conflicts",
    )
    fsck.set_defaults(func=cmd_fsck)
    sub.add_parser("demo", help="load demo data if the store is empty").set_defaults(func=cmd_demo)
    ingest = sub.add_parser("ingest", help="load a CSV / JSON lines / Parquet file of records")
    ingest.add_argument("file", help="the file: .csv, .jsonl or .parquet, optionally .gz")
    ingest.add_argument("--datastream", type=int, required=True, help="int64 datastream id")
    ingest.add_argument("--exchange", help="create the datastream if missing: exchange code")
    ingest.add_argument("--exchange-name", help="its display name (default: the code, titled)")
    ingest.add_argument("--symbol", default="", help="the instrument's symbol, e.g. BTCUSDT")
    ingest.add_argument("--base", help="the instrument's base asset, e.g. BTC")
    ingest.add_argument("--quote", help="the instrument's quote asset, e.g. USDT")
    ingest.add_argument(
        "--instrument-type", default="spot", help="spot (default), linear, inverse, option ..."
    )
    ingest.add_argument(
        "--stream-type", default="trades", help="trades (default), book, or your own kind"
    )
    ingest.add_argument(
        "--wire-format",
        help="binance.trade, binance.depthUpdate, bybit.publicTrade, bybit.orderbook or custom; "
        "default: the known one of --exchange and --stream-type, else custom",
    )
    ingest.add_argument(
        "--force",
        action="store_true",
        help="store the file even if these exact bytes were ingested before (duplicates rows)",
    )
    ingest.set_defaults(func=cmd_ingest)
    key = sub.add_parser("create-key", help="create an API key (and its workspace) and print it")
    key.add_argument(
        "--workspace", default="default", help="its name; created if missing (default: default)"
    )
    key.add_argument("--name", default="cli", help="a label for the key (default: cli)")
    key.add_argument(
        "--role",
        choices=["VIEWER", "MEMBER", "ADMIN"],
        default="ADMIN",
        help="ADMIN (the default) bootstraps a workspace; admins create other keys over GraphQL",
    )
    key.set_defaults(func=cmd_create_key)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as exc:  # a bad GATEWAY_* variable: say which, without a traceback
        problems = "; ".join(
            f"{_variable(e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
        )
        raise SystemExit(f"invalid configuration: {problems}") from None
    logs.configure(settings.log_format, _logging_level(getattr(args, "log_level", "info")))
    try:
        args.func(settings, args)
    except Exception as exc:
        problem = _known_problem(settings, exc)
        if problem is None:
            raise
        raise SystemExit(problem) from None
    finally:
        tracing.shutdown()  # the spans still batched


def _variable(location: tuple[int | str, ...]) -> str:
    """The environment variable of a setting pydantic refused (a field name, or the alias
    it was read by)."""
    first = str(location[0]) if location else "?"
    if first in Settings.model_fields:
        return f"GATEWAY_{first.upper()}"
    return first


def _known_problem(settings: Settings, exc: Exception) -> str | None:
    """What to say, in one line, for the failures a configuration or an environment causes
    (the database is down, tracing is asked for but not installed); None for a bug, whose
    traceback is worth showing."""
    from app.db.engine import is_unavailable
    from app.tracing import TracingUnavailable

    if isinstance(exc, TracingUnavailable):
        return str(exc)
    if is_unavailable(exc):
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return (
            f"the database at {_without_password(settings.resolved_database_url)} cannot be "
            f"reached: {first}"
        )
    return None


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _logging_level(name: str) -> int:
    """uvicorn's level names; its `trace` is below DEBUG."""
    return 5 if name == "trace" else int(logging.getLevelName(name.upper()))


def _version() -> str:
    try:
        return metadata.version("export-gateway")
    except metadata.PackageNotFoundError:
        return "unknown"
