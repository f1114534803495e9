"""Run one export: scan -> apply schema -> filter -> decimate -> limit -> write, streaming,
then publish every file atomically (temporary names until all of them are complete)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs

from engine.export_schema import compile_schema
from engine.files import publish_file, sha256_of, staging_dir
from engine.logical import SourceContext
from engine.options import ExportOptions
from engine.options.model import decimated_fields, stream_fields
from engine.pipeline import Decimator, Fields, Mask, Rows, compile_filter
from engine.segments import SegmentFile, read_ahead, scan
from engine.streams import ExportSource, merge_rows, pivot_wide, with_source, with_stream_columns
from engine.writers import (
    ArtifactWriter,
    OutputError,
    content_type,
    file_suffix,
    open_writer,
)

MANIFEST_TYPE = "application/json"
# With maxBytesPerFile, the file is measured after slices of rows sized from the bytes per row
# seen so far to fit what is left (at most this many, and this many to probe a first file).
BYTES_CHECK_ROWS = 4096
PROBE_ROWS = 256
MAX_FILES = 10_000


@dataclass(frozen=True)
class ExportTask:
    schema_spec: dict[str, Any]
    context: SourceContext
    segments: Sequence[SegmentFile]
    start_ns: int
    end_ns: int
    format: str
    compression: str
    output_dir: Path
    filename_stem: str
    options: ExportOptions
    # On a failure, publish the rows written so far (marked partial) instead of nothing.
    keep_partial: bool = False
    # Many datastreams: every source (the schema is bound to each); `context` and `segments`
    # are then unused. Empty: the one source is `context` and `segments`.
    sources: Sequence[ExportSource] = ()
    # A part of an export run in parallel with the others (`start_ns`/`end_ns` are then the
    # part's period): only this source's rows when split per datastream, and no manifest
    # (`write_manifest` writes the export's once every part is done).
    stream: int | None = None
    manifest: bool = True
    # Where `output_dir` is: local disk when None, else a remote filesystem (an S3 bucket)
    # the files are copied to once complete (they are written in a local staging directory).
    filesystem: pafs.FileSystem | None = None

    def all_sources(self) -> Sequence[ExportSource]:
        return self.sources or (ExportSource(self.context, self.segments),)


@dataclass(frozen=True)
class ArtifactFile:
    path: Path
    filename: str
    content_type: str
    byte_size: int
    row_count: int
    sha256: str
    from_ns: int | None = None
    to_ns: int | None = None
    partial: bool = False
    datastream_id: int | None = None  # the one stream of a file split per datastream


class PartialExport(Exception):
    """The export failed with `cause` after writing rows; `files` are what it kept (the task
    asked for `keep_partial`): complete, readable files of the rows before the failure."""

    def __init__(self, cause: Exception, files: list[ArtifactFile]) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.files = files


@dataclass(frozen=True)
class Progress:
    """How far an export has come: output rows and bytes (compressed, as they reached the
    files) written, and input records (stored messages, before unfolding, filters and
    decimation) read from the segments."""

    rows_written: int
    bytes_written: int
    records_read: int


# Called after every batch; raising stops the export.
ProgressCallback = Callable[[Progress], None]


def run_export(task: ExportTask, on_progress: ProgressCallback) -> list[ArtifactFile]:
    """Scan, decode, filter and decimate each source on its own; merge the sources in time
    order (or write them one after the other when each gets its own files, or pivot them into
    one row per bucket when WIDE); then limit and write."""
    sources = task.all_sources()
    options = task.options
    compiled = [compile_schema(task.schema_spec, source.context) for source in sources]
    fields = compiled[0].fields
    output_fields = options.output_fields(fields)
    limit = options.limit
    files = _FileSet(task, output_fields)
    rows = 0
    read = _RecordCount()

    def report() -> None:
        on_progress(Progress(rows, files.bytes_written(), read.records))

    def emit(chunk: Rows, stream: int | None) -> bool:
        """Write a chunk; False once the row limit is reached."""
        nonlocal rows
        if limit is not None and rows + chunk.num_rows > limit:
            chunk = chunk.slice(0, limit - rows)
        files.write(chunk, stream)
        rows += chunk.num_rows
        report()
        return limit is None or rows < limit

    # Every source binds the schema to the same columns: one filter serves them all.
    mask = compile_filter(options.filter, dict(fields)) if options.filter else None

    # Streams read one after the other read ahead; merged streams do not (a thread and the
    # batches ahead for each of possibly many datastreams).
    split = options.split
    ahead = len(sources) == 1 or (
        options.layout != "WIDE" and split is not None and split.per_datastream
    )
    streams = [
        _reporting_empty(_source_rows(task, source, schema, fields, mask, read, ahead), report)
        for source, schema in zip(sources, compiled, strict=True)
    ]
    try:
        for stream, chunk in _ordered(task, streams, fields):
            if not emit(chunk, stream):
                break
        artifacts = files.publish()
    except Exception as exc:
        kept = files.keep_partial() if task.keep_partial else []
        if kept:
            raise PartialExport(exc, kept) from exc
        files.discard()
        raise
    except BaseException:
        files.discard()
        raise
    finally:
        for source_rows in streams:  # now, not when the failure is collected: reads stop
            source_rows.close()
        files.remove_staging()
    on_progress(Progress(rows, sum(a.byte_size for a in artifacts), read.records))
    return artifacts


@dataclass
class _RecordCount:
    """Input records read so far, over every source."""

    records: int = 0


def _ordered(
    task: ExportTask, streams: Sequence[Iterator[Rows]], fields: Fields
) -> Iterator[tuple[int | None, Rows]]:
    """The chunks to write, each with its stream's index when files are per stream."""
    options = task.options
    split = options.split
    if options.layout == "WIDE":
        assert options.decimation is not None
        aggregated = decimated_fields(options.decimation.aggregations, fields)
        columns = [name for name, _ in aggregated if name != "bucket_start"]
        labels = [label for _, label in options.stream_labels]
        tagged = [_tagged(stream, index) for index, stream in enumerate(streams)]
        for merged in merge_rows(tagged):
            yield None, pivot_wide(merged, labels, columns)
    elif len(streams) == 1:
        for chunk in streams[0]:
            yield None, chunk
    elif split is not None and split.per_datastream:
        # Each stream's rows are already in time order: one stream after the other, with
        # only one file open at a time.
        for index, stream in enumerate(streams):
            if task.stream is not None and index != task.stream:
                continue
            for chunk in stream:
                yield index, chunk
    else:
        for chunk in merge_rows(streams):
            yield None, chunk


