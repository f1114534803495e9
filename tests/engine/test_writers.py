"""Writers produce byte-identical files for identical content, whatever the file is called;
gzip is standard gzip in independent members."""

from __future__ import annotations

import gzip
import hashlib
import os
import random
import subprocess
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.logical import LogicalType
from engine.options import ExportOptions
from engine.pipeline import REPEAT_SAMPLE
from engine.writers import GZIP_BLOCK_BYTES, _BackgroundWriter, _ParallelGzip, open_writer

FIELDS = [("collection_timestamp_ns", LogicalType("timestamp")), ("data", LogicalType("json"))]
TABLE = pa.table(
    {
        "collection_timestamp_ns": pa.array([1, 2, 3], pa.int64()),
        "data": pa.array(['{"a":1}', '{"b":"x,y"}', "null"]),
    }
)


def _write(path: Path, fmt: str, compression: str) -> str:
    writer = open_writer(compression, FIELDS, path, ExportOptions.defaults(fmt).format_options)
    writer.write(TABLE)
    writer.close()
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("fmt", "compression"),
    [("CSV", "GZIP"), ("JSONL", "GZIP"), ("CSV", "NONE"), ("PARQUET", "NONE")],
)
def test_a_retried_attempt_writes_the_same_bytes(
    tmp_path: Path, fmt: str, compression: str
) -> None:
    first = _write(tmp_path / "attempt-1.tmp", fmt, compression)
    second = _write(tmp_path / "another-name.part", fmt, compression)
    assert first == second


@pytest.mark.parametrize(
    ("fmt", "compression", "rows"),
    [
        ("CSV", "GZIP", 3),
        ("JSONL", "ZSTD", 3),
        ("CSV", "NONE", 3),
        ("PARQUET", "NONE", 3),
        ("PARQUET", "NONE", 0),
        ("PARQUET", "NONE", 5000),
    ],
)
def test_the_writers_sha256_is_the_files(
    tmp_path: Path, fmt: str, compression: str, rows: int
) -> None:
    """Hashed as written (Parquet: row group by row group, then the footer), the digest is
    the whole file's: what the export publishes without reading the file again."""
    options = ExportOptions.defaults(fmt).format_options
    if fmt == "PARQUET":
        options = options.model_copy(update={"row_group_size": 1000})  # several row groups
    path = tmp_path / "out"
    writer = open_writer(compression, FIELDS, path, options)
    table = pa.table(
        {
            "collection_timestamp_ns": pa.array(range(rows), pa.int64()),
            "data": pa.array([f'{{"n":{n}}}' for n in range(rows)]),
        }
    )
    for offset in range(0, rows, 700):
        writer.write(table.slice(offset, 700))
    writer.close()
    assert writer.sha256() == hashlib.sha256(path.read_bytes()).hexdigest()


class _FailingTarget:
    def write(self, data: bytes) -> None:
        raise OSError("disk full")

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_errors_of_the_compressing_thread_reach_the_writer() -> None:
    writer = _BackgroundWriter(_FailingTarget())
    writer.write(b"rows")
    with pytest.raises(OSError, match="disk full"):
        writer.flush()
    with pytest.raises(OSError, match="disk full"):
        writer.close()


def _parallel_gzip(path: Path, data: bytes, chunk: int) -> bytes:
    with path.open("wb") as file:
        stream = _ParallelGzip(file, workers=2)
        for start in range(0, len(data), chunk):
            stream.write(data[start : start + chunk])
        stream.close()
    return path.read_bytes()


def test_gzip_members_are_standard_and_the_same_for_the_same_input(tmp_path: Path) -> None:
    lines = (f"{i},BTCUSDT,{42_800 + i % 997}.{i % 100:02d}\n" for i in range(200_000))
    data = "".join(lines).encode()
    assert len(data) > 3 * GZIP_BLOCK_BYTES  # several members
    written = _parallel_gzip(tmp_path / "a.gz", data, chunk=65_536)
    assert written.count(b"\x1f\x8b\x08") >= 4  # a header per member
    assert _parallel_gzip(tmp_path / "b.gz", data, chunk=999_983) == written  # any write sizes
    assert gzip.decompress(written) == data
    with pa.input_stream(str(tmp_path / "a.gz"), compression="gzip") as stream:
        assert stream.read() == data  # Arrow reads concatenated members too
    tested = subprocess.run(["gzip", "-t", str(tmp_path / "a.gz")], check=False)
    assert tested.returncode == 0
    assert len(written) < len(data) / 3


