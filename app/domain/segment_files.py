"""Every segment the gateway writes (ingest, imports, collector flushes, compaction) gets its
path, its id and its self-description here, and its catalog row from the same label, so a
file always says what its row says: the segment id is the file's name and the row's id, the
label's time is the row's `created_at` (see `engine.segment_meta`, and `rebuild`, which
reads the files back into a catalog)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.db.models import DatastreamRow, ExchangeRow, InstrumentRow, SegmentRow
from app.ids import new_id
from app.storage import segment_key
from engine.segment_meta import (
    ExchangeIdentity,
    InstrumentIdentity,
    SegmentLabel,
    StreamIdentity,
)
from engine.segments import SegmentFile
from engine.timestamps import now_ns


class UnknownDatastream(LookupError):
    def __init__(self, datastream_id: int) -> None:
        super().__init__(f"datastream {datastream_id} is not in the catalog")


def stream_identity(session: Session, datastream_id: int) -> StreamIdentity:
    """The datastream, its instrument and exchange as the catalog has them now."""
    datastream = session.get(DatastreamRow, datastream_id)
    if datastream is None:
        raise UnknownDatastream(datastream_id)
    instrument = session.get(InstrumentRow, datastream.instrument_id)
    exchange = session.get(ExchangeRow, datastream.exchange_code)
    assert instrument is not None  # foreign keys
    return StreamIdentity(
        id=datastream.id,
        stream_type=datastream.stream_type,
        wire_format=datastream.wire_format,
        source=datastream.source,
        created_at=datastream.created_at,
        exchange=ExchangeIdentity(
            code=datastream.exchange_code,
            display_name=exchange.display_name if exchange else datastream.exchange_code,
        ),
        instrument=InstrumentIdentity(
            id=instrument.id,
            symbol=instrument.symbol,
            base=instrument.base,
            quote=instrument.quote,
            type=instrument.type,
            archived=bool(instrument.archived),
        ),
    )


def new_segment(
    session: Session,
    datastream_id: int,
    level: int = 0,
    replaces: Sequence[str] = (),
) -> tuple[str, SegmentLabel]:
    """The storage key of the next segment of a datastream, and the label it is written
    with; `replaces` (compaction) names the merged files."""
    segment_id = new_id("segment")
    label = SegmentLabel(
        segment_id=segment_id,
        created_at=now_ns(),
        stream=stream_identity(session, datastream_id),
        level=level,
        replaces=tuple(replaces),
    )
    return segment_key(datastream_id, f"{segment_id}.parquet"), label


def segment_row(label: SegmentLabel, segment: SegmentFile, key: str) -> SegmentRow:
    """The catalog row of a segment just written with `label` under the storage `key`."""
    return SegmentRow(
        id=label.segment_id,
        datastream_id=label.stream.id,
        path=key,
        min_ts=segment.min_ts,
        max_ts=segment.max_ts,
        row_count=segment.row_count,
        byte_size=segment.byte_size,
        created_at=label.created_at,
    )
