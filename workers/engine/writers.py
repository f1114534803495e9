"""Artifact writers: CSV, Parquet and JSON lines, one pyarrow call chain per batch.

Tables arrive in the compiler's logical representation. Parquet stores real types
(int64, decimal128, timestamp[ns, UTC], string); CSV and JSON lines write times as
integer nanoseconds and decimals exactly as the source sent them.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from workers.engine.compiler import LogicalType

Fields = list[tuple[str, LogicalType]]

EXTENSIONS = {"CSV": "csv", "JSONL": "jsonl", "PARQUET": "parquet"}
CONTENT_TYPES = {
    "CSV": "text/csv",
    "JSONL": "application/x-ndjson",
    "PARQUET": "application/vnd.apache.parquet",
}


def file_suffix(fmt: str, compression: str) -> str:
    return EXTENSIONS[fmt] + (".gz" if compression == "GZIP" else "")


def content_type(fmt: str, compression: str) -> str:
    return "application/gzip" if compression == "GZIP" else CONTENT_TYPES[fmt]


def parquet_type(logical: LogicalType) -> pa.DataType:
    return {
        "timestamp": pa.timestamp("ns", tz="UTC"),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "decimal": pa.decimal128(38, logical.scale),
    }.get(logical.kind, pa.string())


class ArtifactWriter(Protocol):
    def write(self, table: pa.Table) -> None: ...
    def close(self) -> None: ...
    def bytes_written(self) -> int: ...


GZIP_LEVEL = 6  # ~5x faster than level 9 for a few percent more bytes


class _StreamWriter:
    """A file, optionally gzip-compressed; bytes_written counts what reached the file."""

    def __init__(self, path: Path, compression: str) -> None:
        self._file = open(path, "wb")  # noqa: SIM115 - closed in close()
        # No mtime and no file name in the header (the temporary name differs per attempt):
        # identical content gives identical bytes, so a retried job has the same sha256.
        self._stream: Any = (
            gzip.GzipFile(
                filename="", fileobj=self._file, mode="wb", compresslevel=GZIP_LEVEL, mtime=0
            )
            if compression == "GZIP"
            else self._file
        )

    def bytes_written(self) -> int:
        return int(self._file.tell())

    def close(self) -> None:
        if self._stream is not self._file:
            self._stream.close()
        if not self._file.closed:
            self._file.close()


class CsvWriter(_StreamWriter):
    def __init__(self, path: Path, compression: str, fields: Fields) -> None:
        super().__init__(path, compression)
        self._fields = fields
        self._stream.write((",".join(name for name, _ in fields) + "\n").encode())
        self._options = pcsv.WriteOptions(include_header=False, quoting_style="needed")

    def write(self, table: pa.Table) -> None:
        columns = [_as_text(table.column(name), logical) for name, logical in self._fields]
        pcsv.write_csv(
            pa.table(columns, names=[n for n, _ in self._fields]), self._stream, self._options
        )


class JsonLinesWriter(_StreamWriter):
    def __init__(self, path: Path, compression: str, fields: Fields) -> None:
        super().__init__(path, compression)
        self._fields = fields

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        parts: list[Any] = []
        for index, (name, logical) in enumerate(self._fields):
            key = json.dumps(name) + ":"
            parts.append(("{" if index == 0 else ",") + key)
            parts.append(_json_fragment(table.column(name), logical))
        parts.append("}\n")
        lines = pc.binary_join_element_wise(*parts, "")
        if isinstance(lines, pa.ChunkedArray):
            lines = lines.combine_chunks()
        self._stream.write(lines.buffers()[2][: pc.sum(pc.binary_length(lines)).as_py()])


class ParquetArtifactWriter:
    def __init__(self, path: Path, fields: Fields) -> None:
        self._fields = fields
        self._schema = pa.schema([pa.field(n, parquet_type(t)) for n, t in fields])
        self._file = pa.OSFile(str(path), "wb")
        self._writer = pq.ParquetWriter(self._file, self._schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        columns = [_as_parquet(table.column(n), t) for n, t in self._fields]
        self._writer.write_table(pa.Table.from_arrays(columns, schema=self._schema))

    def bytes_written(self) -> int:
        return int(self._file.tell())

    def close(self) -> None:
        self._writer.close()
        if not self._file.closed:
            self._file.close()


def open_writer(fmt: str, compression: str, fields: Fields, path: Path) -> ArtifactWriter:
    if fmt == "CSV":
        return CsvWriter(path, compression, fields)
    if fmt == "JSONL":
        return JsonLinesWriter(path, compression, fields)
    return ParquetArtifactWriter(path, fields)


def _as_parquet(values: Any, logical: LogicalType) -> Any:
    if logical.kind == "timestamp":
        return pc.cast(values, pa.int64()).cast(pa.timestamp("ns", tz="UTC"))
    return pc.cast(values, parquet_type(logical))


def _as_text(values: Any, logical: LogicalType) -> Any:
    # Decimals as text keep the source's exact digits; numbers stay numbers (unquoted).
    if logical.kind == "decimal":
        return pc.cast(values, pa.string())
    if logical.kind == "timestamp":
        return pc.cast(values, pa.int64())
    return values


def _json_fragment(values: Any, logical: LogicalType) -> Any:
    """Each value as JSON text; nulls as `null`."""
    if logical.kind == "json":
        return pc.fill_null(values, "null")
    if logical.kind in ("int", "timestamp", "bool"):
        return pc.fill_null(pc.cast(values, pa.string()), "null")
    if logical.kind == "float":
        finite = pc.is_finite(values)
        return pc.fill_null(pc.if_else(finite, pc.cast(values, pa.string()), None), "null")
    return _json_strings(pc.cast(values, pa.string()))


def _json_strings(values: Any) -> Any:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pc.any(pc.match_substring_regex(values, r"[\x00-\x1f]")).as_py():
        # Control characters need \u escapes that pyarrow.compute cannot produce: rare, so
        # this batch's column takes the exact (slower) path.
        return pa.array(
            [
                json.dumps(v, ensure_ascii=False) if v is not None else "null"
                for v in values.to_pylist()
            ]
        )
    escaped = pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')
    quoted = pc.binary_join_element_wise('"', escaped, '"', "")
    return pc.fill_null(quoted, "null")
