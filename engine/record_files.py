"""Read record files for ingest: CSV (`collection_timestamp_ns,data`), JSON lines with those
two keys, optionally gzipped, or Parquet with those two columns: the raw export's own formats,
so a raw export can be re-imported unchanged.

Lines are validated one by one (every message must be a JSON object) so that a bad line
fails the ingest with its file and line number, whatever went wrong (bad JSON, a truncated
gzip stream, bytes that are not UTF-8); this is the one place where records pass through
Python. Parquet files are checked per batch, naming the row.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engine.segments import RECORD_SCHEMA
from engine.strict import StrictParseError, parse_int64

CHUNK_ROWS = 500_000
MAX_FIELD = 64 * 1024 * 1024


class IngestError(ValueError):
    def __init__(self, path: Path, line: int | None, message: str, unit: str = "line") -> None:
        where = (
            str(path)
            if line is None
            else f"{path}:{line}"
            if unit == "line"
            else f"{path}, {unit} {line}"
        )
        super().__init__(f"{where}: {message}")
        self.line = line


def read_records(path: Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[pa.Table]:
    name = path.name.lower()
    if name.endswith(".parquet"):
        yield from _read_parquet(path, chunk_rows)
        return
    base = name.removesuffix(".gz")
    if base.endswith(".csv"):
        parse = _csv_rows
    elif base.endswith((".jsonl", ".ndjson", ".json")):
        parse = _jsonl_rows
    else:
        raise IngestError(
            path, None, "unknown format: use .csv, .jsonl or .parquet (optionally .gz)"
        )
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        yield from _chunks(_named_failures(path, parse(path, text)), chunk_rows)


def _named_failures(
    path: Path, rows: Iterator[tuple[int, int, str]]
) -> Iterator[tuple[int, int, str]]:
    """A failure of the file itself (not UTF-8, a truncated or corrupt gzip stream) names the
    line after the last one read."""
    line = 0
    try:
        for row in rows:
            line = row[0]
            yield row
    except UnicodeDecodeError as exc:
        raise IngestError(path, line + 1, f"not UTF-8 text ({exc.reason})") from None
    except (EOFError, OSError, zlib.error) as exc:
        raise IngestError(path, line + 1, f"cannot read the file: {exc}") from None
    except csv.Error as exc:
        raise IngestError(path, line + 1, f"not CSV: {exc}") from None


def _csv_rows(path: Path, text: IO[str]) -> Iterator[tuple[int, int, str]]:
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(text)
    header = next(reader, None)
    if header != ["collection_timestamp_ns", "data"]:
        raise IngestError(path, 1, f"expected header collection_timestamp_ns,data, got {header}")
    for row in reader:
        line = reader.line_num
        if len(row) != 2:
            raise IngestError(path, line, f"expected 2 fields, got {len(row)}")
        yield line, _timestamp(path, line, row[0]), _message(path, line, row[1])


def _jsonl_rows(path: Path, text: IO[str]) -> Iterator[tuple[int, int, str]]:
    for line, content in enumerate(text, start=1):
        if not content.strip():
            continue
        try:
            record = orjson.loads(content)
        except orjson.JSONDecodeError as exc:
            raise IngestError(path, line, f"not JSON: {exc}") from None
        if not isinstance(record, dict) or set(record) != {"collection_timestamp_ns", "data"}:
            raise IngestError(
                path, line, "expected an object with keys collection_timestamp_ns and data"
            )
        data = record["data"]
        if isinstance(data, str):
            message = _message(path, line, data)
        elif isinstance(data, dict):
            message = orjson.dumps(data).decode()
        else:
            raise IngestError(path, line, f"data must be a JSON object, not {_kind(data)}")
        yield line, _timestamp(path, line, record["collection_timestamp_ns"]), message


def _timestamp(path: Path, line: int, value: object) -> int:
    """Nanoseconds since the epoch: ASCII digits (or a JSON integer), 0 to int64."""
    try:
        return parse_int64(value, minimum=0, signed=False, what="nanoseconds since the epoch")
    except StrictParseError as exc:
        raise IngestError(path, line, f"collection_timestamp_ns: {exc}") from None


def _message(path: Path, line: int, text: str) -> str:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise IngestError(path, line, f"data is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise IngestError(path, line, f"data must be a JSON object, not {_kind(value)}")
    # Line breaks outside strings are insignificant in JSON (inside them they are invalid), and
    # the engine decodes messages as newline-delimited JSON: keep each message on one line.
    if "\n" in text or "\r" in text:
        text = text.replace("\r", " ").replace("\n", " ")
    return text


def _kind(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _chunks(rows: Iterator[tuple[int, int, str]], chunk_rows: int) -> Iterator[pa.Table]:
    timestamps: list[int] = []
    messages: list[str] = []
    for _line, ts, message in rows:
        timestamps.append(ts)
        messages.append(message)
        if len(timestamps) >= chunk_rows:
            yield pa.table(
                [pa.array(timestamps, pa.int64()), pa.array(messages, pa.string())],
                schema=RECORD_SCHEMA,
            )
            timestamps, messages = [], []
    if timestamps:
        yield pa.table(
            [pa.array(timestamps, pa.int64()), pa.array(messages, pa.string())],
            schema=RECORD_SCHEMA,
        )


def _read_parquet(path: Path, chunk_rows: int) -> Iterator[pa.Table]:
    parquet = pq.ParquetFile(path)
    names = parquet.schema_arrow.names
    if "collection_timestamp_ns" not in names or "data" not in names:
        raise IngestError(path, None, "expected columns collection_timestamp_ns and data")
    first_row = 0
    for batch in parquet.iter_batches(
        batch_size=chunk_rows, columns=["collection_timestamp_ns", "data"]
    ):
        ts = batch.column(0)
        if pa.types.is_timestamp(ts.type):
            ts = pc.cast(ts.cast(pa.timestamp("ns")), pa.int64())
        data = batch.column(1).cast(pa.string())
        if ts.null_count or data.null_count:
            raise IngestError(path, None, "null timestamps or messages")
        objects = pc.starts_with(pc.utf8_ltrim_whitespace(data), "{")
        if not pc.all(objects).as_py():
            row = first_row + pc.index(objects, False).as_py() + 1
            raise IngestError(path, row, "data must be a JSON object", unit="row")
        first_row += batch.num_rows
        yield pa.table([ts.cast(pa.int64()), data], schema=RECORD_SCHEMA)