def _reporting_empty(
    stream: Iterator[Rows], heartbeat: Callable[[], None]
) -> Generator[Rows, None, None]:
    """A source's chunks with rows; a batch that kept none (all filtered out, a decimation
    still filling its bucket) reports progress instead, so that a long stretch without rows
    still sends heartbeats and meets the time limit, however the sources are merged."""
    for chunk in stream:
        if chunk.num_rows:
            yield chunk
        else:
            heartbeat()


def _tagged(stream: Iterator[Rows], index: int) -> Iterator[Rows]:
    for chunk in stream:
        yield with_source(chunk, index)


def _source_rows(
    task: ExportTask,
    source: ExportSource,
    compiled: Any,
    fields: Fields,
    mask: Mask | None,
    read: _RecordCount,
    ahead: bool = False,
) -> Iterator[Rows]:
    """One source's rows, lazily: scanned, decoded, filtered, decimated (per stream), with
    the stream columns when the export has several sources."""
    options = task.options
    decimator = Decimator(options.decimation, fields) if options.decimation else None
    produced = decimator.fields if decimator is not None else fields
    added = [name for name, _ in stream_fields(produced)] if options.stream_columns else []

    def tagged(chunk: Rows) -> Rows:
        return with_stream_columns(chunk, source.context, added) if added else chunk

    # Segments that store this schema's decoded messages are not decoded again.
    decoded = compiled.decode_key(), compiled.needs_raw()
    batches = scan(source.segments, task.start_ns, task.end_ns, *decoded, threads=not ahead)
    for records in read_ahead(batches) if ahead else batches:
        read.records += records.num_rows  # counted before unfolding: the catalog's unit
        table, times = compiled.apply_with_times(records)
        chunk = Rows(table, times)
        if mask is not None:
            chunk = chunk.take(mask(chunk.table))
        if decimator is not None:
            chunk = decimator.push(chunk)
        yield tagged(chunk)  # even empty: progress (the heartbeat) is reported per batch
    if decimator is not None:
        last = decimator.finish()
        if last.num_rows:
            yield tagged(last)


