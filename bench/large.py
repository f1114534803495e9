"""`python -m bench.large` (`make bench-large`): the engine against DuckDB at 10M rows per
format, naive Python at 1M, and the engine's peak memory at 1M, 10M and 50M rows; see README
"Benchmarks".

The input is tiled from a 1M-row base (`bench.tiled`): generating 50M rows with the demo
generator would take longer than every export together. Each export runs in a fresh process
(`bench.runner`), one at a time. Exits non-zero only when something crashes or row counts
disagree; speed and memory are reported, never asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from bench import report
from bench.__main__ import RunFailed, run_one
from bench.check import Check, cross_check
from bench.dataset import Dataset
from bench.exports import KINDS, output_name
from bench.tiled import tiled

# The targets: engine/DuckDB speed per format, and memory that stays flat with rows
# (its figures: +192 -> +223 MiB from 1M to 8M rows, where DuckDB used +1.5 GiB).
SPEED_TARGETS = {"CSV+GZIP": 3.0, "JSONL+GZIP": 2.0, "PARQUET": 2.0, "CSV": 2.0, "JSONL": 2.0}
MEMORY_REFERENCE = "issue: +192 -> +223 MiB (1.16x) from 1M to 8M rows, DuckDB +1.5 GiB"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.large", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--rows", type=int, default=10_000_000, help="engine vs DuckDB (10M)")
    parser.add_argument(
        "--naive-rows", type=int, default=1_000_000, help="engine vs naive Python (1M)"
    )
    parser.add_argument(
        "--series",
        default="1000000,10000000,50000000",
        help="row counts of the engine's memory series (default 1M,10M,50M)",
    )
    parser.add_argument("--series-kinds", default="CSV+GZIP,PARQUET")
    parser.add_argument("--kinds", default=",".join(KINDS), help="formats compared with DuckDB")
    parser.add_argument("--base-rows", type=int, default=1_000_000, help="generated, then tiled")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="engine and DuckDB runs at --rows, alternating; the fastest of each is kept",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    args = parser.parse_args(argv)
    args.series = sorted({int(n) for n in args.series.split(",") if n.strip()})
    args.kinds = _kinds(parser, args.kinds)
    args.series_kinds = _kinds(parser, args.series_kinds)
    if not 0 < args.naive_rows <= args.rows or not all(n > 0 for n in args.series):
        parser.error("need 0 < naive-rows <= rows and positive series sizes")
    if args.repeat < 1:
        parser.error("--repeat is at least 1")
    return args


def _kinds(parser: argparse.ArgumentParser, text: str) -> list[str]:
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        parser.error(f"unknown kinds {unknown}")
    return kinds


class Bench:
    """Runs exports one at a time, prints a line per run, and keeps per export the fastest
    run (with the largest memory of its runs: a repeat must not hide a peak)."""

    def __init__(self, console: Console, dataset: Dataset, manifest: Path) -> None:
        self.console, self.dataset, self.manifest = console, dataset, manifest
        self.results: dict[tuple[str, str, int], dict[str, Any]] = {}
        self.out = dataset.directory / "out"
        self.out.mkdir(exist_ok=True)

    def path(self, impl: str, kind: str, rows: int) -> Path:
        return self.out / f"{rows}-{kind.replace('+', '_')}-{output_name(impl, kind)}"

    def run(self, impl: str, kind: str, rows: int) -> dict[str, Any]:
        result = run_one(self.manifest, impl, kind, rows, self.path(impl, kind, rows))
        self.console.print(
            f"  {kind:<11} {impl:<7} {rows:>11,} rows  {result['seconds']:7.1f} s  "
            f"{result['cpu_seconds'] / result['seconds']:.1f} cores  "
            f"peak RSS +{result['rss_growth'] / report.MiB:.0f} MiB  "
            f"output {result['output_bytes'] / report.MiB:,.0f} MiB",
            style="dim",
            highlight=False,
        )
        key = (impl, kind, rows)
        kept = self.results.get(key)
        if kept is not None:
            result = min(kept, result, key=lambda r: r["seconds"]) | {
                "rss_growth": max(kept["rss_growth"], result["rss_growth"]),
                "arrow_peak": max(kept["arrow_peak"], result["arrow_peak"]),
            }
        self.results[key] = result
        return result

    def clean(self) -> None:
        for path in self.out.iterdir():
            path.unlink()


def compare(bench: Bench, kind: str, rows: int, naive_rows: int, repeat: int = 1) -> list[Check]:
    """The engine and DuckDB at `rows` (`repeat` times, alternating: a neighbour's load
    then slows both alike), the engine and naive Python at `naive_rows`; every output read
    back and compared with the engine's."""
    checks = []
    for size, impls, runs in (
        (rows, ("engine", "duckdb"), repeat),
        (naive_rows, ("engine", "naive"), 1),
    ):
        for _ in range(runs):
            results = {impl: bench.run(impl, kind, size) for impl in impls}
        checks.append(
            cross_check(
                kind,
                size,
                {impl: bench.path(impl, kind, size) for impl in impls},
                {impl: r["rows_written"] for impl, r in results.items()},
            )
        )
        bench.clean()
    return checks


