"""`python -m app ingest` as an operator runs it: a summary of what was stored (records,
segments, size, speed, time range), a second run of the same file stores nothing and says
so, and a bad line fails with the file and line and stores nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.processes import gateway_env, run_cli

pytestmark = pytest.mark.e2e

SPEC = ["--exchange", "binance", "--symbol", "SOLUSDT", "--base", "SOL", "--quote", "USDT"]


def write_records(path: Path, count: int, bad_line: int | None = None) -> Path:
    lines = [
        json.dumps({"collection_timestamp_ns": 10**18 + i, "data": {"e": "trade", "t": i}})
        for i in range(count)
    ]
    if bad_line is not None:
        lines[bad_line - 1] = "{oops"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_ingest_summarizes_and_repeats_safely(tmp_path: Path) -> None:
    env = gateway_env(tmp_path / "data")
    run_cli(env, "migrate")
    trades = write_records(tmp_path / "trades.jsonl", 25_000)
    first = run_cli(env, "ingest", str(trades), "--datastream", "301", *SPEC)
    summary = " ".join(first.stderr.split())
    assert "datastream 301: 25,000 records in 1 segment(s)" in summary, summary
    assert "MB/s" in summary and "2001-09-09T01:46:40.000000000Z" in summary
    again = run_cli(env, "ingest", str(trades), "--datastream", "301")
    assert "nothing stored" in " ".join(again.stderr.split())
    bad = write_records(tmp_path / "bad.jsonl", 10, bad_line=7)
    failed = run_cli(env, "ingest", str(bad), "--datastream", "301", check=False)
    assert failed.returncode == 1
    assert "bad.jsonl:7: not JSON" in " ".join(failed.stderr.split())