@dataclass
class _OpenFile:
    writer: ArtifactWriter
    temp: Path  # on local disk, always
    period: tuple[int, int] | None
    stream: int | None = None  # index of the source, when files are per datastream
    rows: int = 0
    first_ns: int | None = None
    last_ns: int | None = None
    byte_size: int = 0
    # With maxBytesPerFile: rows to append before the file is next settled and measured.
    rows_to_measure: int | None = None


class _FileSet:
    """One file, or many when the export is split by period, rows or bytes."""

    def __init__(self, task: ExportTask, fields: Fields) -> None:
        self.task = task
        self.fields = fields
        split = task.options.split
        self.split = split is not None
        self.by = split.by if split else None
        self.max_rows = split.max_rows_per_file if split else None
        self.max_bytes = split.max_bytes_per_file if split else None
        # Column labels rename columns in the files only; rows keep the output names.
        labels = dict(task.options.column_labels)
        self.file_fields = [(labels.get(name, name), logical) for name, logical in fields]
        self.sources = task.all_sources()
        self.current: _OpenFile | None = None
        self.closed: list[_OpenFile] = []
        self.closed_bytes = 0
        self.bytes_per_row: float | None = None  # measured, for maxBytesPerFile
        if task.filesystem is None:
            task.output_dir.mkdir(parents=True, exist_ok=True)
            self.local_dir = task.output_dir
        else:
            self.local_dir = staging_dir("export-")
        if not self.split:
            self.current = self._open(None)

    def write(self, chunk: Rows, stream: int | None = None) -> None:
        if not self.split:
            self._append(chunk)
            return
        if chunk.num_rows == 0:
            return
        for period, part in self._by_period(chunk):
            if self.current is not None and (
                self.current.period != period or self.current.stream != stream
            ):
                self._close()
            while part.num_rows:
                if self.current is None:
                    self.current = self._open(period, stream)
                current = self.current
                room = part.num_rows
                if self.max_rows is not None:
                    room = min(room, self.max_rows - current.rows)
                if self.max_bytes is not None:
                    if current.rows_to_measure is None:
                        current.rows_to_measure = self._rows_that_fit()
                    room = min(room, current.rows_to_measure)
                self._append(part.slice(0, room))
                part = part.slice(room)
                full = self.max_rows is not None and current.rows >= self.max_rows
                if current.rows_to_measure is not None:
                    current.rows_to_measure -= room
                    if current.rows_to_measure == 0:
                        full = self._measure() or full
                if full:
                    self._close()

    def _measure(self) -> bool:
        """Settle the file and learn the bytes per row: whether it is full. Only at the rows
        `rows_to_measure` counted down, never where a batch happened to end: a settle ends a
        gzip member (or a Parquet row group), and when the file is full depends on what was
        measured, so the files are the same for the same rows however the scan batched them
        (segments compacted or not)."""
        assert self.current is not None and self.max_bytes is not None
        self.current.rows_to_measure = None
        self.current.writer.settle()
        self._learn_row_size()
        return self.current.writer.bytes_written() >= self.max_bytes

    def _rows_that_fit(self) -> int:
        assert self.current is not None and self.max_bytes is not None
        if self.bytes_per_row is None:
            return PROBE_ROWS
        left = self.max_bytes - self.current.writer.bytes_written()
        return max(1, min(BYTES_CHECK_ROWS, int(left / self.bytes_per_row)))

    def _learn_row_size(self) -> None:
        assert self.current is not None
        written = self.current.writer.bytes_written()
        if self.current.rows and written:
            self.bytes_per_row = written / self.current.rows

    def _by_period(self, chunk: Rows) -> list[tuple[tuple[int, int] | None, Rows]]:
        if self.by is None:
            return [(None, chunk)]
        stamps = chunk.time.cast(pa.timestamp("ns", "UTC"))
        unit = self.by.lower()
        starts = pc.floor_temporal(stamps, unit=unit, week_starts_monday=True).cast(pa.int64())
        ends = pc.run_end_encode(starts).run_ends.to_pylist()
        parts: list[tuple[tuple[int, int] | None, Rows]] = []
        begin = 0
        for end in ends:
            start_ns = starts[begin].as_py()
            after = pa.scalar(start_ns, pa.timestamp("ns", "UTC"))
            stop = pc.ceil_temporal(
                pa.array([after]), unit=unit, week_starts_monday=True, ceil_is_strictly_greater=True
            )
            parts.append(
                ((start_ns, stop.cast(pa.int64())[0].as_py()), chunk.slice(begin, end - begin))
            )
            begin = end
        return parts

    def _open(self, period: tuple[int, int] | None, stream: int | None = None) -> _OpenFile:
        index = len(self.closed)
        if index >= MAX_FILES:
            raise OutputError(
                f"the split would write more than {MAX_FILES:,} files: raise maxRowsPerFile "
                "or maxBytesPerFile, or split by a longer period"
            )
        suffix = file_suffix(self.task.format, self.task.compression)
        temp = self.local_dir / f".part-{index:05d}.{suffix}.partial"
        options = self.task.options
        writer = open_writer(
            self.task.compression, self.file_fields, temp, options.format_options, options.timezone
        )
        return _OpenFile(writer, temp, period, stream)

    def _append(self, chunk: Rows) -> None:
        assert self.current is not None
        current = self.current
        if chunk.num_rows == 0:
            return
        table = chunk.table.select([n for n, _ in self.fields])
        current.writer.write(table.rename_columns([n for n, _ in self.file_fields]))
        current.rows += chunk.num_rows
        if current.first_ns is None:
            current.first_ns = chunk.time[0].as_py()
        current.last_ns = chunk.time[-1].as_py()

    def _close(self) -> None:
        if self.current is not None:
            self.current.writer.close()
            self.closed_bytes += self.current.temp.stat().st_size
            self.closed.append(self.current)
            self.current = None

    def bytes_written(self) -> int:
        return self.closed_bytes + (self.current.writer.bytes_written() if self.current else 0)

    def publish(self, partial: bool = False) -> list[ArtifactFile]:
        self._close()
        artifacts = []
        used: set[str] = set()
        for file in self.closed:
            name = self._final_name(file, used, partial)
            artifact = _published(
                file.temp,
                self.task.output_dir / name,
                self._type(),
                file,
                partial,
                self.task.filesystem,
            )
            if file.stream is not None:
                artifact = dataclasses.replace(
                    artifact, datastream_id=self.sources[file.stream].context.datastream_id
                )
            artifacts.append(artifact)
        if self.split and self.task.manifest:
            artifacts.append(write_manifest(self.task, artifacts, partial))
        return artifacts

    def keep_partial(self) -> list[ArtifactFile]:
        """After a failure between batches: finish the files written so far and publish them,
        named and listed as partial. Nothing when no row was written or finishing fails."""
        if self.current is not None and self.current.rows == 0:
            self.current.writer.close()
            self.current.temp.unlink(missing_ok=True)
            self.current = None
        if not any(f.rows for f in self.closed) and self.current is None:
            return []
        try:
            return self.publish(partial=True)
        except Exception:
            return []

    def _type(self) -> str:
        return content_type(self.task.format, self.task.compression)

    def _final_name(self, file: _OpenFile, used: set[str], partial: bool = False) -> str:
        """`<stem>.<ext>` for one file; `<datastream>_<from>_<to>.<ext>` for split files: the
        period (clipped to the export's range), or the rows' own times when split by size.
        Split files of several streams merged are `streams_<from>_<to>.<ext>`. Partial files
        have `.partial` before the extension."""
        suffix = file_suffix(self.task.format, self.task.compression)
        if partial:
            suffix = f"partial.{suffix}"
        if not self.split:
            return f"{self.task.filename_stem}.{suffix}"
        assert file.first_ns is not None and file.last_ns is not None  # split files have rows
        sized = self.max_rows is not None or self.max_bytes is not None
        low, high = (file.first_ns, file.last_ns + 1) if sized or not file.period else file.period
        low, high = max(low, self.task.start_ns), min(high, self.task.end_ns)
        if file.stream is not None:
            owner = str(self.sources[file.stream].context.datastream_id)
        else:
            owner = (
                "streams" if len(self.sources) > 1 else str(self.sources[0].context.datastream_id)
            )
        stem = f"{owner}_{_stamp(low)}_{_stamp(high)}"
        name, counter = f"{stem}.{suffix}", 2
        while name in used:
            name, counter = f"{stem}_{counter}.{suffix}", counter + 1
        used.add(name)
        return name

    def discard(self) -> None:
        for file in [*self.closed, *([self.current] if self.current else [])]:
            with contextlib.suppress(Exception):
                file.writer.close()
            file.temp.unlink(missing_ok=True)
        for leftover in self.local_dir.glob(".*.partial"):
            leftover.unlink(missing_ok=True)

    def remove_staging(self) -> None:
        if self.local_dir != self.task.output_dir:
            shutil.rmtree(self.local_dir, ignore_errors=True)


