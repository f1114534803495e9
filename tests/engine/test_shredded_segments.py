"""Decode once, export many times: segments that store their messages decoded (by the built-in
normalized schema of their wire format) export to the very same bytes as segments that hold
the raw messages only, which are decoded on every export as before."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.export import ExportTask, run_export
from engine.export_schema import CompiledSchema, DecodeError, compile_schema
from engine.export_schema.compiled import DECODED_COLUMN
from engine.logical import SourceContext
from engine.options import ExportOptions
from engine.segments import SegmentFile, merge_segments, scan, write_segment
from engine.shred import Shredder, shredder_for, stored_key
from tests.engine.schema_helpers import (
    BYBIT_LINEAR,
    UUID_1,
    UUID_2,
    UUID_3,
    builtin,
    bybit_trade,
    bybit_trades,
    ts,
)

BINANCE = SourceContext("binance", "BTCUSDT", 101, "spot", "binance.trade")
BYBIT = SourceContext("bybit", "BTCUSDT", 201, "linear", "bybit.publicTrade")
BINANCE_BOOK = SourceContext("binance", "BTCUSDT", 102, "spot", "binance.depthUpdate")
BYBIT_BOOK = SourceContext("bybit", "BTCUSDT", 202, "linear", "bybit.orderbook")
FORMATS = [
    ("CSV", "NONE"),
    ("CSV", "GZIP"),
    ("JSONL", "NONE"),
    ("JSONL", "GZIP"),
    ("PARQUET", "NONE"),
]


def binance_trade(index: int, **changes: Any) -> dict[str, Any]:
    data = {
        "e": "trade",
        "E": 1705305600100 + index,
        "s": "BTCUSDT",
        "t": 3300000001 + index,
        "p": f"42800.{index % 100:02d}000000",
        "q": "0.01000000",
        "T": 1705305600098 + index,
        "m": index % 3 == 0,
        "M": True,
    }
    data.update(changes)
    return {"stream": "btcusdt@trade", "data": data}


def binance_messages(count: int) -> list[Any]:
    """Trades in the wire shape, with the edge cases the normalized schema handles."""
    messages: list[Any] = [binance_trade(i) for i in range(count)]
    messages[3]["data"].pop("m")  # a missing field: a null side
    messages[4]["data"].pop("q")  # a missing decimal: a null amount
    messages[5] = binance_trade(5)["data"]  # bare, without the combined-stream envelope
    messages[6]["data"]["p"] = "0.000000000000000001"  # decimals stay the exact text sent
    messages[7]["data"]["p"] = "1E+3"
    messages[8]["data"]["q"] = "000123.4500"
    messages[9]["data"]["m"] = None
    return messages


def bybit_messages(count: int) -> list[Any]:
    messages: list[Any] = []
    for i in range(count):
        trades = [
            bybit_trade(1705305600098 + i, "Buy", "0.001", f"42801.{i % 10}", UUID_1),
            bybit_trade(1705305600099 + i, "Sell", "0.500", "42801.4", UUID_2),
        ][: i % 3]  # zero, one or two trades per message
        messages.append(bybit_trades(1705305600100 + i, *trades))
    messages[4] = bybit_trades(1, bybit_trade(2, "Sell", "12.345", "42799.90", UUID_3))
    messages[4]["data"][0].pop("S")  # a missing side
    return messages


def binance_books(count: int) -> list[Any]:
    messages: list[Any] = []
    for i in range(count):
        data = {
            "e": "depthUpdate",
            "E": 1705305600100 + i,
            "s": "BTCUSDT",
            "U": i,
            "u": i + 3,
            "b": [[f"42800.{i % 7}0000000", "0.25000000"], ["42799.00", "0"]][: i % 3],
            "a": [[f"42800.2{i % 5}", "1.5"]],
        }
        messages.append({"stream": "btcusdt@depth@100ms", "data": data})
    messages[2] = messages[2]["data"]  # bare
    messages[3]["data"]["a"] = [["42800.20"]]  # a level without a size
    return messages


def bybit_books(count: int) -> list[Any]:
    messages: list[Any] = []
    for i in range(count):
        data = {"s": "BTCUSDT", "b": [["42800.10", f"0.{i}"]], "a": [] if i % 4 else [["1", "2"]]}
        kind = "snapshot" if i % 50 == 0 else "delta"
        messages.append({"topic": "orderbook.50.BTCUSDT", "type": kind, "ts": 1 + i, "data": data})
    return messages


def table_of(messages: list[Any], start: int = 0, step: int = 1) -> pa.Table:
    return pa.table(
        {
            "collection_timestamp_ns": pa.array(
                [ts(start + i * step) for i in range(len(messages))], pa.int64()
            ),
            "data": pa.array(
                [m if isinstance(m, str) else json.dumps(m) for m in messages], pa.string()
            ),
        }
    )


BOOKS = {"binance.depthUpdate", "bybit.orderbook"}


def normalized_spec(context: SourceContext) -> dict[str, Any]:
    return builtin("normalized_book" if context.wire_format in BOOKS else "normalized")


def normalized(context: SourceContext) -> CompiledSchema:
    return compile_schema(normalized_spec(context), context)


def shredder(context: SourceContext) -> Shredder:
    found = shredder_for(normalized(context))
    assert found is not None
    return found


def export(
    tmp_path: Path,
    name: str,
    segments: list[SegmentFile],
    context: SourceContext,
    fmt: str,
    compression: str,
    spec: dict[str, Any] | None = None,
) -> bytes:
    task = ExportTask(
        schema_spec=spec or normalized_spec(context),
        context=context,
        segments=segments,
        start_ns=ts(0),
        end_ns=ts(10**6),
        format=fmt,
        compression=compression,
        output_dir=tmp_path / name,
        filename_stem="out",
        options=ExportOptions.defaults(fmt),
    )
    files = run_export(task, lambda _progress: None)
    assert len(files) == 1
    return files[0].path.read_bytes()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def both(
    tmp_path: Path, context: SourceContext, tables: list[pa.Table]
) -> tuple[list[SegmentFile], list[SegmentFile]]:
    """The same records as raw-only segments and as segments with the decoded column."""
    raw = [write_segment(t, tmp_path / "raw" / f"{i}.parquet") for i, t in enumerate(tables)]
    shred = shredder(context)
    decoded = [
        write_segment(t, tmp_path / "decoded" / f"{i}.parquet", shred) for i, t in enumerate(tables)
    ]
    for segment in decoded:
        assert stored_key(pq.read_schema(segment.path)) == shred.key
    return raw, decoded


@pytest.mark.parametrize(("fmt", "compression"), FORMATS)
@pytest.mark.parametrize(
    ("context", "messages"),
    [
        (BINANCE, binance_messages(300)),
        (BYBIT, bybit_messages(300)),
        (BINANCE_BOOK, binance_books(200)),
        (BYBIT_BOOK, bybit_books(200)),
    ],
    ids=lambda value: value.wire_format if isinstance(value, SourceContext) else "",
)
def test_decoded_segments_export_the_same_bytes(
    tmp_path: Path, context: SourceContext, messages: list[Any], fmt: str, compression: str
) -> None:
    raw, decoded = both(tmp_path, context, [table_of(messages)])
    expected = export(tmp_path, "from-raw", raw, context, fmt, compression)
    got = export(tmp_path, "from-decoded", decoded, context, fmt, compression)
    assert digest(got) == digest(expected)


def test_a_decoded_segment_is_not_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, decoded = both(tmp_path, BINANCE, [table_of(binance_messages(50))])
    expected = export(tmp_path, "from-raw", raw, BINANCE, "CSV", "NONE")

    def no_parsing(*_args: Any) -> Any:
        raise AssertionError("JSON parsed on the export of a decoded segment")

    monkeypatch.setattr(CompiledSchema, "_decode", no_parsing)
    assert export(tmp_path, "from-decoded", decoded, BINANCE, "CSV", "NONE") == expected
    with pytest.raises(AssertionError, match="JSON parsed"):
        export(tmp_path, "again-from-raw", raw, BINANCE, "CSV", "NONE")


def test_the_decoded_column_is_what_decoding_gives(tmp_path: Path) -> None:
    table = table_of(bybit_messages(40))
    segment = write_segment(table, tmp_path / "s.parquet", shredder(BYBIT))
    stored = pq.read_table(segment.path, columns=[DECODED_COLUMN]).column(DECODED_COLUMN)
    assert stored.combine_chunks().equals(normalized(BYBIT).decode(table))
    statistics = pq.read_metadata(segment.path).row_group(0).column(0).statistics
    assert statistics is not None and statistics.has_min_max


def test_segment_columns_are_stored_in_cheap_to_read_encodings(tmp_path: Path) -> None:
    """Growing integers as differences, text plain (zstd finds its shared prefixes): the
    encodings every export decodes again."""
    segment = write_segment(
        table_of(binance_messages(40)), tmp_path / "s.parquet", shredder(BINANCE)
    )
    group = pq.read_metadata(segment.path).row_group(0)
    encodings = {
        group.column(i).path_in_schema: group.column(i).encodings for i in range(group.num_columns)
    }
    assert "DELTA_BINARY_PACKED" in encodings["collection_timestamp_ns"]
    assert "DELTA_BINARY_PACKED" in encodings["decoded.data.T"]
    assert "DELTA_BINARY_PACKED" in encodings["decoded.data.t"]
    for text in ("data", "decoded.data.s", "decoded.data.p", "decoded.data.q"):
        assert "PLAIN" in encodings[text] and not any("DELTA" in e for e in encodings[text])


def test_old_and_decoded_segments_together_export_as_old_ones(tmp_path: Path) -> None:
    """Overlapping segments, one of them written before segments stored decoded messages,
    and one that does not overlap: read alike, the same file as from raw segments only."""
    messages = binance_messages(200)
    tables = [table_of(messages[:100], 0, 2), table_of(messages[100:], 1, 2)]
    tables.append(table_of(binance_messages(20), 1000))
    raw, decoded = both(tmp_path, BINANCE, tables)
    mixed = [raw[0], decoded[1], decoded[2]]
    for fmt, compression in FORMATS:
        expected = export(tmp_path, f"raw-{fmt}-{compression}", raw, BINANCE, fmt, compression)
        got = export(tmp_path, f"mixed-{fmt}-{compression}", mixed, BINANCE, fmt, compression)
        assert got == expected
        got = export(tmp_path, f"dec-{fmt}-{compression}", decoded, BINANCE, fmt, compression)
        assert got == expected


def test_another_schema_decodes_or_rechecks(tmp_path: Path) -> None:
    """A custom schema reading other paths decodes the messages; one with the same paths but
    other decimal scales uses the stored column and checks its own decimals again."""
    messages = binance_messages(120)
    messages[10]["data"]["p"] = "42800.123456789"  # more digits than decimal(8) keeps
    raw, decoded = both(tmp_path, BINANCE, [table_of(messages)])
    other_paths = {
        "name": "custom",
        "streamCategory": "trade",
        "columns": [
            {"outputColumn": "ts", "meta": "collection_timestamp_ns"},
            {"outputColumn": "event", "data": {"binance": {"path": "data.e", "type": "string"}}},
            {"outputColumn": "p", "data": {"binance": {"path": "data.p", "type": "decimal(18)"}}},
        ],
    }
    assert export(tmp_path, "a", decoded, BINANCE, "CSV", "NONE", other_paths) == export(
        tmp_path, "b", raw, BINANCE, "CSV", "NONE", other_paths
    )
    scales = json.loads(json.dumps(builtin("normalized")).replace("decimal(18)", "decimal(8)"))
    assert compile_schema(scales, BINANCE).decode_key() == normalized(BINANCE).decode_key()
    with pytest.raises(DecodeError, match=r"is not a decimal\(8\)") as from_raw:
        export(tmp_path, "c", raw, BINANCE, "CSV", "NONE", scales)
    with pytest.raises(DecodeError, match=r"is not a decimal\(8\)") as from_decoded:
        export(tmp_path, "d", decoded, BINANCE, "CSV", "NONE", scales)
    assert str(from_raw.value) == str(from_decoded.value)


def test_messages_that_do_not_decode_are_stored_raw_only(tmp_path: Path) -> None:
    messages = binance_messages(50)
    messages[20]["data"]["p"] = {"not": "a decimal"}
    raw, decoded = both_or_raw(tmp_path, messages)
    assert stored_key(pq.read_schema(decoded.path)) is None
    with pytest.raises(DecodeError) as from_raw:
        export(tmp_path, "a", [raw], BINANCE, "CSV", "NONE")
    with pytest.raises(DecodeError) as from_decoded:
        export(tmp_path, "b", [decoded], BINANCE, "CSV", "NONE")
    assert str(from_raw.value) == str(from_decoded.value)


def both_or_raw(tmp_path: Path, messages: list[Any]) -> tuple[SegmentFile, SegmentFile]:
    table = table_of(messages)
    raw = write_segment(table, tmp_path / "raw.parquet")
    return raw, write_segment(table, tmp_path / "decoded.parquet", shredder(BINANCE))


def test_invalid_decimals_are_checked_on_every_export(tmp_path: Path) -> None:
    """A decimal the schema rejects is stored decoded but not marked valid: the export still
    fails on it, with the same error."""
    messages = binance_messages(50)
    messages[30]["data"]["q"] = "12abc"
    raw, decoded = both(tmp_path, BINANCE, [table_of(messages)])
    with pytest.raises(DecodeError) as from_raw:
        export(tmp_path, "a", raw, BINANCE, "CSV", "NONE")
    with pytest.raises(DecodeError) as from_decoded:
        export(tmp_path, "b", decoded, BINANCE, "CSV", "NONE")
    assert str(from_raw.value) == str(from_decoded.value)


@pytest.mark.parametrize("inputs", ["decoded", "old", "mixed"])
def test_compaction_stores_the_decoded_column(tmp_path: Path, inputs: str) -> None:
    tables = [table_of(bybit_messages(60)[i::3], i, 3) for i in range(3)]
    raw, decoded = both(tmp_path, BYBIT, tables)
    sources = {"decoded": decoded, "old": raw, "mixed": [raw[0], decoded[1], decoded[2]]}[inputs]
    shred = shredder(BYBIT)
    merged = merge_segments(sources, tmp_path / "merged.parquet", shred)
    assert stored_key(pq.read_schema(merged.path)) == shred.key
    assert merged.row_count == 60
    expected = export(tmp_path, "raw", raw, BYBIT, "PARQUET", "NONE")
    assert export(tmp_path, "merged", [merged], BYBIT, "PARQUET", "NONE") == expected
    batches = list(scan([merged], ts(0), ts(10**6), shred.key, raw=False))
    assert all(b.column_names == ["collection_timestamp_ns", DECODED_COLUMN] for b in batches)


def test_compaction_without_a_shredder_keeps_the_record_schema(tmp_path: Path) -> None:
    _raw, decoded = both(tmp_path, BYBIT_LINEAR, [table_of(bybit_messages(30))])
    merged = merge_segments(decoded, tmp_path / "merged.parquet")
    assert pq.read_schema(merged.path).names == ["collection_timestamp_ns", "data"]


def test_a_scan_reads_each_segment_footer_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Overlapping decoded segments: whether they have the column, their checked decimals
    and their row groups all come from one read of each footer."""
    tables = [table_of(bybit_messages(60)[i::3], i, 3) for i in range(3)]
    _raw, decoded = both(tmp_path, BYBIT, tables)
    shred = shredder(BYBIT)
    reads: list[str] = []
    original_metadata, original_schema = pq.read_metadata, pq.read_schema

    def read_metadata(where: Any, *args: Any, **kwargs: Any) -> Any:
        reads.append(str(where))
        return original_metadata(where, *args, **kwargs)

    def read_schema(where: Any, *args: Any, **kwargs: Any) -> Any:
        reads.append(str(where))
        return original_schema(where, *args, **kwargs)

    monkeypatch.setattr(pq, "read_metadata", read_metadata)
    monkeypatch.setattr(pq, "read_schema", read_schema)
    batches = list(scan(decoded, ts(0), ts(10**6), shred.key, raw=False))
    assert sum(b.num_rows for b in batches) == 60
    assert all(DECODED_COLUMN in b.column_names for b in batches)
    assert sorted(reads) == sorted(s.path for s in decoded)
