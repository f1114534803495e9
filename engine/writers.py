"""Artifact writers: CSV, Parquet and JSON lines, one pyarrow call chain per batch.

Tables arrive in the compiler's logical representation. Parquet stores real types
(int64, decimal128, timestamp[ns, UTC], string); CSV and JSON lines write times as
integer nanoseconds and decimals exactly as the source sent them.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from zlib_ng import gzip_ng

from engine.export_schema.lenient import contiguous
from engine.logical import LogicalType, render_time
from engine.options.formats import CsvOptions, FormatOptions, JsonLinesOptions, ParquetOptions
from engine.parquet_footer import MAGIC, MergedFooter, closing, decode_struct, split_file
from engine.pipeline import numeric_values

Fields = list[tuple[str, LogicalType]]

EXTENSIONS = {"CSV": "csv", "JSONL": "jsonl", "PARQUET": "parquet"}
CONTENT_TYPES = {
    "CSV": "text/csv",
    "JSONL": "application/x-ndjson",
    "PARQUET": "application/vnd.apache.parquet",
}
COMPRESSION_SUFFIXES = {"NONE": "", "GZIP": ".gz", "ZSTD": ".zst"}
COMPRESSION_TYPES = {"GZIP": "application/gzip", "ZSTD": "application/zstd"}


def file_suffix(fmt: str, compression: str) -> str:
    return EXTENSIONS[fmt] + COMPRESSION_SUFFIXES[compression]


def content_type(fmt: str, compression: str) -> str:
    return COMPRESSION_TYPES.get(compression, CONTENT_TYPES[fmt])


def parquet_type(logical: LogicalType, timezone: str = "UTC") -> pa.DataType:
    return {
        "timestamp": pa.timestamp("ns", tz=timezone),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "decimal": pa.decimal128(38, logical.scale),
    }.get(logical.kind, pa.string())


class ArtifactWriter(Protocol):
    def write(self, table: pa.Table) -> None: ...
    def close(self) -> None: ...
    def bytes_written(self) -> int: ...
    def settle(self) -> None:
        """Push buffered rows to the file, so bytes_written is what the file holds."""

    def sha256(self) -> str:
        """Hex SHA-256 of the file, once closed: hashed as it was written, so that publishing
        does not read the whole file again after the last row."""


class OutputError(ValueError):
    """Rows the chosen format options cannot represent (a permanent job failure)."""


# zlib-ng level 2: 1.6x zlib level 1's speed for 9% fewer bytes (JSON lines of trades). Its
# output is a function of the input alone; ISA-L's was not: in worker processes it sometimes
# compressed the same member to a byte or two more, so a retried job changed its sha256.
GZIP_LEVEL = 2
# Input bytes per gzip member: big enough that the members' headers and the restarted
# dictionary cost well under 1% of the output, small enough to keep both cores busy.
GZIP_BLOCK_BYTES = 1 << 20


# Bytes of a file between the starts of their writeback to disk.
WRITEBACK_BYTES = 32 << 20


class _CountingFile:
    """The file a writer (or its compressor) writes into, counting the bytes it is given: the
    output as it reaches the file, compressed, whatever the compressor holds back meanwhile."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "wb")  # noqa: SIM115 - closed in close()
        self.count = 0
        self.digest = hashlib.sha256()  # every byte of the file passes here, in order
        self._handed_to_disk = 0

    def write(self, data: Any) -> int:
        written = self._file.write(data)
        self.digest.update(data)
        self.count += written
        if self.count - self._handed_to_disk >= WRITEBACK_BYTES:
            self._start_writeback()
        return written

    def _start_writeback(self) -> None:
        """Start writing what the file holds to disk, without waiting (Linux: fadvise starts
        the writeback of dirty pages): the fsync before the file is published then waits for
        the tail only, not for the whole file (a tenth of a 200 MB export's time).

        The hint covers the file from its start, not only the bytes written since the last
        one: pages are dropped only once they are clean, so pages handed over last time (on
        disk by now) go back to the kernel here and the next writes reuse them. Hinting only
        the new bytes left every page cached, and the page cache grew by the whole file:
        fresh pages made writing 2 GiB take 6-7 s of kernel time instead of 1 s."""
        if hasattr(os, "posix_fadvise"):
            self._file.flush()
            self._handed_to_disk = self.count
            os.posix_fadvise(self._file.fileno(), 0, self.count, os.POSIX_FADV_DONTNEED)

    def flush(self) -> None:
        self._file.flush()

    def tell(self) -> int:
        return self._file.tell()

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        self._file.close()

    @property
    def closed(self) -> bool:
        return self._file.closed