def write_manifest(
    task: ExportTask, artifacts: Sequence[ArtifactFile], partial: bool = False
) -> ArtifactFile:
    """Publish the manifest of a split export's `artifacts` (in the order they were written)
    in the task's output directory."""
    ids = [source.context.datastream_id for source in task.all_sources()]
    body: dict[str, Any] = {"datastreamId": ids[0]}
    if len(ids) > 1:
        body["datastreamIds"] = ids
    body |= {
        "format": task.format,
        "compression": task.compression,
        "startTime": task.start_ns,
        "endTime": task.end_ns,
        "rowCount": sum(a.row_count for a in artifacts),
        "files": [
            {
                **({"datastreamId": a.datastream_id} if a.datastream_id is not None else {}),
                "filename": a.filename,
                "fromTime": a.from_ns,
                "toTime": a.to_ns,
                "rowCount": a.row_count,
                "byteSize": a.byte_size,
                "sha256": a.sha256,
            }
            for a in artifacts
        ],
    }
    if partial:
        body["partial"] = True
    name = f"{task.filename_stem}.{'partial.' if partial else ''}manifest.json"
    local_dir = task.output_dir if task.filesystem is None else staging_dir("manifest-")
    try:
        local_dir.mkdir(parents=True, exist_ok=True)
        temp = local_dir / f".{name}.partial"
        temp.write_text(json.dumps(body, indent=2) + "\n")
        final = task.output_dir / name
        return _published(temp, final, MANIFEST_TYPE, None, partial, task.filesystem)
    finally:
        if local_dir != task.output_dir:
            shutil.rmtree(local_dir, ignore_errors=True)


