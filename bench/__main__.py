"""`python -m bench` (`make bench`): the export engine against a naive Python export and
DuckDB, on the same synthetic segments, in the same run; see README "Benchmarks".

Exits non-zero only when something crashes or when the row counts of the outputs disagree;
speed and memory are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.console import Console

from bench import report
from bench.check import Check, cross_check
from bench.dataset import Dataset, generate
from bench.exports import KINDS, output_name

ROOT = Path(__file__).resolve().parent.parent
IMPLEMENTATIONS = ("engine", "naive", "duckdb")


class RunFailed(RuntimeError):
    pass


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="records (default 1000000)")
    parser.add_argument(
        "--small-rows",
        type=int,
        default=None,
        help="the smaller export for the memory ratio (default: a quarter of --rows)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per export; best is kept")
    parser.add_argument(
        "--kinds",
        default=",".join(KINDS),
        help=f"comma-separated exports to measure (default {','.join(KINDS)})",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    args = parser.parse_args(argv)
    args.small_rows = args.small_rows or max(1, args.rows // 4)
    args.kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = [k for k in args.kinds if k not in KINDS]
    if unknown or not 0 < args.small_rows < args.rows or args.repeat < 1:
        parser.error(f"unknown kinds {unknown}" if unknown else "need 0 < small-rows < rows")
    return args


def run_one(manifest: Path, impl: str, kind: str, rows: int, path: Path) -> dict[str, Any]:
    """One export in a fresh interpreter (bench.runner); its JSON line back."""
    path.unlink(missing_ok=True)
    job = {"manifest": str(manifest), "impl": impl, "kind": kind, "rows": rows, "path": str(path)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.runner", json.dumps(job)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RunFailed(f"{impl} {kind} ({rows:,} rows) failed:\n{done.stderr.strip()}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure_kind(
    console: Console, dataset: Dataset, manifest: Path, kind: str, sizes: list[int], repeat: int
) -> tuple[list[dict[str, Any]], list[Check]]:
    small, large = sizes
    out = dataset.directory / "out" / kind.replace("+", "_")
    out.mkdir(parents=True, exist_ok=True)
    runs: list[dict[str, Any]] = []
    plan = [(impl, large) for impl in IMPLEMENTATIONS] + [("engine", small)]
    paths: dict[tuple[str, int], Path] = {}
    for _ in range(repeat):
        for impl, rows in plan:
            path = paths.setdefault((impl, rows), out / f"{rows}-{output_name(impl, kind)}")
            result = run_one(manifest, impl, kind, rows, path)
            runs.append(result)
            console.print(
                f"  {kind:<11} {impl:<7} {rows:>10,} rows  {result['seconds']:6.2f} s  "
                f"peak RSS +{result['rss_growth'] / report.MiB:.0f} MiB",
                style="dim",
                highlight=False,
            )
    last = {(r["impl"], r["rows"]): r for r in runs}
    checks = [
        cross_check(
            kind,
            large,
            {impl: paths[(impl, large)] for impl in IMPLEMENTATIONS},
            {impl: last[(impl, large)]["rows_written"] for impl in IMPLEMENTATIONS},
        ),
        cross_check(
            kind,
            small,
            {"engine": paths[("engine", small)]},
            {"engine": last[("engine", small)]["rows_written"]},
        ),
    ]
    for path in paths.values():
        path.unlink(missing_ok=True)
    return runs, checks


def summarize(
    dataset: Dataset, runs: list[dict[str, Any]], kinds: list[str], sizes: list[int], repeat: int
) -> dict[str, Any]:
    small, large = sizes

    def best(impl: str, kind: str, rows: int) -> dict[str, Any]:
        mine = [r for r in runs if (r["impl"], r["kind"], r["rows"]) == (impl, kind, rows)]
        fastest = min(mine, key=lambda r: r["seconds"])
        # memory: the worst of the repeats
        return fastest | {
            "rss_growth": max(r["rss_growth"] for r in mine),
            "arrow_peak": max(r["arrow_peak"] for r in mine),
        }

    speed: dict[str, Any] = {}
    memory: dict[str, Any] = {}
    for kind in kinds:
        by_impl = {impl: best(impl, kind, large) for impl in IMPLEMENTATIONS}
        rates = {impl: r["rows_written"] / r["seconds"] for impl, r in by_impl.items()}
        speed[kind] = rates | {
            "engine/naive": rates["engine"] / rates["naive"],
            "engine/duckdb": rates["engine"] / rates["duckdb"],
            "cores": {impl: r["cpu_seconds"] / r["seconds"] for impl, r in by_impl.items()},
        }
        engine_small = best("engine", kind, small)
        memory[kind] = {
            "engine_small": engine_small["rss_growth"],
            "engine_large": by_impl["engine"]["rss_growth"],
            "ratio": _safe_ratio(by_impl["engine"]["rss_growth"], engine_small["rss_growth"]),
            "arrow_small": engine_small["arrow_peak"],
            "arrow_large": by_impl["engine"]["arrow_peak"],
            "arrow_ratio": _safe_ratio(by_impl["engine"]["arrow_peak"], engine_small["arrow_peak"]),
            "naive_large": by_impl["naive"]["rss_growth"],
            "duckdb_large": by_impl["duckdb"]["rss_growth"],
        }
    return {
        "dataset": {
            "rows": dataset.rows,
            "symbol": dataset.symbol,
            "segments": len(dataset.segments),
            "bytes": dataset.byte_size,
            "generate_seconds": dataset.generate_seconds,
            "raw_bytes": dataset.raw_bytes,
            "raw_write_seconds": dataset.raw_write_seconds,
            "decoded_write_seconds": dataset.decoded_write_seconds,
        },
        "versions": {
            "pyarrow": metadata.version("pyarrow"),
            "duckdb": metadata.version("duckdb"),
            "cpus": os.cpu_count(),
        },
        "repeat": repeat,
        "sizes": sizes,
        "speed": speed,
        "memory": memory,
    }


def _safe_ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 132)
    sizes = [args.small_rows, args.rows]
    runs: list[dict[str, Any]] = []
    checks: list[Check] = []
    with tempfile.TemporaryDirectory(prefix="export-bench-") as tmp:
        console.print(f"generating {args.rows:,} records ...", style="dim")
        dataset = generate(Path(tmp), sizes)
        manifest = dataset.save()
        for kind in args.kinds:
            try:
                kind_runs, kind_checks = measure_kind(
                    console, dataset, manifest, kind, sizes, args.repeat
                )
            except RunFailed as exc:
                console.print(f"[red]{exc}[/red]", highlight=False)
                return 1
            runs += kind_runs
            checks += kind_checks
    summary = summarize(dataset, runs, args.kinds, sizes, args.repeat)
    console.print()
    report.header(console, summary)
    console.print(report.speed_table(summary))
    console.print(report.memory_table(summary))
    console.print(report.check_table(checks))
    return report.finish(console, checks, args.json, summary | {"runs": runs})


if __name__ == "__main__":
    sys.exit(main())