def series(bench: Bench, kind: str, sizes: list[int]) -> list[Check]:
    """The engine alone at each size (a size the comparison ran is not run again); rows
    counted back by a streaming reader."""
    checks = []
    for size in sizes:
        if ("engine", kind, size) in bench.results:
            continue  # measured and checked by `compare`
        result = bench.run("engine", kind, size)
        path = bench.path("engine", kind, size)
        check = Check(kind, size, reported={"engine": result["rows_written"]})
        check.rows["engine"] = count_rows(path, kind) if path.exists() else None
        checks.append(check)
        bench.clean()
    return checks


def count_rows(path: Path, kind: str) -> int:
    """Rows in an output without holding it: 50M rows read whole would take gigabytes."""
    fmt, _ = KINDS[kind]
    if fmt == "PARQUET":
        return int(pq.ParquetFile(path).metadata.num_rows)
    if fmt == "CSV":
        return sum(batch.num_rows for batch in pcsv.open_csv(path))
    with pa.input_stream(path) as stream:  # JSONL: one line per row
        return sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 24), b""))


def speed_table(bench: Bench, kinds: list[str], rows: int, naive_rows: int) -> Table:
    table = Table(
        title=(
            f"Speed, rows/s: engine vs DuckDB at {rows:,} rows, vs naive Python at "
            f"{naive_rows:,} (ratio > 1: the engine is faster)"
        ),
        title_justify="left",
    )
    table.add_column("export")
    for name in (
        f"engine {report.short(rows)}",
        f"DuckDB {report.short(rows)}",
        "engine/DuckDB",
        "target",
        "CPU engine/DuckDB",
        f"engine {report.short(naive_rows)}",
        f"naive {report.short(naive_rows)}",
        "engine/naive",
    ):
        table.add_column(name, justify="right")
    for kind in kinds:
        rate = {
            (impl, size): _rate(bench.results[(impl, kind, size)])
            for impl, size in (
                ("engine", rows),
                ("duckdb", rows),
                ("engine", naive_rows),
                ("naive", naive_rows),
            )
        }
        versus_duckdb = rate[("engine", rows)] / rate[("duckdb", rows)]
        target = SPEED_TARGETS[kind]
        table.add_row(
            kind,
            report.rate(rate[("engine", rows)]),
            report.rate(rate[("duckdb", rows)]),
            report.ratio(versus_duckdb),
            f"{target:g}x " + ("met" if versus_duckdb >= target else "[yellow]not met[/yellow]"),
            f"{_cores(bench, 'engine', kind, rows)} / {_cores(bench, 'duckdb', kind, rows)} cores",
            report.rate(rate[("engine", naive_rows)]),
            report.rate(rate[("naive", naive_rows)]),
            report.ratio(rate[("engine", naive_rows)] / rate[("naive", naive_rows)]),
        )
    return table


def memory_table(bench: Bench, kinds: list[str], rows: int, naive_rows: int) -> Table:
    table = Table(
        title=f"Memory: peak RSS growth of the export process, {naive_rows:,} and {rows:,} rows",
        title_justify="left",
    )
    table.add_column("export")
    for name in (
        f"engine {report.short(naive_rows)}",
        f"engine {report.short(rows)}",
        "ratio",
        f"DuckDB {report.short(rows)}",
        "DuckDB/engine",
        f"naive {report.short(naive_rows)}",
    ):
        table.add_column(name, justify="right")
    for kind in kinds:
        growth = {
            (impl, size): bench.results[(impl, kind, size)]["rss_growth"]
            for impl, size in (
                ("engine", naive_rows),
                ("engine", rows),
                ("duckdb", rows),
                ("naive", naive_rows),
            )
        }
        engine = growth[("engine", rows)]
        table.add_row(
            kind,
            report.mib(growth[("engine", naive_rows)]),
            report.mib(engine),
            report.ratio(_ratio(engine, growth[("engine", naive_rows)])),
            report.mib(growth[("duckdb", rows)]),
            report.ratio(_ratio(growth[("duckdb", rows)], engine)),
            report.mib(growth[("naive", naive_rows)]),
        )
    return table


