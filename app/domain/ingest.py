"""Ingest: records -> sorted, immutable Parquet segments -> one catalog transaction.

Files are written under temporary names and renamed; they become visible only when the
transaction that registers them commits. A failed ingest removes what it wrote.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from app.domain.catalog import DatastreamSpec, SegmentInfo, ensure_datastream, register_segments
from app.domain.runtime import Runtime
from app.ids import new_id
from app.storage import segment_dir
from engine.record_files import read_records
from engine.segments import write_segment


@dataclass(frozen=True)
class IngestResult:
    datastream_id: int
    segments: int
    rows: int
    min_ts: int | None
    max_ts: int | None


def ingest_tables(
    runtime: Runtime,
    datastream_id: int,
    tables: Iterable[pa.Table],
    spec: DatastreamSpec | None = None,
) -> IngestResult:
    settings = runtime.settings
    written: list[Path] = []
    infos: list[SegmentInfo] = []
    try:
        with runtime.sync_sessions() as session:
            if spec is not None:
                ensure_datastream(session, spec)
            for table in tables:
                if table.num_rows == 0:
                    continue
                path = segment_dir(settings, datastream_id) / f"{new_id('segment')}.parquet"
                segment = write_segment(table, path)
                written.append(path)
                infos.append(
                    SegmentInfo(
                        str(path.relative_to(settings.storage_dir)),
                        segment.min_ts,
                        segment.max_ts,
                        segment.row_count,
                        segment.byte_size,
                    )
                )
            register_segments(session, datastream_id, infos)
            session.commit()
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return IngestResult(
        datastream_id,
        len(infos),
        sum(s.row_count for s in infos),
        min((s.min_ts for s in infos), default=None),
        max((s.max_ts for s in infos), default=None),
    )


def ingest_file(
    runtime: Runtime, datastream_id: int, path: Path, spec: DatastreamSpec | None = None
) -> IngestResult:
    return ingest_tables(runtime, datastream_id, read_records(path), spec)
