"""Segments of a known wire format are written with their messages decoded by the built-in
normalized schema (ingest, imports, collector flushes, compaction); a custom wire format's
segments hold the raw messages only. Exports of either give the same file (tests/engine)."""

from __future__ import annotations

import dataclasses
import json

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from app.db.models import SegmentRow
from app.domain import compaction, wire_formats
from app.domain.catalog import DatastreamSpec
from app.domain.export_schemas import builtin_for
from app.domain.ingest import ingest_tables
from app.domain.runtime import Runtime
from engine.export_schema import compile_schema
from engine.export_schema.compiled import DECODED_COLUMN
from engine.logical import SourceContext
from engine.segments import records_table
from engine.shred import stored_key
from engine.timestamps import parse_timestamp

SPEC = DatastreamSpec(
    912, "binance", "Binance", "BTCUSDT", "BTC", "USDT", "spot", "trades", "binance.trade"
)
CUSTOM = dataclasses.replace(SPEC, id=913, wire_format="custom")
HOUR = parse_timestamp("2024-05-01T10:00:00Z")


def trade(index: int) -> str:
    data = {"s": "BTCUSDT", "t": index, "p": f"42800.{index}", "q": "0.5", "T": 1, "m": True}
    return json.dumps({"stream": "btcusdt@trade", "data": data})


def flush(runtime: Runtime, spec: DatastreamSpec, number: int, first: bool) -> None:
    chunk = [(HOUR + (number * 20 + i) * 10**8, trade(number * 20 + i)) for i in range(20)]
    ingest_tables(runtime, spec.id, [records_table(chunk)], spec if first else None)


def live_files(runtime: Runtime, datastream_id: int) -> list[str]:
    with runtime.sync_sessions() as session:
        paths = session.scalars(
            select(SegmentRow.path).where(
                SegmentRow.datastream_id == datastream_id, SegmentRow.retired_at.is_(None)
            )
        )
        return [str(runtime.settings.storage_dir / p) for p in paths]


def expected_key(spec: DatastreamSpec) -> str | None:
    schema = builtin_for("normalized", "trades")
    assert schema is not None
    context = SourceContext(spec.exchange, spec.symbol, spec.id, spec.instrument_type)
    return compile_schema(schema.spec, context).decode_key()


async def test_known_wire_formats_are_stored_decoded_and_compaction_keeps_it(
    runtime: Runtime,
) -> None:
    for number in range(3):
        flush(runtime, SPEC, number, first=number == 0)  # later flushes look the spec up
    files = live_files(runtime, SPEC.id)
    assert len(files) == 3
    assert {stored_key(pq.read_schema(f)) for f in files} == {expected_key(SPEC)}
    assert await compaction.compact_pass(runtime) == 1
    [merged] = live_files(runtime, SPEC.id)
    assert stored_key(pq.read_schema(merged)) == expected_key(SPEC)
    table = pq.read_table(merged)
    decoded = table.column(DECODED_COLUMN).combine_chunks()
    assert pc_field(decoded, "t") == list(range(60))


def pc_field(decoded: pa.StructArray, name: str) -> list[object]:
    return decoded.field("data").field(name).to_pylist()


async def test_a_custom_wire_format_is_stored_raw_only(runtime: Runtime) -> None:
    assert wire_formats.shredder(CUSTOM) is None
    flush(runtime, CUSTOM, 0, first=True)
    flush(runtime, CUSTOM, 1, first=False)
    for path in live_files(runtime, CUSTOM.id):
        assert pq.read_schema(path).names == ["collection_timestamp_ns", "data"]
    assert await compaction.compact_pass(runtime) == 1
    [merged] = live_files(runtime, CUSTOM.id)
    assert pq.read_schema(merged).names == ["collection_timestamp_ns", "data"]


def test_every_known_wire_format_has_a_shredder() -> None:
    for wire in wire_formats.KNOWN:
        spec = dataclasses.replace(
            SPEC, exchange=wire.exchange, stream_type=wire.stream_type, wire_format=wire.name
        )
        assert wire_formats.shredder(spec) is not None, wire.name