def test_an_empty_gzip_file_is_still_gzip(tmp_path: Path) -> None:
    assert gzip.decompress(_parallel_gzip(tmp_path / "empty.gz", b"", chunk=1)) == b""


def test_parquet_dictionary_encodes_repeating_text_columns_only(tmp_path: Path) -> None:
    """Text whose values repeat (a symbol) is dictionary-encoded; timestamps and mostly
    distinct text (trade ids) are not; and the same rows give the same bytes."""
    import pyarrow.parquet as pq

    fields = [
        ("ts", LogicalType("timestamp")),
        ("symbol", LogicalType("string")),
        ("trade_id", LogicalType("string")),
    ]
    table = pa.table(
        {
            "ts": pa.array(range(1000), pa.int64()),
            "symbol": pa.array(["BTCUSDT"] * 1000),
            "trade_id": pa.array([str(3_300_000_000 + i) for i in range(1000)]),
        }
    )
    contents = []
    for name in ("out.parquet", "again.parquet"):
        path = tmp_path / name
        options = ExportOptions.defaults("PARQUET").format_options
        writer = open_writer("NONE", fields, path, options)
        for offset in range(0, 1000, 100):  # batches, as an export writes them
            writer.write(table.slice(offset, 100))
        writer.close()
        contents.append(path.read_bytes())
    assert contents[0] == contents[1]
    assert pq.read_table(tmp_path / "out.parquet").column("trade_id").to_pylist()[-1] == str(
        3_300_000_999
    )
    group = pq.ParquetFile(tmp_path / "out.parquet").metadata.row_group(0)
    encodings = {group.column(i).path_in_schema: group.column(i).encodings for i in range(3)}
    assert any("DICTIONARY" in e for e in encodings["symbol"])
    assert not any("DICTIONARY" in e for e in encodings["ts"])
    assert "DELTA_BINARY_PACKED" in encodings["ts"]  # time-ordered: small differences
    assert not any("DICTIONARY" in e for e in encodings["trade_id"])


_DECIMAL_TEXT = st.one_of(
    st.none(),
    st.decimals(-(10**12), 10**12, places=8, allow_nan=False).map(str),  # also `1E+1`, `0E-8`
    st.sampled_from(["0.00100000", "-0.5", "42795.05", "7", ".5", "+2", "1.", "-0"]),
)


@settings(max_examples=60, deadline=None)
@given(
    pool=st.lists(_DECIMAL_TEXT, min_size=1, max_size=40),
    rows=st.integers(1, 3 * REPEAT_SAMPLE),
    seed=st.integers(0, 2**32),
)
def test_parquet_decimals_are_the_numbers_of_their_text(
    pool: list[str | None], rows: int, seed: int
) -> None:
    """Decimal text becomes the number Arrow's cast gives it, whether the batch's text
    repeats (parsed once per distinct text) or not, with nulls, across the sample's end."""
    import pyarrow.parquet as pq

    chosen = random.Random(seed)
    distinct = chosen.random() < 0.3  # some batches of (mostly) distinct text
    text = [
        f"{chosen.randrange(10**9)}.{chosen.randrange(10**8):08d}"
        if distinct
        else pool[chosen.randrange(len(pool))]
        for _ in range(rows)
    ]
    fields = [("price", LogicalType("decimal", scale=18))]
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "out.parquet"
        writer = open_writer("NONE", fields, path, ExportOptions.defaults("PARQUET").format_options)
        writer.write(pa.table({"price": pa.array(text, pa.string())}))
        writer.close()
        written = pq.read_table(path).column("price").combine_chunks()
    assert written.equals(pc.cast(pa.array(text, pa.string()), pa.decimal128(38, 18)))


