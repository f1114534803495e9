"""Read record files for ingest: CSV (`collection_timestamp_ns,data`), JSON lines with those
two keys, optionally gzipped, or Parquet with those two columns: the raw export's own formats,
so a raw export can be re-imported unchanged.

Lines are validated one by one (every message must be a JSON object) so that a bad line
fails the ingest with its file and line number, whatever went wrong (bad JSON, a truncated
gzip stream, bytes that are not UTF-8); this is the one place where records pass through
Python. Parquet files are checked per batch, naming the row.

A reader given `on_reject` skips bad records instead (a bad timestamp or message, a line that
is not JSON or has the wrong fields), reporting each with its line and reason; a problem of
the file itself (a wrong header, bytes that are not UTF-8, a truncated gzip stream) still
fails it, since nothing after it can be trusted. `on_progress` hears how many bytes of the
file (as stored, compressed or not) and records have been read, every few thousand records.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engine.segments import RECORD_SCHEMA
from engine.strict import StrictParseError, parse_int64

CHUNK_ROWS = 500_000
MAX_FIELD = 64 * 1024 * 1024
PROGRESS_EVERY = 5_000  # records between progress reports
REJECTED_TEXT = 2_000  # characters of a rejected line kept for the report


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
        self.reason = message


class RecordError(IngestError):
    """One record is bad (the file around it is fine): skippable."""


@dataclass(frozen=True)
class Rejected:
    line: int  # 1-based line (CSV, JSON lines) or row (Parquet)
    reason: str
    text: str  # the record as read, cut to REJECTED_TEXT characters


OnReject = Callable[[Rejected], None]
OnProgress = Callable[[int, int], None]  # (bytes of the file read, records read, bad ones too)


class _CountingReader(io.RawIOBase):
    """The file as stored, counting the bytes read from it (under gzip: compressed bytes)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        read = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        self.count += read or 0
        return int(read or 0)


def read_records(
    path: Path,
    chunk_rows: int = CHUNK_ROWS,
    *,
    on_reject: OnReject | None = None,
    on_progress: OnProgress | None = None,
) -> Iterator[pa.Table]:
    name = path.name.lower()
    if name.endswith(".parquet"):
        yield from _read_parquet(path, chunk_rows, on_reject, on_progress)
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
    with open(path, "rb") as stored:
        counted = _CountingReader(stored)
        raw = cast(
            IO[bytes],
            gzip.GzipFile(fileobj=counted, mode="rb")
            if name.endswith(".gz")
            else io.BufferedReader(counted),
        )
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        records = _named_failures(path, parse(path, text))
        if on_progress is not None:
            records = _reporting(records, lambda: counted.count, on_progress)
        rows = _skipping(records, on_reject) if on_reject else _failing(path, records)
        yield from _chunks(rows, chunk_rows)


def supported(filename: str) -> bool:
    """Whether `read_records` reads a file of this name."""
    name = filename.lower()
    return name.endswith(".parquet") or name.removesuffix(".gz").endswith(
        (".csv", ".jsonl", ".ndjson", ".json")
    )


Row = tuple[int, int, str]  # line, timestamp, message


def _skipping(rows: Iterator[Row | Rejected], on_reject: OnReject) -> Iterator[Row]:
    for row in rows:
        if isinstance(row, Rejected):
            on_reject(row)
        else:
            yield row


def _failing(path: Path, rows: Iterator[Row | Rejected]) -> Iterator[Row]:
    """Nobody skips: the first bad record fails the file."""
    for row in rows:
        if isinstance(row, Rejected):
            raise RecordError(path, row.line, row.reason)
        yield row


def _reporting(
    rows: Iterator[Row | Rejected], bytes_read: Callable[[], int], on_progress: OnProgress
) -> Iterator[Row | Rejected]:
    """Counts every record read, good or rejected."""
    count = 0
    for row in rows:
        yield row
        count += 1
        if count % PROGRESS_EVERY == 0:
            on_progress(bytes_read(), count)
    on_progress(bytes_read(), count)


def _named_failures(path: Path, rows: Iterator[Row | Rejected]) -> Iterator[Row | Rejected]:
    """A failure of the file itself (not UTF-8, a truncated or corrupt gzip stream) names the
    line after the last one read."""
    line = 0
    try:
        for row in rows:
            line = row.line if isinstance(row, Rejected) else row[0]
            yield row
    except UnicodeDecodeError as exc:
        raise IngestError(path, line + 1, f"not UTF-8 text ({exc.reason})") from None
    except (EOFError, OSError, zlib.error) as exc:
        raise IngestError(path, line + 1, f"cannot read the file: {exc}") from None
    except csv.Error as exc:
        raise IngestError(path, line + 1, f"not CSV: {exc}") from None