def series_table(bench: Bench, kinds: list[str], sizes: list[int]) -> Table:
    table = Table(
        title=(
            "Engine memory series: peak RSS growth (Arrow pool peak), seconds; flat: ratio near 1"
        ),
        title_justify="left",
    )
    table.add_column("export")
    for size in sizes:
        table.add_column(report.short(size), justify="right")
    table.add_column(f"ratio {report.short(sizes[-1])}/{report.short(sizes[0])}", justify="right")
    for kind in kinds:
        runs = [bench.results[("engine", kind, size)] for size in sizes]
        cells = [
            f"+{report.mib(r['rss_growth'])} ({report.mib(r['arrow_peak'])}), {r['seconds']:.0f} s"
            for r in runs
        ]
        table.add_row(
            kind,
            *cells,
            report.ratio(_ratio(runs[-1]["rss_growth"], runs[0]["rss_growth"])),
        )
    return table


def _rate(result: dict[str, Any]) -> float:
    return float(result["rows_written"]) / float(result["seconds"])


def _cores(bench: Bench, impl: str, kind: str, rows: int) -> str:
    result = bench.results[(impl, kind, rows)]
    return f"{result['cpu_seconds'] / result['seconds']:.1f}"


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def disk_line(directory: Path) -> str:
    used = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
    free = shutil.disk_usage(directory).free
    return f"{used / report.MiB:,.0f} MiB in {directory}, {free / 2**30:,.1f} GiB free"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 150)
    sizes = sorted({args.rows, args.naive_rows, *args.series})
    checks: list[Check] = []
    phases: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="export-bench-large-") as tmp:
        console.print(f"tiling {sizes[-1]:,} records from {args.base_rows:,} ...", style="dim")
        dataset = tiled(Path(tmp), sizes, args.base_rows)
        manifest = dataset.save()
        console.print(
            f"  {len(dataset.segments)} segments, {dataset.byte_size / report.MiB:,.0f} MiB, "
            f"in {dataset.generate_seconds:.0f} s; disk: {disk_line(Path(tmp))}",
            style="dim",
            highlight=False,
        )
        bench = Bench(console, dataset, manifest)
        try:
            started = time.perf_counter()
            for kind in args.kinds:
                checks += compare(bench, kind, args.rows, args.naive_rows, args.repeat)
            phases["comparison"] = time.perf_counter() - started
            started = time.perf_counter()
            for kind in args.series_kinds:
                checks += series(bench, kind, args.series)
            phases["series"] = time.perf_counter() - started
        except RunFailed as exc:
            console.print(f"[red]{exc}[/red]", highlight=False)
            return 1
    console.print()
    console.print(
        f"[bold]Export engine benchmark, large[/bold]: {dataset.rows:,} Binance trades "
        f"({dataset.symbol}) tiled from {min(args.base_rows, dataset.rows):,} generated, in "
        f"{len(dataset.segments)} segment(s) ({dataset.byte_size / report.MiB:,.0f} MiB), "
        f"made in {dataset.generate_seconds:.0f} s"
    )
    console.print(
        f"pyarrow {metadata.version('pyarrow')}, duckdb {metadata.version('duckdb')}, "
        f"{os.cpu_count()} CPUs; every export in a fresh process, one at a time"
        + (
            f" (engine and DuckDB {args.repeat} times each, fastest kept); "
            if args.repeat > 1
            else "; "
        )
        + ", ".join(f"{name} {seconds / 60:.1f} min" for name, seconds in phases.items()),
        style="dim",
    )
    if args.kinds:
        console.print(speed_table(bench, args.kinds, args.rows, args.naive_rows))
        console.print(memory_table(bench, args.kinds, args.rows, args.naive_rows))
    if args.series_kinds and args.series:
        console.print(series_table(bench, args.series_kinds, args.series))
        console.print(f"Memory target: flat with rows ({MEMORY_REFERENCE})", style="dim")
    console.print(report.check_table(checks))
    document = {
        "rows": dataset.rows,
        "generate_seconds": dataset.generate_seconds,
        "phases": phases,
        "runs": list(bench.results.values()),
    }
    return report.finish(console, checks, args.json, document)


if __name__ == "__main__":
    sys.exit(main())
