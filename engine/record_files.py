"""Read record files for ingest: CSV (`collection_timestamp_ns,data`), JSON lines with those
two keys, optionally gzipped, or Parquet with those two columns: the raw export's own formats,
so a raw export can be re-imported unchanged.

Lines are validated one by one (every message must be JSON) so that a bad line fails the
ingest with its line number; this is the one place where records pass through Python.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engine.segments import RECORD_SCHEMA

CHUNK_ROWS = 500_000
MAX_FIELD = 64 * 1024 * 1024


class IngestError(ValueError):
    def __init__(self, path: Path, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.line = line


def read_records(path: Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[pa.Table]:
    name = path.name.lower()
    if name.endswith(".parquet"):
        yield from _read_parquet(path, chunk_rows)
        return
    opener = gzip.open if name.endswith(".gz") else open
    base = name.removesuffix(".gz")
    with opener(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        if base.endswith(".csv"):
            yield from _chunks(_csv_rows(path, text), chunk_rows)
        elif base.endswith((".jsonl", ".ndjson", ".json")):
            yield from _chunks(_jsonl_rows(path, text), chunk_rows)
        else:
            raise IngestError(
                path, None, "unknown format: use .csv, .jsonl or .parquet (optionally .gz)"
            )


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
        message = (
            _message(path, line, data) if isinstance(data, str) else orjson.dumps(data).decode()
        )
        yield line, _timestamp(path, line, record["collection_timestamp_ns"]), message


def _timestamp(path: Path, line: int, value: object) -> int:
    try:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError
        ns = int(value)
    except ValueError:
        raise IngestError(
            path, line, f"collection_timestamp_ns is not an integer: {value!r}"
        ) from None
    if not 0 <= ns < 2**63:
        raise IngestError(path, line, "collection_timestamp_ns is out of range")
    return ns


def _message(path: Path, line: int, text: str) -> str:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise IngestError(path, line, f"data is not valid JSON: {exc}") from None
    # Line breaks outside strings are insignificant in JSON (inside them they are invalid), and
    # the engine decodes messages as newline-delimited JSON: keep each message on one line.
    if "\n" in text or "\r" in text:
        text = text.replace("\r", " ").replace("\n", " ")
    return text


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
    for batch in parquet.iter_batches(
        batch_size=chunk_rows, columns=["collection_timestamp_ns", "data"]
    ):
        ts = batch.column(0)
        if pa.types.is_timestamp(ts.type):
            ts = pc.cast(ts.cast(pa.timestamp("ns")), pa.int64())
        data = batch.column(1)
        if ts.null_count or data.null_count:
            raise IngestError(path, None, "null timestamps or messages")
        yield pa.table([ts.cast(pa.int64()), data.cast(pa.string())], schema=RECORD_SCHEMA)
