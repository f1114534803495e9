"""The printed report: speed ratios, memory growth, and the cross-check, as rich tables."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.check import Check

MiB = 1024 * 1024


def rate(rows_per_second: float | None) -> str:
    if rows_per_second is None:
        return "-"
    if rows_per_second >= 1e6:
        return f"{rows_per_second / 1e6:.2f}M/s"
    return f"{rows_per_second / 1e3:.0f}k/s"


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def mib(value: float | None) -> str:
    return "-" if value is None else f"{value / MiB:.0f} MiB"


def header(console: Console, summary: dict[str, Any]) -> None:
    data = summary["dataset"]
    versions = summary["versions"]
    console.print(
        f"[bold]Export engine benchmark[/bold]: {data['rows']:,} Binance trades "
        f"({data['symbol']}) in {data['segments']} segment(s) ({data['bytes'] / MiB:.0f} MiB), "
        f"generated in {data['generate_seconds']:.1f} s"
    )
    if data.get("raw_bytes"):
        segments, rows = data["segments"], data["rows"]
        raw_s, decoded_s = data["raw_write_seconds"], data["decoded_write_seconds"]
        console.print(
            "Messages decoded once and stored beside them: "
            f"{data['bytes'] / segments / MiB:.1f} MiB per segment vs "
            f"{data['raw_bytes'] / segments / MiB:.1f} MiB raw only "
            f"({ratio(data['bytes'] / data['raw_bytes'])}); writing the segments took "
            f"{decoded_s:.1f} s ({rate(rows / decoded_s)}) vs {raw_s:.1f} s raw only "
            f"({rate(rows / raw_s)})"
        )
    console.print(
        f"Python {platform.python_version()}, pyarrow {versions['pyarrow']}, "
        f"duckdb {versions['duckdb']}, {versions['cpus']} CPUs; "
        f"best of {summary['repeat']}; every export in a fresh process",
        style="dim",
    )


def speed_table(summary: dict[str, Any]) -> Table:
    rows = summary["dataset"]["rows"]
    table = Table(
        title=f"Speed, {rows:,} rows, rows/s (ratio > 1: the engine is faster)",
        title_justify="left",
    )
    table.add_column("export")
    for name in ("engine", "naive Python", "DuckDB", "engine/naive", "engine/DuckDB"):
        table.add_column(name, justify="right")
    table.add_column("CPU engine/DuckDB", justify="right")
    for kind, entry in summary["speed"].items():
        table.add_row(
            kind,
            rate(entry["engine"]),
            rate(entry["naive"]),
            rate(entry["duckdb"]),
            ratio(entry["engine/naive"]),
            ratio(entry["engine/duckdb"]),
            f"{entry['cores']['engine']:.1f} / {entry['cores']['duckdb']:.1f} cores",
        )
    return table


def memory_table(summary: dict[str, Any]) -> Table:
    small, large = summary["sizes"]
    table = Table(
        title=f"Memory: peak RSS growth, {small:,} vs {large:,} rows (bounded: ratio near 1)",
        title_justify="left",
    )
    table.add_column("export")
    for name in (
        f"engine {short(small)}",
        f"engine {short(large)}",
        "ratio",
        "Arrow pool ratio",
        f"naive {short(large)}",
        f"DuckDB {short(large)}",
    ):
        table.add_column(name, justify="right")
    for kind, entry in summary["memory"].items():
        table.add_row(
            kind,
            mib(entry["engine_small"]),
            mib(entry["engine_large"]),
            ratio(entry["ratio"]),
            ratio(entry["arrow_ratio"]),
            mib(entry["naive_large"]),
            mib(entry["duckdb_large"]),
        )
    return table


def check_table(checks: list[Check]) -> Table:
    table = Table(
        title="Cross-check: rows read back, values compared with the engine's",
        title_justify="left",
    )
    table.add_column("export")
    table.add_column("expected", justify="right")
    for name in ("engine", "naive Python", "DuckDB"):
        table.add_column(name, justify="right")
    table.add_column("values")
    for check in checks:
        counts = []
        for impl in ("engine", "naive", "duckdb"):
            if impl not in check.rows:
                counts.append("-")
                continue
            n = check.rows[impl]
            ok = n == check.expected_rows and check.reported.get(impl, n) == n
            counts.append(f"{n:,}" if ok and n is not None else f"[red]{n} ✗[/red]")
        if check.values_agree:
            values = "[green]identical[/green]" if len(check.rows) > 1 else "-"
        else:
            problems = [f"{impl}: {error}" for impl, error in check.errors.items()]
            problems += [
                f"{impl}: {', '.join(columns)}"
                for impl, columns in check.differing.items()
                if columns
            ]
            values = "[yellow]differ: " + "; ".join(problems) + "[/yellow]"
        table.add_row(check.kind, f"{check.expected_rows:,}", *counts, values)
    return table


def short(rows: int) -> str:
    """A row count as a column label: 1M, 250k."""
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return f"{rows:,}"


def finish(
    console: Console, checks: list[Check], json_path: Path | None, document: dict[str, Any]
) -> int:
    """Write the results as JSON if asked; the exit status: 1 when the row counts of the
    outputs disagree (a wrong export, not a slow one), else 0."""
    if json_path:
        document = document | {"checks": [vars(c) for c in checks]}
        json_path.write_text(json.dumps(document, indent=2, default=str))
        console.print(f"results written to {json_path}", style="dim")
    if not all(c.counts_agree for c in checks):
        console.print("[red]FAILED: the row counts of the outputs disagree[/red]")
        return 1
    if not all(c.values_agree for c in checks):
        console.print("[yellow]warning: outputs have the same rows but different values[/yellow]")
    return 0