class _StreamWriter:
    """A file, optionally gzip- or zstd-compressed; bytes_written counts what reached the file
    (compressed bytes, as each compressed block is written, not only at the end).

    Batches are formatted into text on the shared pool (pyarrow formats without the GIL), so
    the export prepares the next batch while earlier ones are formatted, two at a time on two
    cores; their text reaches the stream in order, so the file's bytes are those of a writer
    formatting in line."""

    def __init__(self, path: Path, compression: str) -> None:
        self._file = _CountingFile(path)
        self._stream: Any = self._file
        if compression == "GZIP":
            self._stream = _ParallelGzip(self._file)
        elif compression == "ZSTD":
            # Arrow's default zstd level (fast); streaming, so memory stays bounded. zstd
            # releases the GIL: compressing on a second thread overlaps with decoding the
            # next batch on this one.
            zstd = pa.CompressedOutputStream(pa.PythonFile(self._file, mode="w"), "zstd")
            self._stream = _BackgroundWriter(zstd)
        else:
            # Writing and hashing the text (as much work as formatting it) on a thread of
            # their own: the file and hashlib release the GIL.
            self._stream = _BackgroundWriter(self._file, depth=2, copy=False)
        self._formatted = _InOrder(self._stream.write)

    def _format_later(self, format_batch: Callable[[], Any]) -> None:
        self._formatted.submit(format_batch)

    def bytes_written(self) -> int:
        return self._file.count

    def sha256(self) -> str:
        return self._file.digest.hexdigest()

    def settle(self) -> None:
        self._formatted.drain()
        self._stream.flush()  # gzip: ends a member; zstd: ends the block; then the file

    def close(self) -> None:
        try:
            self._formatted.drain()
        finally:
            self._formatted.cancel()  # after a failure: what is left is not wanted
            if self._stream is not self._file:
                self._stream.close()
            if not self._file.closed:
                self._file.close()


class _InOrder:
    """Work done on the shared pool whose results are given to `write` in the order it was
    submitted. At most one result per core waits in memory (enough to keep every core busy;
    a formatted batch of JSON lines is megabytes). An error raised by the work
    surfaces on a later call (`submit` or `drain`), and on every call after it: the work
    submitted after the failed one is dropped, so the file never skips a batch."""

    def __init__(self, write: Callable[[Any], Any], workers: int | None = None) -> None:
        self._write = write
        self._pool = _shared_pool()
        self._pending: deque[Future[Any]] = deque()
        self._most_pending = workers or os.cpu_count() or 1
        self._error: BaseException | None = None

    def submit(self, work: Callable[[], Any]) -> None:
        self._check()
        self._pending.append(self._pool.submit(work))
        self.write_finished()

    def write_finished(self) -> None:
        """Finished results are written at once, in order (so the bytes written follow
        the output while work is still coming), and no more than the most pending wait."""
        while self._pending and (
            len(self._pending) > self._most_pending or self._pending[0].done()
        ):
            self._write_oldest()

    def drain(self) -> None:
        self._check()
        while self._pending:
            self._write_oldest()

    def _write_oldest(self) -> None:
        try:
            result = self._pending.popleft().result()
        except BaseException as exc:
            self._error = exc
            self.cancel()
            raise
        self._write(result)

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def cancel(self) -> None:
        for pending in self._pending:
            pending.cancel()
        self._pending.clear()


