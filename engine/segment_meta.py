"""Self-describing segments: every segment file carries, in its Parquet key-value metadata,
what the catalog needs to register it again (`python -m app fsck --rebuild-catalog`) when
the database is lost: its identity, its datastream with the instrument and exchange behind
it, its time range and row count, and, for a compacted segment, the files it replaced.

The description is JSON under one key (`DESCRIPTION_KEY`), validated by a pydantic model on
reading; `format` numbers its shape, so a later shape can still read this one. Reading it
reads only the file's footer. A segment written before descriptions existed has none: it
still scans and exports as always.

The identity is the segment id (also the file's name and the catalog row's id): it does not
depend on the file's bytes, so the same segment is recognized however it was copied.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.shred import stored_key

DESCRIPTION_KEY = b"segment.description"
FORMAT_VERSION = 1


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class ExchangeIdentity(_Frozen):
    code: str
    display_name: str


class InstrumentIdentity(_Frozen):
    id: int | None  # the catalog's id when the segment was written (kept by a rebuild)
    symbol: str
    base: str
    quote: str
    type: str
    archived: bool = False


class StreamIdentity(_Frozen):
    """A datastream as the catalog described it when the segment was written."""

    id: int = Field(ge=1)
    stream_type: str
    wire_format: str
    source: str | None = None
    created_at: int
    exchange: ExchangeIdentity
    instrument: InstrumentIdentity


class SegmentLabel(_Frozen):
    """What the writer knows before writing: who the segment is and what it replaces."""

    segment_id: str = Field(min_length=1, max_length=40)
    created_at: int  # also the catalog row's created_at
    stream: StreamIdentity
    level: int = Field(default=0, ge=0)  # 0: written from records; n + 1: merged from level n
    replaces: tuple[str, ...] = ()  # file names (same folder) a compaction merged into this


class SegmentDescription(_Frozen):
    """A label and what writing established: the time range and the row count."""

    format: int
    label: SegmentLabel
    first_ts: int  # the first and last collection_timestamp_ns
    last_ts: int
    row_count: int = Field(ge=0)


class DescriptionError(ValueError):
    """The file's description cannot be read (corrupt, or a format this version does not know)."""


def described(
    label: SegmentLabel, first_ts: int, last_ts: int, row_count: int
) -> dict[bytes, bytes]:
    """The metadata entry to store beside the others in the segment's file."""
    description = SegmentDescription(
        format=FORMAT_VERSION,
        label=label,
        first_ts=first_ts,
        last_ts=last_ts,
        row_count=row_count,
    )
    return {DESCRIPTION_KEY: description.model_dump_json().encode()}


def with_description(
    table: pa.Table, label: SegmentLabel | None, first_ts: int, last_ts: int
) -> pa.Table:
    """`table` with the description added to its schema metadata (kept: the decoded column's)."""
    if label is None:
        return table
    entry = described(label, first_ts, last_ts, table.num_rows)
    return table.replace_schema_metadata({**(table.schema.metadata or {}), **entry})


def description_of(metadata: dict[bytes, bytes] | None) -> SegmentDescription | None:
    """The description in a file's key-value metadata; None without one."""
    found = (metadata or {}).get(DESCRIPTION_KEY)
    if found is None:
        return None
    try:
        version = json.loads(found).get("format")
    except (ValueError, AttributeError):
        raise DescriptionError("its description is not a JSON object") from None
    if version != FORMAT_VERSION:  # a later shape: refused, never misread
        raise DescriptionError(f"its description has format {version!r}, not known here")
    try:
        return SegmentDescription.model_validate_json(found)
    except ValidationError as error:
        problem = error.errors()[0]["msg"]
        raise DescriptionError(f"its description is not readable: {problem}") from None


class SegmentFooter(_Frozen):
    """What a segment file says of itself, from its footer only."""

    description: SegmentDescription | None
    row_count: int
    decoded_key: str | None  # the key of the stored decoded column (`engine.shred`), if any
    first_ts: int | None  # from the row groups' statistics (None when empty or absent)
    last_ts: int | None


def read_footer(path: Path | str, filesystem: pafs.FileSystem | None = None) -> SegmentFooter:
    """Raises OSError or pyarrow's errors for a file that is not a readable Parquet file,
    `DescriptionError` for one whose description is corrupt. `path` is in `filesystem`
    (local disk when None)."""
    metadata = pq.read_metadata(str(path), filesystem=filesystem)
    schema = metadata.schema.to_arrow_schema()
    index = schema.get_field_index("collection_timestamp_ns")
    firsts: list[int] = []
    lasts: list[int] = []
    for group in range(metadata.num_row_groups):
        stats = metadata.row_group(group).column(index).statistics if index >= 0 else None
        if stats is None or not stats.has_min_max:  # a range from some groups would lie
            firsts, lasts = [], []
            break
        firsts.append(stats.min)
        lasts.append(stats.max)
    return SegmentFooter(
        description=description_of(metadata.metadata),
        row_count=metadata.num_rows,
        decoded_key=stored_key(schema),
        first_ts=min(firsts) if firsts else None,
        last_ts=max(lasts) if lasts else None,
    )