def partial_filename(task: ExportTask, filename: str) -> str:
    """The name a finished file gets when it is kept from a failed export."""
    suffix = file_suffix(task.format, task.compression)
    if filename.endswith(f".{suffix}") and not filename.endswith(f".partial.{suffix}"):
        return f"{filename[: -len(suffix)]}partial.{suffix}"
    return filename


def period_bounds(start_ns: int, end_ns: int, by: str) -> list[int]:
    """The boundaries of the periods (`HOUR`, `DAY`, `WEEK`, `MONTH`, UTC, weeks from Monday)
    that [start_ns, end_ns) touches, clipped to it: the same periods a split by `by` puts in
    separate files. `start_ns` first, `end_ns` last."""
    unit = by.lower()
    bounds = [start_ns]
    while bounds[-1] < end_ns:
        at = pa.array([bounds[-1]], pa.timestamp("ns", "UTC"))
        nxt = pc.ceil_temporal(
            at, unit=unit, week_starts_monday=True, ceil_is_strictly_greater=True
        )
        bounds.append(min(nxt.cast(pa.int64())[0].as_py(), end_ns))
    return bounds


def _published(
    temp: Path,
    final: Path,
    kind: str,
    file: _OpenFile | None,
    partial: bool = False,
    filesystem: pafs.FileSystem | None = None,
) -> ArtifactFile:
    digest = file.writer.sha256() if file is not None else sha256_of(temp)
    size = publish_file(temp, final, filesystem)
    return ArtifactFile(
        final,
        final.name,
        kind,
        size,
        file.rows if file is not None else 0,
        digest,
        file.first_ns if file is not None else None,
        (file.last_ns + 1) if file is not None and file.last_ns is not None else None,
        partial,
    )


def _stamp(ns: int) -> str:
    """Compact UTC time for file names: 20240115T080000Z, with nanoseconds only if needed."""
    seconds, nanos = divmod(ns, 10**9)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y%m%dT%H%M%S")
    return f"{text}{'.' + f'{nanos:09d}'.rstrip('0') if nanos else ''}Z"
