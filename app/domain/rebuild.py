"""`python -m app fsck --rebuild-catalog`: the segment catalog again, from the files.

Every segment file describes itself (`engine.segment_meta`): its id, its datastream with the
instrument and exchange, its time range and row count, and for a compacted one the files it
replaced. A lost database is rebuilt from them: the exchanges, instruments and datastreams
(as the newest file of each datastream describes them; instruments keep their ids), and one
segment row per file, with the size on disk, the range, the row count and, for a file some
other registered file replaced, the time it was retired (compaction's purge then removes it
as it would have). Export artifacts and jobs are not recovered: a job is not in its files.

Files written before descriptions existed are registered too when their folder names a
datastream (`segments/<datastream id>/`) that another file or the catalog describes; their
range and row count come from the file. Whatever cannot be registered is reported and makes
the run fail; the rest is registered in one transaction, so a failed database write leaves
the catalog as it was.

Into an empty catalog by default; with `merge`, into any catalog, registering only the files
it does not know (by path), and reporting conflicts (a datastream the catalog describes
otherwise, a segment id catalogued under another path, a compaction whose inputs are still
live: its swap never committed) instead of registering them. In both, of two compacted files
replacing the same files (a race whose loser died before deleting its file) only the first
written is registered. A second run changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.db.models import DatastreamRow, ExchangeRow, InstrumentRow, SegmentRow
from app.domain.fsck import is_temporary
from app.domain.runtime import Runtime
from app.domain.segment_files import UnknownDatastream, stream_identity
from app.ids import new_id
from app.storage import Storage, storage_for
from engine.segment_meta import DescriptionError, SegmentFooter, StreamIdentity, read_footer

_SEGMENT_ID = re.compile(r"seg_[0-9a-f]{32}")


class CatalogNotEmpty(Exception):
    def __init__(self, segments: int, datastreams: int) -> None:
        super().__init__(
            f"the catalog is not empty ({segments:,} segments, {datastreams:,} datastreams): "
            "--merge registers only the files it does not know"
        )


@dataclass
class StreamTotals:
    """What was registered of one datastream; rows and bytes of its live segments."""

    name: str = ""  # exchange, symbol, stream type
    segments: int = 0
    retired: int = 0  # registered as replaced by a compacted segment
    rows: int = 0
    bytes: int = 0


@dataclass
class RebuildReport:
    datastreams: int = 0  # created
    per_datastream: dict[int, StreamTotals] = field(default_factory=dict)
    not_self_describing: int = 0  # registered from the folder they are in
    already_known: int = 0  # with merge: files the catalog had
    unregistered: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    conflicts: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unregistered and not self.conflicts

    @property
    def totals(self) -> StreamTotals:
        every = self.per_datastream.values()
        return StreamTotals(
            "",
            sum(t.segments for t in every),
            sum(t.retired for t in every),
            sum(t.rows for t in every),
            sum(t.bytes for t in every),
        )


@dataclass(frozen=True)
class _File:
    path: str  # relative to the storage directory
    name: str
    folder_id: int | None  # the datastream the folder names
    footer: SegmentFooter
    byte_size: int
    mtime_ns: int

    @property
    def datastream_id(self) -> int | None:
        description = self.footer.description
        return description.label.stream.id if description else self.folder_id


def rebuild_catalog(runtime: Runtime, merge: bool = False) -> RebuildReport:
    """Blocking: reads every segment file's footer, then registers in one transaction.
    Raises `CatalogNotEmpty` without `merge` when the catalog has entries."""
    storage = storage_for(runtime.settings)
    report = RebuildReport()
    files = _read_files(storage, report)
    with runtime.sync_sessions() as session:
        segments = session.scalar(select(func.count()).select_from(SegmentRow)) or 0
        streams = session.scalar(select(func.count()).select_from(DatastreamRow)) or 0
        exchanges = session.scalar(select(func.count()).select_from(ExchangeRow)) or 0
        if not merge and (segments or streams or exchanges):
            raise CatalogNotEmpty(segments, streams)
        _Registration(session, storage, report).run(files)
        session.commit()
    return report


def _read_files(storage: Storage, report: RebuildReport) -> list[_File]:
    """Every segment file's footer, from the storage directory or the bucket."""
    found = []
    for stored in storage.files("segments"):
        relative = stored.key
        if is_temporary(relative):
            continue
        try:
            footer = read_footer(storage.path(relative), storage.filesystem)
        except (OSError, pa.ArrowException, DescriptionError) as error:
            report.unregistered.append((relative, f"not a readable segment: {error}"))
            continue
        path = Path(relative)
        name = path.parent.name
        folder_id = int(name) if name.isascii() and name.isdigit() and int(name) > 0 else None
        mtime_ns = int(stored.mtime * 1e9)
        found.append(_File(relative, path.name, folder_id, footer, stored.size, mtime_ns))
    return found