@pytest.mark.parametrize("repeating", [True, False])
def test_parquet_decimal_text_that_is_no_number_fails_the_write(
    tmp_path: Path, repeating: bool
) -> None:
    text = (["1.5", "2.5"] * REPEAT_SAMPLE if repeating else [f"{i}.5" for i in range(9000)]) + [
        "1.5x"
    ]
    fields = [("price", LogicalType("decimal", scale=18))]
    writer = open_writer(
        "NONE", fields, tmp_path / "out.parquet", ExportOptions.defaults("PARQUET").format_options
    )
    writer.write(pa.table({"price": pa.array(text, pa.string())}))
    with pytest.raises(pa.ArrowInvalid, match=r"1\.5x"):
        writer.close()


@pytest.mark.parametrize(("fmt", "compression"), [("CSV", "NONE"), ("JSONL", "ZSTD")])
def test_batches_reach_the_file_in_order_and_the_digest_is_the_files(
    tmp_path: Path, fmt: str, compression: str
) -> None:
    """Batches are formatted on other threads, many at a time: the file still holds them in
    the order written, and the digest the writer reports is that of the file's bytes."""
    path = tmp_path / "out"
    fields = [("n", LogicalType("int")), ("s", LogicalType("string"))]
    writer = open_writer(compression, fields, path, ExportOptions.defaults(fmt).format_options)
    for start in range(0, 20_000, 500):
        numbers = range(start, start + 500)
        writer.write(pa.table({"n": list(numbers), "s": [f"v{i}" for i in numbers]}))
    writer.close()
    assert writer.sha256() == hashlib.sha256(path.read_bytes()).hexdigest()
    with pa.input_stream(str(path), compression="zstd" if compression == "ZSTD" else None) as f:
        lines = f.read().decode().splitlines()
    if fmt == "CSV":
        assert lines[0] == "n,s"
        lines = lines[1:]
    assert len(lines) == 20_000
    expected = (
        [f"{i},v{i}" for i in range(20_000)]
        if fmt == "CSV"
        else [f'{{"n":{i},"s":"v{i}"}}' for i in range(20_000)]
    )
    assert lines == expected


def test_json_text_is_escaped_whatever_mix_of_values_a_batch_holds(tmp_path: Path) -> None:
    """Batches whose text needs no escape take a shortcut; these hold one value that does
    (a quote, a backslash, a control character), or nulls, or none of them."""
    import json

    odd = ['say "hi"', "back\\slash", "tab\there", "line\nbreak", "héllo", "", None, "plain"]
    batches: list[list[str | None]] = [["plain", "x"], *[["plain", v, "y"] for v in odd]]
    path = tmp_path / "out.jsonl"
    fields = [("s", LogicalType("string"))]
    writer = open_writer("NONE", fields, path, ExportOptions.defaults("JSONL").format_options)
    for values in batches:
        writer.write(pa.table({"s": pa.array(values, pa.string())}))
    writer.close()
    read = [json.loads(line)["s"] for line in path.read_text().splitlines()]
    assert read == [value for values in batches for value in values]


@pytest.mark.parametrize(
    "value", ['say "hi"', "back\\slash", "tab\there", "héllo", "", "plain", 7, 2.5, True]
)
def test_a_column_with_one_value_in_a_batch_writes_the_same_lines(
    tmp_path: Path, value: object
) -> None:
    """A value the same on every line of a batch joins the line's constant text: the lines
    are those of the same value written row by row (a batch where it varies)."""
    import json

    kind = {str: "string", int: "int", float: "float", bool: "bool"}[type(value)]
    fields = [("same", LogicalType(kind)), ("n", LogicalType("int"))]
    options = ExportOptions.defaults("JSONL").format_options
    lines = []
    for name, batches in {
        "constant": [[value] * 3],
        "row by row": [[value], [value], [value]],  # one row: never constant
    }.items():
        path = tmp_path / f"{name}.jsonl"
        writer = open_writer("NONE", fields, path, options)
        for values in batches:
            writer.write(pa.table({"same": values, "n": pa.array(range(len(values)))}))
        writer.close()
        lines.append(path.read_bytes())
    assert lines[0].replace(b'"n":1', b'"n":0').replace(b'"n":2', b'"n":0') == lines[1]
    assert [json.loads(line)["same"] for line in lines[0].splitlines()] == [value] * 3


