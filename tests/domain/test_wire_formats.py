"""Wire formats are explicit: known ones or custom; bare and enveloped Binance messages both
normalize; a file that does not look like its datastream's wire format is ingested with a
warning, and an export of it fails early saying why, instead of a file of nulls."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from app.db.models import ExportJobRow
from app.domain import wire_formats
from app.domain.catalog import DatastreamSpec
from app.domain.exports import commands, execution, queries
from app.domain.ingest import ingest_file
from app.domain.runtime import Runtime
from tests.domain.helpers import export_request
from tests.helpers.inprocess import Seed

TRADES = DatastreamSpec(
    921, "binance", "Binance", "BTCUSDT", "BTC", "USDT", "spot", "trades", "binance.trade"
)


def jsonl(path: Path, messages: list[dict[str, object]]) -> Path:
    lines = [
        json.dumps({"collection_timestamp_ns": 10**18 + i, "data": m})
        for i, m in enumerate(messages)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def bare_trade(i: int) -> dict[str, object]:
    return {
        "e": "trade", "E": 10**12 + i, "s": "BTCUSDT", "t": i, "p": "42800.5", "q": "0.1",
        "T": 10**12 + i, "m": i % 2 == 0, "M": True,
    }  # fmt: skip


def test_names_are_known_or_custom_and_defaults_match_the_builtins() -> None:
    assert wire_formats.check("binance.trade") == "binance.trade"
    assert wire_formats.check("custom") == "custom"
    with pytest.raises(ValueError, match=r"unknown wire format 'binance\.trades'"):
        wire_formats.check("binance.trades")
    assert wire_formats.default_for("binance", "trades") == "binance.trade"
    assert wire_formats.default_for("bybit", "book") == "bybit.orderbook"
    assert wire_formats.default_for("kraken", "trades") == "custom"


async def export_normalized(runtime: Runtime, seed: Seed) -> ExportJobRow | None:
    """Export every trade of the datastream as `normalized`; the finished job row."""
    job, _ = await commands.create_export(
        runtime,
        seed.principals["alpha"],
        export_request(
            datastream_id=str(TRADES.id), start_time=0, end_time=2 * 10**18, schema="normalized"
        ),
    )
    await asyncio.to_thread(execution.run_export_job, runtime, job.id)
    async with runtime.sessions() as session:
        return await queries.get_export(session, seed.principals["alpha"], job.id)


async def test_bare_binance_trades_export_normalized(
    runtime: Runtime, seed: Seed, tmp_path: Path
) -> None:
    path = jsonl(tmp_path / "bare.jsonl", [bare_trade(i) for i in range(300)])
    result = ingest_file(runtime, TRADES.id, path, TRADES)
    assert result.rows == 300 and result.warning is None
    done = await export_normalized(runtime, seed)
    assert done is not None and done.status == "SUCCEEDED", done and done.reason
    assert done.rows_written == 300


async def test_messages_of_another_format_warn_at_ingest_and_fail_the_export_early(
    runtime: Runtime, seed: Seed, tmp_path: Path
) -> None:
    bybit = json.loads(wire_formats.known("bybit.publicTrade").example)  # type: ignore[union-attr]
    path = jsonl(tmp_path / "wrong.jsonl", [bybit] * 300)
    result = ingest_file(runtime, TRADES.id, path, TRADES)
    assert result.rows == 300
    assert result.warning is not None and "binance.trade" in result.warning
    done = await export_normalized(runtime, seed)
    assert done is not None and done.status == "FAILED"
    assert "'binance.trade'" in (done.reason or "") and "path 'data." in (done.reason or "")
