"""Ingest: records -> sorted, immutable Parquet segments -> one catalog transaction.

Files are written under temporary names and renamed; they become visible only when the
transaction that registers them commits. A failed ingest removes what it wrote; an empty one
creates nothing (not even the datastream). A file is remembered by its content hash, so
ingesting it again is a no-op that says so, unless forced.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import IngestedFileRow
from app.domain.catalog import DatastreamSpec, datastream_spec, ensure_datastream
from app.domain.runtime import Runtime
from app.domain.segment_files import new_segment, segment_row
from app.domain.wire_formats import sample_warning, shredder
from app.ids import new_id
from app.storage import storage_for
from engine.files import sha256_of
from engine.record_files import OnProgress, read_records
from engine.segments import SegmentFile, write_segment
from engine.strict import INT64_MAX
from engine.timestamps import format_timestamp, now_ns


@dataclass(frozen=True)
class IngestResult:
    datastream_id: int
    segments: int
    rows: int
    min_ts: int | None
    max_ts: int | None
    already: str | None = None  # why nothing was stored, when the file was stored before
    warning: str | None = None  # the records do not look like the datastream's wire format


def check_datastream_id(datastream_id: int) -> int:
    """Datastream ids are positive int64s (the API's ids and cursors rely on it)."""
    if not 1 <= datastream_id <= INT64_MAX:
        raise ValueError(f"datastream id {datastream_id} is not a positive 64-bit integer")
    return datastream_id


def ingest_tables(
    runtime: Runtime,
    datastream_id: int,
    tables: Iterable[pa.Table],
    spec: DatastreamSpec | None = None,
    source: tuple[str, str] | None = None,
    before_commit: Callable[[Session], None] | None = None,
) -> IngestResult:
    """`source`: (file name, sha256) to remember, in the same transaction as the segments;
    `before_commit` may refuse the commit by raising (a collector that lost its lease)."""
    check_datastream_id(datastream_id)
    settings = runtime.settings
    storage = storage_for(settings)
    written: list[str] = []
    infos: list[SegmentFile] = []
    non_empty = (table for table in tables if table.num_rows)
    first = next(non_empty, None)
    if first is None:  # nothing to store: nothing is created
        return IngestResult(datastream_id, 0, 0, None, None)
    try:
        with runtime.sync_sessions() as session:
            if spec is not None:
                ensure_datastream(session, spec)
            # Known wire formats are decoded once, here, and stored beside the messages.
            shred = shredder(spec or datastream_spec(session, datastream_id))
            for table in itertools.chain([first], non_empty):
                key, label = new_segment(session, datastream_id)
                segment = write_segment(
                    table, storage.path(key), shred, label, filesystem=storage.filesystem
                )
                written.append(key)
                infos.append(segment)
                # Visible when the caller commits: an ingest is seen all at once or not.
                session.add(segment_row(label, segment, key))
            rows = sum(s.row_count for s in infos)
            if source is not None:
                _remember(session, datastream_id, source, rows)
            if before_commit is not None:
                before_commit(session)
            session.commit()
    except BaseException:
        for key in written:
            storage.delete(key)
        raise
    return IngestResult(
        datastream_id,
        len(infos),
        rows,
        min((s.min_ts for s in infos), default=None),
        max((s.max_ts for s in infos), default=None),
    )


def ingest_file(
    runtime: Runtime,
    datastream_id: int,
    path: Path,
    spec: DatastreamSpec | None = None,
    force: bool = False,
    on_progress: OnProgress | None = None,
) -> IngestResult:
    """A file whose exact bytes were already ingested into this datastream is not stored
    again (its records are there) unless `force`. `on_progress` hears (bytes of the file
    read, records read) as the file is read."""
    check_datastream_id(datastream_id)
    digest = sha256_of(path)
    if not force:
        already = stored_before(runtime, datastream_id, digest, path.name)
        if already is not None:
            return IngestResult(
                datastream_id, 0, 0, None, None, already=already + " (--force stores it again)"
            )
    tables = read_records(path, on_progress=on_progress)
    first = next(tables, None)
    if first is None:
        return IngestResult(datastream_id, 0, 0, None, None)
    known = spec or _spec_of(runtime, datastream_id)
    warning = sample_warning(known, first) if known is not None else None
    result = ingest_tables(
        runtime, datastream_id, itertools.chain([first], tables), spec, (path.name, digest)
    )
    return dataclasses.replace(result, warning=warning)


def _spec_of(runtime: Runtime, datastream_id: int) -> DatastreamSpec | None:
    with runtime.sync_sessions() as session:
        return datastream_spec(session, datastream_id)


def stored_before(runtime: Runtime, datastream_id: int, digest: str, name: str) -> str | None:
    """Why a file with these exact bytes needs no storing again, if it was stored before."""
    with runtime.sync_sessions() as session:
        before = session.scalars(
            select(IngestedFileRow).where(
                IngestedFileRow.datastream_id == datastream_id, IngestedFileRow.sha256 == digest
            )
        ).first()
    if before is None:
        return None
    when = format_timestamp(before.created_at)
    return (
        f"{name} holds the same bytes as {before.filename}, stored on {when} "
        f"({before.rows:,} records); nothing stored"
    )


def _remember(session: Session, datastream_id: int, source: tuple[str, str], rows: int) -> None:
    filename, digest = source
    session.add(
        IngestedFileRow(
            id=new_id("ingested_file"),
            datastream_id=datastream_id,
            sha256=digest,
            filename=filename[:500],
            rows=rows,
            created_at=now_ns(),
        )
    )