def test_csv_quotes_only_the_text_that_needs_it(tmp_path: Path) -> None:
    """Text is quoted where it holds the delimiter, a quote or a line break, or would read
    back as null (empty text, when nulls are empty); JSON columns always are. However the
    rows are batched, the file is the same."""
    fields = [
        ("n", LogicalType("int")),
        ("s", LogicalType("string")),
        ("j", LogicalType("json")),
    ]
    rows = {
        "n": [1, 2, 3, 4, 5, None],
        "s": ["plain", 'say "hi"', "a,b", "", "two\nlines", None],
        "j": ["1", '{"a":1}', "null", "[]", '"x"', None],
    }
    options = ExportOptions.defaults("CSV").format_options
    contents = []
    for sizes in ((6,), (1, 5), (2, 2, 2)):
        path = tmp_path / f"out-{len(sizes)}.csv"
        writer = open_writer("NONE", fields, path, options)
        start = 0
        for size in sizes:
            writer.write(pa.table(rows).slice(start, size))
            start += size
        writer.close()
        contents.append(path.read_text())
    assert contents[0] == contents[1] == contents[2]
    assert contents[0] == (
        'n,s,j\n1,plain,"1"\n2,"say ""hi""","{""a"":1}"\n3,"a,b","null"\n4,"","[]"\n'
        '5,"two\nlines","""x"""\n,,\n'
    )


def test_a_batch_that_fails_to_format_ends_the_file_before_it(tmp_path: Path) -> None:
    """The batches after a failed one are not written, though they may be formatted already:
    the error surfaces on every later call, and the file holds the rows before it only."""
    path = tmp_path / "out.jsonl"
    fields = [("n", LogicalType("int"))]
    writer = open_writer("NONE", fields, path, ExportOptions.defaults("JSONL").format_options)
    formatted = writer._format  # type: ignore[attr-defined]

    def failing_on_the_third(table: pa.Table) -> pa.Buffer:
        if table.column("n")[0].as_py() == 2:
            raise MemoryError("no room for this batch")
        return formatted(table)

    writer._format = failing_on_the_third  # type: ignore[attr-defined]
    with pytest.raises(MemoryError):
        for n in range(6):
            writer.write(pa.table({"n": [n]}))
        writer.settle()
    with pytest.raises(MemoryError):
        writer.close()
    assert path.read_text() == '{"n":0}\n{"n":1}\n'


def test_a_file_handed_to_disk_while_written_is_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writeback starts every WRITEBACK_BYTES while the file grows; the file and its digest
    are still every byte written, in order. Each hint covers the file from its start: the
    pages of earlier hints, on disk by then, are dropped, so the page cache does not grow by
    the whole file."""
    hints: list[tuple[int, int]] = []
    fadvise = getattr(os, "posix_fadvise", None)
    if fadvise is not None:  # Linux

        def record(fd: int, offset: int, length: int, advice: int) -> None:
            hints.append((offset, length))
            fadvise(fd, offset, length, advice)

        monkeypatch.setattr(os, "posix_fadvise", record)
    monkeypatch.setattr("engine.writers.WRITEBACK_BYTES", 1000)
    path = tmp_path / "out.csv"
    fields = [("n", LogicalType("int"))]
    writer = open_writer("NONE", fields, path, ExportOptions.defaults("CSV").format_options)
    for start in range(0, 5000, 100):
        writer.write(pa.table({"n": list(range(start, start + 100))}))
    writer.close()
    assert path.read_text() == "n\n" + "".join(f"{n}\n" for n in range(5000))
    assert writer.sha256() == hashlib.sha256(path.read_bytes()).hexdigest()
    if fadvise is not None:
        assert len(hints) > 10
        assert all(offset == 0 for offset, _ in hints)
        lengths = [length for _, length in hints]
        assert lengths == sorted(lengths) and lengths[-1] <= path.stat().st_size