class _Registration:
    """One run's work inside its transaction."""

    def __init__(self, session: Session, storage: Storage, report: RebuildReport) -> None:
        self.session, self.storage, self.report = session, storage, report
        self.known_paths = set(session.scalars(select(SegmentRow.path)))
        self.known_ids = set(session.scalars(select(SegmentRow.id)))
        self.live_paths = set(
            session.scalars(select(SegmentRow.path).where(SegmentRow.retired_at.is_(None)))
        )
        self.streams: dict[int, StreamIdentity | None] = {}

    def run(self, files: list[_File]) -> None:
        newest = _newest_descriptions(files)
        known = [f for f in files if f.path in self.known_paths]
        registrable = self._without_rivals([f for f in files if self._registrable(f, newest)])
        retired_at = self._retirements([*known, *registrable])
        for file in registrable:
            self._register(file, retired_at.get((file.datastream_id, file.name)))
        self._advance_instrument_ids()

    def _registrable(self, file: _File, newest: dict[int, StreamIdentity]) -> bool:
        """Whether the file can be registered, creating its datastream if needed; the
        reason it cannot goes in the report."""
        if file.path in self.known_paths:
            self.report.already_known += 1
            return False
        datastream_id = file.datastream_id
        if datastream_id is None:
            self._unregistered(file, "not self-describing, and its folder names no datastream")
            return False
        description = file.footer.description
        segment_id = description.label.segment_id if description else None
        if segment_id is not None and segment_id in self.known_ids:
            self._conflict(file, f"segment {segment_id} is catalogued with another path")
            return False
        catalogued = self._stream(datastream_id, newest.get(datastream_id))
        if catalogued is None:
            self._unregistered(
                file,
                f"not self-describing, and no file or catalog entry describes datastream "
                f"{datastream_id}",
            )
            return False
        if description and (differs := _differences(catalogued, description.label.stream)):
            self._conflict(file, f"datastream {datastream_id} is catalogued with another {differs}")
            return False
        if description is None and self._range(file) is None:
            self._unregistered(file, "not self-describing, and it holds no records")
            return False
        live_inputs = [
            name
            for name in (description.label.replaces if description else ())
            if str(Path(file.path).parent / name) in self.live_paths
        ]
        if live_inputs:
            self._conflict(
                file,
                f"a compaction of {', '.join(live_inputs)}, which are still live: its swap "
                "never committed (the sweeper removes the file as an orphan)",
            )
            return False
        if segment_id is not None:
            self.known_ids.add(segment_id)  # a copy of the file elsewhere is a conflict
        return True

    def _without_rivals(self, files: list[_File]) -> list[_File]:
        """Of compacted files that replace some of the same files (two compactions raced and
        the loser died before deleting its file), the first written; the others would
        double the records they share, and are reported."""
        replaced_by: dict[tuple[int | None, str], str] = {}
        kept = []
        for file in sorted(files, key=_written_at):
            description = file.footer.description
            replaces = (
                [(file.datastream_id, n) for n in description.label.replaces] if description else []
            )
            rival = next((replaced_by[r] for r in replaces if r in replaced_by), None)
            if rival is not None:
                self._conflict(
                    file, f"it replaces files {rival} replaces too: a compaction that lost a race"
                )
                continue
            replaced_by.update(dict.fromkeys(replaces, file.path))
            kept.append(file)
        return kept

    def _stream(self, datastream_id: int, newest: StreamIdentity | None) -> StreamIdentity | None:
        """The datastream as the catalog has it, created (with its instrument and exchange)
        from its newest description if it had not; None if nothing describes it."""
        if datastream_id not in self.streams:
            try:
                self.streams[datastream_id] = stream_identity(self.session, datastream_id)
            except UnknownDatastream:
                if newest is not None:
                    self._create_stream(newest)
                self.streams[datastream_id] = newest
        return self.streams[datastream_id]

    def _create_stream(self, stream: StreamIdentity) -> None:
        session = self.session
        if session.get(ExchangeRow, stream.exchange.code) is None:
            session.add(
                ExchangeRow(code=stream.exchange.code, display_name=stream.exchange.display_name)
            )
        wanted = stream.instrument
        instrument = session.scalars(
            select(InstrumentRow).where(
                InstrumentRow.exchange_code == stream.exchange.code,
                InstrumentRow.symbol == wanted.symbol,
                InstrumentRow.type == wanted.type,
            )
        ).first()
        if instrument is None:
            free = wanted.id is not None and session.get(InstrumentRow, wanted.id) is None
            if not free:  # numbered by the sequence, which must be past the ids given
                self._advance_instrument_ids()
            instrument = InstrumentRow(
                id=wanted.id if free else None,  # the id clients know, when free
                exchange_code=stream.exchange.code,
                symbol=wanted.symbol,
                base=wanted.base,
                quote=wanted.quote,
                type=wanted.type,
                archived=wanted.archived,
            )
            session.add(instrument)
            session.flush()
        session.add(
            DatastreamRow(
                id=stream.id,
                exchange_code=stream.exchange.code,
                instrument_id=instrument.id,
                stream_type=stream.stream_type,
                wire_format=stream.wire_format,
                source=stream.source,
                created_at=stream.created_at,
            )
        )
        session.flush()
        self.report.datastreams += 1

    def _retirements(self, files: list[_File]) -> dict[tuple[int | None, str], int]:
        """(datastream, file name) -> when it was retired: the time of the compacted file
        that replaced it, among those registered or already catalogued."""
        retired: dict[tuple[int | None, str], int] = {}
        for file in files:
            if file.footer.description is not None:
                label = file.footer.description.label
                for name in label.replaces:
                    key = (file.datastream_id, name)
                    retired[key] = min(retired.get(key, label.created_at), label.created_at)
        return retired

    def _register(self, file: _File, retired_at: int | None) -> None:
        description = file.footer.description
        if description is not None:
            label = description.label
            segment_id, created_at = label.segment_id, label.created_at
            first, last, rows = description.first_ts, description.last_ts, description.row_count
        else:
            stem = Path(file.name).stem
            segment_id = stem if _SEGMENT_ID.fullmatch(stem) else new_id("segment")
            created_at = file.mtime_ns
            found = self._range(file)
            assert found is not None  # checked by _registrable
            first, last = found
            rows = file.footer.row_count
            self.report.not_self_describing += 1
        assert file.datastream_id is not None
        self.session.add(
            SegmentRow(
                id=segment_id,
                datastream_id=file.datastream_id,
                path=file.path,
                min_ts=first,
                max_ts=last,
                row_count=rows,
                byte_size=file.byte_size,
                created_at=created_at,
                retired_at=retired_at,
            )
        )
        self.known_ids.add(segment_id)
        totals = self.report.per_datastream.get(file.datastream_id)
        if totals is None:
            stream = self.streams[file.datastream_id]
            assert stream is not None  # checked by _registrable
            name = f"{stream.exchange.code} {stream.instrument.symbol} {stream.stream_type}"
            totals = self.report.per_datastream[file.datastream_id] = StreamTotals(name)
        totals.segments += 1
        if retired_at is not None:
            totals.retired += 1
        else:
            totals.rows += rows
            totals.bytes += file.byte_size

    def _range(self, file: _File) -> tuple[int, int] | None:
        """First and last collection time of a file without a description: its statistics,
        else its timestamps read."""
        footer = file.footer
        if footer.first_ts is not None and footer.last_ts is not None:
            return footer.first_ts, footer.last_ts
        if footer.row_count == 0:
            return None
        times = pq.read_table(
            str(self.storage.path(file.path)),
            columns=["collection_timestamp_ns"],
            filesystem=self.storage.filesystem,
        )
        bounds = pc.min_max(times.column(0))
        return bounds["min"].as_py(), bounds["max"].as_py()

    def _advance_instrument_ids(self) -> None:
        """Ids given explicitly leave PostgreSQL's sequence behind: move it past them."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('instruments', 'id'), "
                    "GREATEST((SELECT MAX(id) FROM instruments), 1))"
                )
            )

    def _unregistered(self, file: _File, why: str) -> None:
        self.report.unregistered.append((file.path, why))

    def _conflict(self, file: _File, why: str) -> None:
        self.report.conflicts.append((file.path, why))


def _written_at(file: _File) -> tuple[int, str]:
    description = file.footer.description
    return (description.label.created_at if description else file.mtime_ns), file.path


def _newest_descriptions(files: list[_File]) -> dict[int, StreamIdentity]:
    """Per datastream, the description of the most recently written file: what changed in
    the catalog since (a source, an archived instrument) shows in the later files."""
    newest: dict[int, tuple[int, StreamIdentity]] = {}
    for file in files:
        if (description := file.footer.description) is not None:
            label = description.label
            if label.stream.id not in newest or newest[label.stream.id][0] < label.created_at:
                newest[label.stream.id] = (label.created_at, label.stream)
    return {datastream_id: stream for datastream_id, (_, stream) in newest.items()}


def _differences(catalogued: StreamIdentity, described: StreamIdentity) -> str | None:
    """The fields that say *which* stream it is (not those an admin may change later)."""
    pairs = {
        "exchange": (catalogued.exchange.code, described.exchange.code),
        "symbol": (catalogued.instrument.symbol, described.instrument.symbol),
        "instrument type": (catalogued.instrument.type, described.instrument.type),
        "stream type": (catalogued.stream_type, described.stream_type),
        "wire format": (catalogued.wire_format, described.wire_format),
    }
    differing = [name for name, (a, b) in pairs.items() if a != b]
    return ", ".join(differing) if differing else None
