"""Parquet row groups encoded apart, on every core, make the file one writer would have made:
the footers merge losslessly, the bytes are the same, and every reader reads it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.logical import LogicalType
from engine.options.formats import ParquetOptions
from engine.parquet_footer import (
    MAGIC,
    FooterError,
    MergedFooter,
    closing,
    decode_struct,
    encode_struct,
    split_file,
)
from engine.writers import ParquetArtifactWriter, parquet_type
from engine.writers import _as_parquet as convert

FIELDS = [
    ("ts", LogicalType("timestamp")),
    ("symbol", LogicalType("string")),
    ("trade_id", LogicalType("string")),
    ("price", LogicalType("decimal", scale=8)),
    ("size", LogicalType("float")),
    ("maker", LogicalType("bool")),
]


def rows(start: int, count: int) -> pa.Table:
    """Rows as the compiler gives them: times in ns, decimals as text; some nulls."""
    index = range(start, start + count)
    return pa.table(
        {
            "ts": pa.array([1_700_000_000_000_000_000 + 1000 * i for i in index], pa.int64()),
            "symbol": pa.array(["BTCUSDT" if i % 5 else "ETHUSDT" for i in index]),
            "trade_id": pa.array([None if i % 97 == 0 else str(10**9 + i) for i in index]),
            "price": pa.array([f"{42000 + i % 977}.{i % 10**8:08d}" for i in index]),
            "size": pa.array([i / 7 for i in index], pa.float64()),
            "maker": pa.array([None if i % 11 == 0 else i % 2 == 0 for i in index]),
        }
    )


def options(**changes: Any) -> ParquetOptions:
    return ParquetOptions.model_validate({"rowGroupSize": 1000} | changes)


def write(path: Path, tables: list[pa.Table], settings: ParquetOptions) -> ParquetArtifactWriter:
    writer = ParquetArtifactWriter(path, FIELDS, settings)
    for table in tables:
        writer.write(table)
    writer.close()
    return writer


def one_writer(path: Path, tables: list[pa.Table], settings: ParquetOptions) -> None:
    """The same rows written by one pyarrow ParquetWriter, row group after row group, with
    the options the artifact writer chooses for them."""
    merged = pa.concat_tables(_as_parquet(tables))
    probe = ParquetArtifactWriter(path.with_suffix(".probe"), FIELDS, settings)
    chosen = probe._options_for(merged.slice(0, settings.row_group_size))
    probe.close()
    with pq.ParquetWriter(path, merged.schema, **chosen) as writer:
        for offset in range(0, merged.num_rows, settings.row_group_size):
            group = merged.slice(offset, settings.row_group_size)
            writer.write_table(group, row_group_size=group.num_rows)


def _as_parquet(tables: list[pa.Table]) -> list[pa.Table]:
    schema = pa.schema([pa.field(n, parquet_type(t)) for n, t in FIELDS])
    return [
        pa.Table.from_arrays([convert(t.column(n), lt) for n, lt in FIELDS], schema=schema)
        for t in tables
    ]


@pytest.mark.parametrize("compression", ["zstd", "snappy", "none"])
def test_the_file_is_byte_for_byte_what_one_writer_makes(tmp_path: Path, compression: str) -> None:
    tables = [rows(0, 700), rows(700, 2500), rows(3200, 1)]  # groups cut across batches
    settings = options(compression=compression)
    write(tmp_path / "parallel.parquet", tables, settings)
    one_writer(tmp_path / "serial.parquet", tables, settings)
    parallel = (tmp_path / "parallel.parquet").read_bytes()
    assert parallel == (tmp_path / "serial.parquet").read_bytes()
    assert pq.ParquetFile(tmp_path / "parallel.parquet").metadata.num_row_groups == 4


def test_every_reader_reads_the_rows_in_order(tmp_path: Path) -> None:
    tables = [rows(i * 900, 900) for i in range(40)]  # 36 row groups: a long list header
    path = tmp_path / "out.parquet"
    writer = write(path, tables, options())
    expected = pa.concat_tables(_as_parquet(tables))
    read = pq.read_table(path)
    assert read.equals(expected)
    metadata = pq.read_metadata(path)
    assert metadata.num_rows == 36_000 and metadata.num_row_groups == 36
    assert [metadata.row_group(i).num_rows for i in (0, 35)] == [1000, 1000]
    # Statistics stay with their row group, so a filter skips the others.
    stats = metadata.row_group(20).column(0).statistics
    assert stats.min == expected.column("ts")[20_000].as_py()
    count, low, high = (
        duckdb.connect()
        .execute(
            f"SELECT count(*), min(trade_id), max(price) FROM '{path}' WHERE ts >= "
            f"'{expected.column('ts')[35_000].as_py().isoformat()}'"
        )
        .fetchall()[0]
    )
    assert count == 1000 and low is not None and high is not None
    assert writer.sha256() == hashlib.sha256(path.read_bytes()).hexdigest()
    assert writer.bytes_written() == path.stat().st_size


def test_a_file_without_rows_has_the_schema_and_no_row_group(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    writer = write(path, [], options())
    assert pq.read_table(path).schema.names == [n for n, _ in FIELDS]
    assert pq.read_metadata(path).num_row_groups == 0
    assert writer.sha256() == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_row_group_that_fails_leaves_a_readable_file_of_those_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "partial.parquet"
    writer = ParquetArtifactWriter(path, FIELDS, options())
    encoded = writer._encoded
    calls = 0

    def fail_the_third(group: Any, chosen: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError("no space left on device")
        return encoded(group, chosen)

    monkeypatch.setattr(writer, "_encoded", fail_the_third)
    with pytest.raises(OSError, match="no space"):
        for i in range(6):
            writer.write(rows(i * 1000, 1000))
        writer.settle()
    with pytest.raises(OSError, match="no space"):
        writer.close()  # the error stands; the file still gets its footer
    read = pq.read_table(path)
    assert read.equals(pa.concat_tables(_as_parquet([rows(0, 2000)])))


def test_footers_decode_and_encode_to_the_same_bytes(tmp_path: Path) -> None:
    write(tmp_path / "f.parquet", [rows(0, 5000)], options(compression="zstd"))
    _, footer = split_file((tmp_path / "f.parquet").read_bytes())
    assert encode_struct(decode_struct(footer)) == footer


def test_merged_footers_count_rows_and_move_offsets(tmp_path: Path) -> None:
    files = []
    for i in range(3):
        write(tmp_path / f"{i}.parquet", [rows(i * 1000, 1000)], options())
        files.append((tmp_path / f"{i}.parquet").read_bytes())
    out = bytearray(MAGIC)
    footer = MergedFooter()
    for data in files:
        chunks, own = split_file(data)
        footer.add(decode_struct(own), shift=len(out) - len(MAGIC))
        out += chunks
    out += closing(footer.encode())
    merged = pq.read_table(pa.BufferReader(bytes(out)))
    assert merged.column("ts").to_pylist() == [
        v for d in files for v in pq.read_table(pa.BufferReader(d)).column("ts").to_pylist()
    ]
    metadata = pq.read_metadata(pa.BufferReader(bytes(out)))
    assert metadata.num_rows == 3000
    starts = [metadata.row_group(i).column(0).data_page_offset for i in range(3)]
    assert starts[0] == len(MAGIC) and starts[0] < starts[1] < starts[2] < len(out)


@pytest.mark.parametrize(
    "data",
    [b"", b"PAR1", b"PAR1" + b"\x00" * 8, b"XXXX\x00\x00\x00\x00\x04\x00\x00\x00PAR1"],
)
def test_what_is_not_a_parquet_file_is_refused(data: bytes) -> None:
    with pytest.raises(FooterError):
        _, footer = split_file(data)
        decode_struct(footer)


def test_a_truncated_footer_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "f.parquet", [rows(0, 10)], options())
    _, footer = split_file((tmp_path / "f.parquet").read_bytes())
    with pytest.raises(FooterError):
        decode_struct(footer[: len(footer) // 2])