_pools: dict[int, ThreadPoolExecutor] = {}  # by process id: a forked child makes its own
_pools_lock = threading.Lock()


def _shared_pool() -> ThreadPoolExecutor:
    """The threads that compress gzip members and encode Parquet row groups, one per core,
    shared by every file the process writes (starting threads for each file cost more than
    a small file's compression)."""
    with _pools_lock:
        pool = _pools.get(os.getpid())
        if pool is None:
            pool = _pools[os.getpid()] = ThreadPoolExecutor(
                os.cpu_count() or 1, thread_name_prefix="encoder"
            )
        return pool


class _ParallelGzip:
    """gzip written as independent members of `GZIP_BLOCK_BYTES` of input each, compressed
    with zlib-ng on every core (it releases the GIL) and written in order.

    Concatenated members are standard gzip (RFC 1952; gzip, zcat, Python, pyarrow, DuckDB and
    pandas read them as one stream). Members start at fixed input offsets (and wherever
    `flush` is called, which the export does at the same rows every time) and carry no mtime
    or file name, so the same input gives the same bytes: a retried job keeps its sha256.
    At most two members per core wait in memory.
    """

    def __init__(self, file: Any, workers: int | None = None) -> None:
        self._file = file
        self._members = _InOrder(file.write, 2 * (workers or os.cpu_count() or 1))
        self._buffer = bytearray()
        self._started = False  # a member was submitted
        self.closed = False

    def write(self, data: Any) -> int:
        self._buffer += data
        while len(self._buffer) >= GZIP_BLOCK_BYTES:
            self._submit(bytes(self._buffer[:GZIP_BLOCK_BYTES]))
            del self._buffer[:GZIP_BLOCK_BYTES]
        self._members.write_finished()
        return len(data)

    def _submit(self, block: bytes) -> None:
        self._members.submit(partial(gzip_ng.compress, block, GZIP_LEVEL, mtime=0))
        self._started = True

    def flush(self) -> None:
        if self._buffer:
            self._submit(bytes(self._buffer))
            self._buffer.clear()
        self._members.drain()
        self._file.flush()

    def close(self) -> None:
        try:
            if not self._started and not self._buffer:
                self._submit(b"")  # an empty file is still one (empty) gzip member
            self.flush()
        finally:
            self._members.cancel()  # after a failure: what is left is not wanted
            self.closed = True


