"""Run one export: scan -> apply schema -> write, streaming, then publish the file atomically."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workers.engine.compiler import SourceContext, compile_schema
from workers.engine.segments import SegmentFile, scan
from workers.engine.writers import content_type, file_suffix, open_writer


@dataclass(frozen=True)
class ExportRequest:
    schema_spec: dict[str, Any]
    context: SourceContext
    segments: Sequence[SegmentFile]
    start_ns: int
    end_ns: int
    format: str
    compression: str
    output_dir: Path
    filename_stem: str


@dataclass(frozen=True)
class ArtifactFile:
    path: Path
    filename: str
    content_type: str
    byte_size: int
    row_count: int
    sha256: str


# Called after every batch with (rows written, bytes written); raising stops the export.
ProgressCallback = Callable[[int, int], None]


def run_export(request: ExportRequest, on_progress: ProgressCallback) -> list[ArtifactFile]:
    compiled = compile_schema(request.schema_spec, request.context)
    filename = f"{request.filename_stem}.{file_suffix(request.format, request.compression)}"
    request.output_dir.mkdir(parents=True, exist_ok=True)
    final = request.output_dir / filename
    temp = request.output_dir / f".{filename}.partial"
    writer = open_writer(request.format, request.compression, compiled.fields, temp)
    rows = 0
    try:
        for records in scan(request.segments, request.start_ns, request.end_ns):
            table = compiled.apply(records)
            writer.write(table)
            rows += table.num_rows
            on_progress(rows, writer.bytes_written())
        writer.close()
        _fsync(temp)
        digest = _sha256(temp)
        temp.replace(final)
    except BaseException:
        with contextlib.suppress(Exception):
            writer.close()
        temp.unlink(missing_ok=True)
        raise
    size = final.stat().st_size
    on_progress(rows, size)
    return [
        ArtifactFile(
            final, filename, content_type(request.format, request.compression), size, rows, digest
        )
    ]


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