def _csv_rows(path: Path, text: IO[str]) -> Iterator[Row | Rejected]:
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(text)
    header = next(reader, None)
    if header != ["collection_timestamp_ns", "data"]:
        raise IngestError(path, 1, f"expected header collection_timestamp_ns,data, got {header}")
    for row in reader:
        line = reader.line_num
        try:
            if len(row) != 2:
                raise RecordError(path, line, f"expected 2 fields, got {len(row)}")
            yield line, _timestamp(path, line, row[0]), _message(path, line, row[1])
        except RecordError as exc:
            yield Rejected(line, exc.reason, _csv_line(row))


def _csv_line(row: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row)
    return out.getvalue()[:REJECTED_TEXT]


def _jsonl_rows(path: Path, text: IO[str]) -> Iterator[Row | Rejected]:
    for line, content in enumerate(text, start=1):
        if not content.strip():
            continue
        try:
            yield _jsonl_record(path, line, content)
        except RecordError as exc:
            yield Rejected(line, exc.reason, content.rstrip("\r\n")[:REJECTED_TEXT])


def _jsonl_record(path: Path, line: int, content: str) -> Row:
    try:
        record = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise RecordError(path, line, f"not JSON: {exc}") from None
    if not isinstance(record, dict) or set(record) != {"collection_timestamp_ns", "data"}:
        raise RecordError(
            path, line, "expected an object with keys collection_timestamp_ns and data"
        )
    data = record["data"]
    if isinstance(data, str):
        message = _message(path, line, data)
    elif isinstance(data, dict):
        message = orjson.dumps(data).decode()
    else:
        raise RecordError(path, line, f"data must be a JSON object, not {_kind(data)}")
    return line, _timestamp(path, line, record["collection_timestamp_ns"]), message


def _timestamp(path: Path, line: int, value: object) -> int:
    """Nanoseconds since the epoch: ASCII digits (or a JSON integer), 0 to int64."""
    try:
        return parse_int64(value, minimum=0, signed=False, what="nanoseconds since the epoch")
    except StrictParseError as exc:
        raise RecordError(path, line, f"collection_timestamp_ns: {exc}") from None


def _message(path: Path, line: int, text: str) -> str:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise RecordError(path, line, f"data is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise RecordError(path, line, f"data must be a JSON object, not {_kind(value)}")
    # Line breaks outside strings are insignificant in JSON (inside them they are invalid), and
    # the engine decodes messages as newline-delimited JSON: keep each message on one line.
    if "\n" in text or "\r" in text:
        text = text.replace("\r", " ").replace("\n", " ")
    return text


def _kind(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _chunks(rows: Iterator[Row], chunk_rows: int) -> Iterator[pa.Table]:
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


def _read_parquet(
    path: Path, chunk_rows: int, on_reject: OnReject | None, on_progress: OnProgress | None
) -> Iterator[pa.Table]:
    parquet = pq.ParquetFile(path)
    names = parquet.schema_arrow.names
    if "collection_timestamp_ns" not in names or "data" not in names:
        raise IngestError(path, None, "expected columns collection_timestamp_ns and data")
    total_rows, size = max(parquet.metadata.num_rows, 1), path.stat().st_size
    first_row = 0
    for batch in parquet.iter_batches(
        batch_size=chunk_rows, columns=["collection_timestamp_ns", "data"]
    ):
        ts = batch.column(0)
        if pa.types.is_timestamp(ts.type):
            ts = pc.cast(ts.cast(pa.timestamp("ns")), pa.int64())
        ts, data = ts.cast(pa.int64()), batch.column(1).cast(pa.string())
        good = _valid_records(ts, data)
        if not pc.all(good).as_py():
            if on_reject is None:
                row = pc.index(good, False).as_py()
                raise RecordError(path, first_row + row + 1, _why(ts, data, row), unit="row")
            for row in pc.indices_nonzero(pc.invert(good)).to_pylist():
                on_reject(Rejected(first_row + row + 1, _why(ts, data, row), _text(ts, data, row)))
            ts, data = ts.filter(good), data.filter(good)
        first_row += batch.num_rows
        if on_progress is not None:
            on_progress(size * first_row // total_rows, first_row)
        yield pa.table([ts, data], schema=RECORD_SCHEMA)


def _valid_records(ts: pa.Array, data: pa.Array) -> pa.Array:
    objects = pc.starts_with(pc.utf8_ltrim_whitespace(data), "{")
    return pc.fill_null(pc.and_(pc.greater_equal(ts, 0), objects), False)


def _why(ts: pa.Array, data: pa.Array, row: int) -> str:
    if not ts[row].is_valid:
        return "collection_timestamp_ns is null"
    if ts[row].as_py() < 0:
        return f"collection_timestamp_ns: {ts[row].as_py()} is negative"
    if not data[row].is_valid:
        return "data is null"
    return "data must be a JSON object"


def _text(ts: pa.Array, data: pa.Array, row: int) -> str:
    return orjson.dumps(
        {"collection_timestamp_ns": ts[row].as_py(), "data": data[row].as_py()}
    ).decode()[:REJECTED_TEXT]