class _BackgroundWriter:
    """A file-like object whose writes happen, in order, on a thread of their own. The queue
    is short, so at most a few chunks wait in memory; errors surface on the next call."""

    def __init__(self, target: Any, depth: int = 4, copy: bool = True) -> None:
        self._target = target
        self._copy = copy  # False: the caller never reuses what it writes
        self._queue: queue.Queue[Any] = queue.Queue(depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="compress", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            chunk = self._queue.get()
            try:
                if chunk is None:
                    return
                if self._error is None:
                    self._target.write(chunk)
            except BaseException as exc:
                self._error = exc
            finally:
                self._queue.task_done()

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def write(self, data: Any) -> int:
        self._check()
        chunk = bytes(data) if self._copy else data  # pyarrow may reuse its buffer
        self._queue.put(chunk)
        return len(chunk)

    def flush(self) -> None:
        self._queue.join()
        self._check()
        self._target.flush()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._target.close()
        self._check()

    @property
    def closed(self) -> bool:
        return not self._thread.is_alive()


# Rows pyarrow formats per write call: big enough that a write is worth a queue hop.
CSV_CHUNK_ROWS = 32_768
_QUOTING = {"needed": "needed", "all": "all_valid", "none": "none"}


class CsvWriter(_StreamWriter):
    def __init__(
        self,
        path: Path,
        compression: str,
        fields: Fields,
        options: CsvOptions,
        timezone: str = "UTC",
    ) -> None:
        super().__init__(path, compression)
        self._fields = fields
        self._times = options.timestamp_format
        self._timezone = timezone
        delimiter, quoting, eol = options.delimiter, options.quoting, options.line_terminator
        self._quoting = quoting
        self._delimiter, self._eol, self._null = delimiter, eol, options.null_string
        # `needed`: Arrow's own "needed" quotes every text value; here text is quoted only
        # where it holds the delimiter, a quote or a line break, or would read back as null
        # (empty text when nulls are empty, text equal to nullString). JSON columns are
        # always quoted (a JSON value nearly always holds quotes or commas), as before.
        # Batches without such a value (nearly all) are written by Arrow, unquoted or quoting
        # its JSON columns only; the others are joined here, value by value.
        self._json = [i for i, (_, logical) in enumerate(fields) if logical.kind == "json"]
        self._options = pcsv.WriteOptions(
            include_header=False,
            delimiter=delimiter,
            quoting_style=_QUOTING[quoting],
            null_string=options.null_string,
            eol=eol,
            batch_size=CSV_CHUNK_ROWS,
        )
        self._unquoted = pcsv.WriteOptions(
            include_header=False,
            delimiter=delimiter,
            quoting_style="none",
            null_string=options.null_string,
            eol=eol,
            batch_size=CSV_CHUNK_ROWS,
        )
        self._special = {delimiter.encode(), b'"', b"\n", b"\r"}
        if options.header:
            names = [_csv_name(name, delimiter, quoting) for name, _ in fields]
            self._stream.write((delimiter.join(names) + eol).encode())

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if self._quoting == "none":
            # Values this style cannot hold fail the job at the batch that holds them, with
            # the rows before it in the file (a partial export keeps exactly those).
            self._stream.write(self._format(table))
        else:
            self._format_later(partial(self._format, table))

    def _format(self, table: pa.Table) -> pa.Buffer:
        columns = [
            contiguous(_as_text(table.column(n), t, self._times, self._timezone))
            for n, t in self._fields
        ]
        options = self._options
        if self._quoting == "needed":
            text_columns = [i for i, values in enumerate(columns) if _is_text(values)]
            if any(self._needs_quotes(columns[i]) for i in text_columns if i not in self._json):
                return self._joined(columns)
            if not self._json:
                options = self._unquoted
            elif set(text_columns) != set(self._json):  # Arrow would quote the others too
                return self._joined(columns)
        text = pa.BufferOutputStream()
        try:
            pcsv.write_csv(pa.table(columns, names=[n for n, _ in self._fields]), text, options)
        except pa.ArrowInvalid as exc:
            raise OutputError(f"CSV cannot hold these values with these options: {exc}") from None
        return text.getvalue()

    def _needs_quotes(self, values: Any) -> bool:
        """Whether some text value of this batch's column needs quotes: one scan of the
        column's bytes, then the (cheap) null look-alike checks."""
        text = _text_bytes(values)
        if any(special in text for special in self._special):
            return True
        valid = values.drop_null() if values.null_count else values
        if not self._null:
            return len(valid) > 0 and pc.min(pc.binary_length(valid)).as_py() == 0
        return bool(pc.any(pc.equal(valid, self._null)).as_py())

    def _joined(self, columns: list[Any]) -> pa.Buffer:
        """The batch's lines with the values that need it quoted (`"` doubled): the bytes
        Arrow writes for the other batches, had it quoted only these values."""
        parts: list[Any] = []
        for index, values in enumerate(columns):
            text = pc.cast(values, pa.string())  # numbers as Arrow writes them
            json = index in self._json
            if json or (_is_text(values) and self._needs_quotes(values)):
                quoted = pc.binary_join_element_wise(
                    '"', pc.replace_substring(text, '"', '""'), '"', ""
                )
                text = quoted if json else pc.if_else(self._quote_mask(text), quoted, text)
            parts += [pc.fill_null(text, self._null), self._delimiter]
        parts[-1] = self._eol
        lines = pc.binary_join_element_wise(*parts, "")
        return lines.buffers()[2][: pc.sum(pc.binary_length(lines)).as_py()]

    def _quote_mask(self, text: Any) -> Any:
        mask = pc.equal(text, self._null)
        for special in self._special:
            mask = pc.or_(mask, pc.match_substring(text, special.decode()))
        return mask


def _is_text(values: Any) -> bool:
    return bool(pa.types.is_string(values.type) or pa.types.is_large_string(values.type))


def _csv_name(name: str, delimiter: str, quoting: str) -> str:
    if quoting == "all" or any(c in name for c in (delimiter, '"', "\n", "\r")):
        return '"' + name.replace('"', '""') + '"'
    return name


class JsonLinesWriter(_StreamWriter):
    def __init__(
        self,
        path: Path,
        compression: str,
        fields: Fields,
        options: JsonLinesOptions,
        timezone: str = "UTC",
    ) -> None:
        super().__init__(path, compression)
        self._fields = fields
        self._times = options.timestamp_format
        self._timezone = timezone
        self._decimal_numbers = options.decimals == "number"

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self._format_later(partial(self._format, table))

    def _format(self, table: pa.Table) -> pa.Buffer:
        parts: list[Any] = []  # text the same on every line (str) and a column's values
        for index, (name, logical) in enumerate(self._fields):
            key = json.dumps(name) + ":"
            parts.append(("{" if index == 0 else ",") + key)
            values = contiguous(table.column(name))
            if _is_constant(values):
                # The same value on every line (exchange, symbol...): its text joins the
                # line's constant text, one part fewer for Arrow to join on every line.
                parts.append(_text_of_first(self._fragment(values.slice(0, 1), logical)))
            else:
                parts += self._fragment(values, logical)
        parts.append("}\n")
        lines = pc.binary_join_element_wise(*_joined_text(parts), "")
        if isinstance(lines, pa.ChunkedArray):
            lines = lines.combine_chunks()
        return lines.buffers()[2][: pc.sum(pc.binary_length(lines)).as_py()]

    def _fragment(self, values: Any, logical: LogicalType) -> list[Any]:
        if logical.kind == "timestamp" and self._times == "iso":
            return _json_strings(_as_text(values, logical, "iso", self._timezone))
        if logical.kind == "timestamp":
            return [
                pc.fill_null(pc.cast(_as_text(values, logical, self._times), pa.string()), "null")
            ]
        if logical.kind == "decimal" and self._decimal_numbers:
            return [pc.fill_null(_json_number(_as_text(values, logical)), "null")]
        return _json_fragment(values, logical)


def _is_constant(values: Any) -> bool:
    """Whether every value is the same, not null: cheap when not (the first and the last
    value differ), one comparison per value when they are alike."""
    if len(values) < 2 or values.null_count:
        return False
    first = values[0]
    if first != values[-1]:
        return False
    return bool(pc.all(pc.equal(values, first)).as_py())


def _text_of_first(parts: list[Any]) -> str:
    """The line text that `parts` (a fragment of one value) join to."""
    joined = pc.binary_join_element_wise(*parts, "")
    text: str = (joined if isinstance(joined, pa.Scalar) else joined[0]).as_py()
    return text


def _joined_text(parts: list[Any]) -> list[Any]:
    """Neighbouring constant texts as one: fewer pieces to join on every line."""
    joined: list[Any] = []
    for part in parts:
        if isinstance(part, str) and joined and isinstance(joined[-1], str):
            joined[-1] += part
        else:
            joined.append(part)
    return joined


# Rows the choice of dictionary columns is made on: counting the distinct values of a whole
# row group of trade ids took 20-40 ms of the export's own thread, once per file.
DICTIONARY_SAMPLE_ROWS = 8_192


def _dictionary_columns(group: pa.Table) -> list[str]:
    """Dictionary encoding where it pays: text columns whose values repeat (exchange, symbol,
    side...), judged on the first rows of the file. Numbers, timestamps and mostly distinct
    text (trade ids) try a dictionary per page and give it up: numbers and timestamps cost the
    normalized export about 40% of its encoder time, trade ids another 16% and 6% of the
    file's bytes. A column that turns out to have many values after all falls back to plain
    pages in the writer. Decided by the rows alone, so the same rows give the same file."""
    sample = group.slice(0, DICTIONARY_SAMPLE_ROWS)
    return [
        field.name
        for field, column in zip(sample.schema, sample.columns, strict=True)
        if (pa.types.is_string(field.type) or pa.types.is_large_string(field.type))
        and pc.count_distinct(column).as_py() * 2 <= len(column)
    ]


# Rows of a Parquet file being encoded at once, at most: its memory whatever the core count.
ROWS_IN_FLIGHT = 1 << 19


class ParquetArtifactWriter:
    """Row groups are encoded on the shared pool, as many at once as there are cores, each as
    a Parquet file of its own in memory (pyarrow releases the GIL while it encodes and
    compresses); their column chunks reach the file in order, and one footer lists them all
    (`engine.parquet_footer`). The file's bytes are those of one writer encoding the row
    groups in turn; a file takes a fraction of the time on several cores. Row groups in
    flight are bounded by rows (`ROWS_IN_FLIGHT`) as well as by cores: one row group of the
    largest size allowed, four of the default size."""

    def __init__(
        self, path: Path, fields: Fields, options: ParquetOptions, timezone: str = "UTC"
    ) -> None:
        self._fields = fields
        self._timezone = timezone
        self._schema = pa.schema([pa.field(n, parquet_type(t, timezone)) for n, t in fields])
        self._file = _CountingFile(path)
        # The column chunks are written (and hashed) on a thread of their own; `_position`
        # is where the next chunk goes.
        self._sink = _BackgroundWriter(self._file, copy=False)
        self._sink.write(MAGIC)
        self._position = len(MAGIC)
        self._footer = MergedFooter()
        in_flight = max(1, min(os.cpu_count() or 1, ROWS_IN_FLIGHT // options.row_group_size))
        self._groups = _InOrder(self._append_group, in_flight)
        self._pool = _shared_pool()
        self._row_group_size = options.row_group_size
        # Batches being converted to the file's types on the pool (decimal text parsed),
        # while the export prepares the next: in order, a row group's worth at most.
        self._pending: list[Future[pa.Table]] = []
        self._pending_rows = 0
        self._options = options
        self._writer_options: dict[str, Any] | None = None  # decided on the first rows

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self._pending.append(self._pool.submit(self._converted, table))
        self._pending_rows += table.num_rows
        # Batches are small; row groups of rowGroupSize rows make files readers like.
        while self._pending_rows >= self._row_group_size:
            self._flush(self._row_group_size)

    def _converted(self, table: pa.Table) -> pa.Table:
        columns = [_as_parquet(table.column(n), t, self._timezone) for n, t in self._fields]
        return pa.Table.from_arrays(columns, schema=self._schema)

    def _flush(self, rows: int) -> None:
        merged = pa.concat_tables([converted.result() for converted in self._pending])
        group = merged.slice(0, rows)
        rest = merged.slice(rows)
        self._pending = [_done(rest)] if rest.num_rows else []
        self._pending_rows = rest.num_rows
        self._groups.submit(partial(self._encoded, group, self._options_for(group)))

    def _options_for(self, first: pa.Table) -> dict[str, Any]:
        if self._writer_options is None:
            options = self._options
            self._writer_options = {
                "compression": options.compression,
                "compression_level": options.compression_level,
                "use_dictionary": _dictionary_columns(first) if options.dictionary else False,
                "column_encoding": self._delta_columns() or None,
                "write_statistics": options.statistics,
                "data_page_size": options.data_page_size,
            }
        return self._writer_options

    def _delta_columns(self) -> dict[str, str]:
        """Timestamps as differences (DELTA_BINARY_PACKED, a Parquet 2 encoding every current
        reader decodes): rows come in time order, so the differences are small and pack into
        a few bits. The file is smaller (Binance trades: about 7%) and the encoder faster
        (zstd gets a fraction of the bytes plain encoding gives it) than plain int64s."""
        return {
            name: "DELTA_BINARY_PACKED"
            for name, logical in self._fields
            if logical.kind == "timestamp"
        }

    def _encoded(
        self, group: pa.Table | None, options: dict[str, Any]
    ) -> tuple[memoryview, list[Any]]:
        """A Parquet file of `group` alone (of no row group when None): its column chunks
        and its footer, decoded here rather than on the export's thread."""
        sink = pa.BufferOutputStream()
        with pq.ParquetWriter(sink, self._schema, **options) as writer:
            if group is not None:
                writer.write_table(group, row_group_size=group.num_rows)
        chunks, footer = split_file(sink.getvalue())
        return chunks, decode_struct(footer)

    def _append_group(self, encoded: tuple[memoryview, list[Any]]) -> None:
        chunks, footer = encoded
        self._footer.add(footer, shift=self._position - len(MAGIC))
        self._sink.write(chunks)
        self._position += len(chunks)

    def sha256(self) -> str:
        return self._file.digest.hexdigest()

    def bytes_written(self) -> int:
        """Exact after `settle`; while row groups are being encoded, the size before them."""
        return self._position

    def settle(self) -> None:
        if self._pending_rows:
            self._flush(self._pending_rows)
        self._groups.drain()
        self._sink.flush()

    def close(self) -> None:
        """The footer of the row groups written, also after a failure (a partial export
        keeps a readable file of the rows before it)."""
        try:
            self.settle()
        finally:
            self._groups.cancel()  # after a failure: what is left is not wanted
            for converted in self._pending:
                converted.cancel()
            try:
                if self._footer.empty:  # a file without rows: the schema, no row groups
                    _, empty = self._encoded(None, self._options_for(self._schema.empty_table()))
                    self._footer.add(empty, shift=0)
                tail = closing(self._footer.encode())
                self._sink.write(tail)
                self._position += len(tail)
            finally:
                self._sink.close()


def _done(value: Any) -> Future[Any]:
    future: Future[Any] = Future()
    future.set_result(value)
    return future


def open_writer(
    compression: str, fields: Fields, path: Path, options: FormatOptions, timezone: str = "UTC"
) -> ArtifactWriter:
    """The writer of the format whose (resolved) options are given; `timezone` is the IANA
    zone ISO timestamps are rendered in (Parquet: the zone of its timestamp columns)."""
    if isinstance(options, CsvOptions):
        return CsvWriter(path, compression, fields, options, timezone)
    if isinstance(options, JsonLinesOptions):
        return JsonLinesWriter(path, compression, fields, options, timezone)
    return ParquetArtifactWriter(path, fields, options, timezone)


def _as_parquet(values: Any, logical: LogicalType, timezone: str = "UTC") -> Any:
    if logical.kind == "timestamp":
        return pc.cast(values, pa.int64()).cast(pa.timestamp("ns", tz=timezone))
    return pc.cast(numeric_values(values, logical), parquet_type(logical))


def _as_text(values: Any, logical: LogicalType, times: str = "ns", timezone: str = "UTC") -> Any:
    # Decimals as text keep the source's exact digits; numbers stay numbers (unquoted).
    if logical.kind == "decimal":
        return _plain_decimal(values)
    if logical.kind == "timestamp":
        return render_time(values, times, timezone)
    return values


def _plain_decimal(values: Any) -> Any:
    """Decimal text without exponents. Source text passes through unchanged; computed
    decimals print like `1.0E-7` in Arrow for tiny values, which those rows (few) fix."""
    text = contiguous(pc.cast(values, pa.string()))  # replace_with_mask takes arrays only
    if b"E" not in _text_bytes(text):  # one scan of the batch's text, not one per value
        return text
    scientific = pc.fill_null(pc.match_substring(text, "E"), False)
    if not pc.any(scientific).as_py():
        return text
    fixed = [format(Decimal(t), "f") for t in text.filter(scientific).to_pylist()]
    return pc.replace_with_mask(text, scientific, pa.array(fixed, pa.string()))


_JSON_NUMBER = r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$"


def _json_number(text: Any) -> Any:
    """Decimal text as a JSON number: `.5`, `+2` or `1.` (valid decimals, invalid JSON) are
    rewritten; the rest keep their exact digits."""
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    odd = pc.invert(pc.fill_null(pc.match_substring_regex(text, _JSON_NUMBER), True))
    if not pc.any(odd).as_py():
        return text
    fixed = [_canonical(t) for t in text.filter(odd).to_pylist()]
    return pc.replace_with_mask(text, odd, pa.array(fixed, pa.string()))


def _canonical(text: str) -> str:
    plain = format(Decimal(text), "f")
    return plain + "0" if plain.endswith(".") else plain


def _json_fragment(values: Any, logical: LogicalType) -> list[Any]:
    """Each value as JSON text, nulls as `null`: the parts of the line that give it."""
    if logical.kind == "json":
        return [pc.fill_null(values, "null")]
    if logical.kind in ("int", "timestamp", "bool"):
        return [pc.fill_null(pc.cast(values, pa.string()), "null")]
    if logical.kind == "float":
        finite = pc.is_finite(values)
        return [pc.fill_null(pc.if_else(finite, pc.cast(values, pa.string()), None), "null")]
    return _json_strings(pc.cast(values, pa.string()))


def _text_buffer(values: Any) -> pa.Buffer:
    """The bytes of a string array's values, back to back (no copy)."""
    data = values.buffers()[2]
    if data is None or len(values) == 0:
        return pa.py_buffer(b"")
    large = pa.types.is_large_string(values.type)
    offsets = memoryview(values.buffers()[1]).cast("q" if large else "i")
    start, end = offsets[values.offset], offsets[values.offset + len(values)]
    return data.slice(start, end - start)


def _text_bytes(values: Any) -> bytes:
    text: bytes = _text_buffer(values).to_pybytes()
    return text


def _needs_no_escapes(values: Any) -> bool:
    """Whether every value is printable ASCII without `"` or `\\`: JSON text as it is. One
    scan of the batch's text, not a regex per value."""
    data = _text_buffer(values)
    text = data.to_pybytes()
    if b'"' in text or b"\\" in text:
        return False
    whole = pa.Array.from_buffers(
        pa.large_string(), 1, [None, pa.array([0, data.size], pa.int64()).buffers()[1], data]
    )
    return pc.ascii_is_printable(whole)[0].as_py() is True


def _json_strings(values: Any) -> list[Any]:
    values = contiguous(values)
    if values.null_count == 0 and _needs_no_escapes(values):
        return ['"', values, '"']  # the quotes join the line's constant text
    if pc.any(pc.match_substring_regex(values, r"[\x00-\x1f]")).as_py():
        # Control characters need \u escapes that pyarrow.compute cannot produce: rare, so
        # this batch's column takes the exact (slower) path.
        return [
            pa.array(
                [
                    json.dumps(v, ensure_ascii=False) if v is not None else "null"
                    for v in values.to_pylist()
                ]
            )
        ]
    escaped = pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')
    quoted = pc.binary_join_element_wise('"', escaped, '"', "")
    return [pc.fill_null(quoted, "null")]
