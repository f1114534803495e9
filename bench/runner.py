"""One measured export in a fresh process, so that its peak RSS is its own.

    python -m bench.runner '{"manifest": ..., "impl": "engine", "kind": "CSV+GZIP",
                             "rows": 1000000, "path": ...}'

prints one JSON line: rows written, wall and CPU seconds, resident memory before the export
(after imports and set-up) and its peak during the export (the high-water mark is reset
just before it), and the peak of pyarrow's memory pool.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from app.heap import freeze_startup_objects
from bench.dataset import Dataset
from bench.exports import prepare


def resident_bytes() -> int:
    """Resident set size now (Linux), else the peak so far."""
    status = _proc_status()
    return status["VmRSS"] if "VmRSS" in status else _rusage_peak()


def reset_peak() -> bool:
    """Start a new high-water mark at the current RSS (Linux >= 4.0); False if unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return "VmHWM" in _proc_status()


def peak_resident_bytes() -> int:
    """This process's own peak RSS.

    Not getrusage's ru_maxrss on Linux: exec() carries the parent's high-water mark into the
    child's ru_maxrss, so a child of a big parent reports the parent's peak.
    """
    status = _proc_status()
    return status["VmHWM"] if "VmHWM" in status else _rusage_peak()


def _rusage_peak() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def _proc_status() -> dict[str, int]:
    try:
        with open("/proc/self/status") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return {}
    sizes = {}
    for line in lines:
        key, _, value = line.partition(":")
        if value.strip().endswith(" kB"):
            sizes[key] = int(value.split()[0]) * 1024
    return sizes


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(job: dict[str, Any]) -> dict[str, Any]:
    import pyarrow as pa

    dataset = Dataset.load(Path(job["manifest"]))
    path = Path(job["path"])
    export = prepare(job["impl"], dataset, job["kind"], job["rows"], path)
    # As a worker process does once its actors are imported (each implementation alike).
    freeze_startup_objects()
    pool = pa.default_memory_pool()
    peak_reset = reset_peak()
    rss_before = resident_bytes()
    pool_before = pool.max_memory() or 0
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    rows = export()
    wall = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_before
    peak = peak_resident_bytes()
    return {
        **job,
        "rows_written": rows,
        "seconds": wall,
        "cpu_seconds": cpu,
        "rss_before": rss_before,
        "rss_peak": peak,
        "rss_growth": max(0, peak - rss_before),
        "peak_reset": peak_reset,
        "arrow_peak": max(0, (pool.max_memory() or 0) - pool_before),
        "arrow_pool": pool.backend_name,
        "output_bytes": path.stat().st_size,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(measure(json.loads(argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
