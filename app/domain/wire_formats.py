"""The wire formats the gateway knows: the message shapes of each exchange feed it collects
and normalizes. A datastream's wire format is one of these, or `custom` (its messages are
stored and exported raw, or read by your own export schemas)."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from app.domain.catalog import DatastreamSpec
from app.domain.export_schemas import builtin_for
from engine.export_schema import DecodeError, SchemaError, compile_schema
from engine.logical import SourceContext
from engine.shred import Shredder, shredder_for

CUSTOM = "custom"
SAMPLE = 200  # records of a file compared with its datastream's wire format


@dataclass(frozen=True)
class WireFormat:
    name: str
    exchange: str
    stream_type: str  # trades or book
    description: str
    example: str  # a message as received


KNOWN = (
    WireFormat(
        "binance.trade",
        "binance",
        "trades",
        "Binance spot trade stream `<symbol>@trade`: one trade per message, with or without "
        'the combined-stream envelope {"stream": ..., "data": {...}}.',
        '{"stream":"btcusdt@trade","data":{"e":"trade","E":1705312800123,"s":"BTCUSDT","t":3300000001,"p":"42800.50000000","q":"0.01000000","T":1705312800121,"m":true,"M":true}}',
    ),
    WireFormat(
        "binance.depthUpdate",
        "binance",
        "book",
        "Binance spot diff-depth stream `<symbol>@depth@100ms`: bid and ask level changes, "
        "a size of 0 removes a level; with or without the combined-stream envelope.",
        '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1705312800100,"s":"BTCUSDT","U":41800000001,"u":41800000004,"b":[["42800.10000000","0.25000000"]],"a":[["42800.20000000","0.00000000"]]}}',
    ),
    WireFormat(
        "bybit.publicTrade",
        "bybit",
        "trades",
        "Bybit v5 public topic `publicTrade.<SYMBOL>`: 1 to n trades per message in `data`.",
        '{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1705312800123,"data":[{"T":1705312800121,"s":"BTCUSDT","S":"Buy","v":"0.010","p":"42800.50","L":"PlusTick","i":"0b3f2d3a-9c1e-4b7e-8a40-6f2f8d1c0a11","BT":false}]}',
    ),
    WireFormat(
        "bybit.orderbook",
        "bybit",
        "book",
        "Bybit v5 public topic `orderbook.50.<SYMBOL>`: a snapshot, then deltas (size 0 "
        "removes a level).",
        '{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1705312800100,"data":{"s":"BTCUSDT","b":[["42800.10","0.250"]],"a":[["42800.20","0"]],"u":1234567,"seq":98765432},"cts":1705312800098}',
    ),
)


def known(name: str) -> WireFormat | None:
    return next((w for w in KNOWN if w.name == name), None)


def check(name: str) -> str:
    """A datastream's wire format: a known one or `custom`."""
    if name != CUSTOM and known(name) is None:
        names = ", ".join(w.name for w in KNOWN)
        raise ValueError(f"unknown wire format {name!r}: use one of {names}, or {CUSTOM}")
    return name


def default_for(exchange: str, stream_type: str) -> str:
    """The known wire format of this exchange and stream type, or `custom`."""
    found = next((w for w in KNOWN if (w.exchange, w.stream_type) == (exchange, stream_type)), None)
    return found.name if found else CUSTOM


def sample_warning(spec: DatastreamSpec, records: pa.Table) -> str | None:
    """Why the first records of a file do not look like the datastream's wire format (the
    built-in normalized schema finds a column none of them fills), or None."""
    wire = known(spec.wire_format)
    if wire is None:
        return None
    schema = builtin_for("normalized", wire.stream_type)
    if schema is None:
        return None
    context = SourceContext(spec.exchange, spec.symbol, spec.id, spec.instrument_type, wire.name)
    try:
        compiled = compile_schema(schema.spec, context)
        compiled.apply(records.slice(0, SAMPLE))
        problem = compiled.shape_problem()
    except (DecodeError, SchemaError) as exc:
        problem = str(exc)
    return (
        f"the first records do not look like {wire.name} messages: {problem}" if problem else None
    )


def shredder(spec: DatastreamSpec | None) -> Shredder | None:
    """What decodes a datastream's messages once, when its segments are written: the
    built-in normalized schema of its wire format (a normalized export then reads the stored
    columns instead of parsing JSON); None for a custom wire format."""
    wire = known(spec.wire_format) if spec is not None else None
    if spec is None or wire is None:
        return None
    schema = builtin_for("normalized", wire.stream_type)
    if schema is None:
        return None
    context = SourceContext(spec.exchange, spec.symbol, spec.id, spec.instrument_type, wire.name)
    try:
        return shredder_for(compile_schema(schema.spec, context))
    except SchemaError:
        return None
