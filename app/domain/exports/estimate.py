"""Estimate an export's rows and bytes before running it: the segment catalog gives the
record count; a sample of the first records through the real schema, filter and writer gives
rows per record and bytes per row."""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.domain.auth import Principal
from app.domain.catalog import estimate_rows, segment_files, segments_in_range_async
from app.domain.errors import ErrorCode, user_error
from app.domain.exports.requests import ExportRequest, ValidatedExport, validate_export
from engine.export import ExportTask, run_export
from engine.export_schema import DecodeError, SchemaError
from engine.segments import SegmentFile
from engine.streams import ExportSource
from engine.writers import OutputError

SAMPLE_RECORDS = 2_000


@dataclass(frozen=True)
class Estimate:
    rows: int
    bytes: int
    records: int  # records in range, from the segment catalog
    sampled_records: int


async def estimate_export(
    session: AsyncSession, settings: Settings, who: Principal, request: ExportRequest
) -> Estimate:
    checked = await validate_export(session, settings, who, request)
    per_stream = []
    records, span = 0, 0
    for stream in checked.datastreams:
        segments = await segments_in_range_async(
            session, stream.id, checked.start_ns, checked.end_ns
        )
        records += estimate_rows(segments, checked.start_ns, checked.end_ns)
        per_stream.append(segment_files(settings, segments))
        first = min((s.min_ts for s in segments), default=checked.start_ns)
        last = max((s.max_ts for s in segments), default=checked.start_ns)
        span = max(span, min(checked.end_ns, last + 1) - max(checked.start_ns, first))
    try:
        return await anyio.to_thread.run_sync(_estimate, checked, per_stream, records, span)
    except (SchemaError, DecodeError, OutputError) as exc:
        # The sample is a real export: what would fail the job is the answer, as a user error.
        raise user_error(
            ErrorCode.INVALID_ARGUMENT, "input", f"the export would fail: {exc}"
        ) from None


def _estimate(
    checked: ValidatedExport,
    files: list[list[SegmentFile]],
    records: int,
    span_ns: int,
) -> Estimate:
    """`files` are each datastream's segments in range; `span_ns` the longest time any of
    them holds data over (decimation buckets are per stream, unless WIDE)."""
    sampled, rows, size = _sample(checked, files)
    options = checked.options
    per_record = rows / sampled if sampled else 0.0
    estimated = round(records * per_record)
    decimation = options.decimation
    if decimation is not None:
        buckets = -(-span_ns // decimation.interval_ns) if records else 0
        if options.layout != "WIDE":
            buckets *= len(files)
        estimated = buckets if decimation.fill != "none" else min(buckets, records)
    if options.limit is not None:
        estimated = min(estimated, options.limit)
    per_row = size / rows if rows else 0.0
    return Estimate(estimated, round(estimated * per_row), records, sampled)


def _sample(checked: ValidatedExport, files: list[list[SegmentFile]]) -> tuple[int, int, int]:
    """(records read, rows written, bytes written) for the first records, really exported:
    the first segment's first records, and every other stream's over the same time."""
    firsts = [stream[0] if stream else None for stream in files]
    first = next((f for f in firsts if f is not None), None)
    if first is None:
        return 0, 0, 0
    # Up to SAMPLE_RECORDS: the time where the first segment reaches that many, pro rata.
    share = min(1.0, SAMPLE_RECORDS / max(1, first.row_count))
    start = max(checked.start_ns, first.min_ts)
    end = min(checked.end_ns, start + max(1, int((first.max_ts - first.min_ts + 1) * share)))
    options = dataclasses.replace(checked.options, limit=None, split=None)
    with tempfile.TemporaryDirectory(prefix="estimate-") as folder:
        artifacts = run_export(
            ExportTask(
                schema_spec=checked.snapshot,
                context=checked.context,
                segments=[first],
                start_ns=start,
                end_ns=end,
                format=checked.format,
                compression=checked.compression,
                output_dir=Path(folder),
                filename_stem="sample",
                options=options,
                sources=[
                    ExportSource(context, [f] if f is not None else [])
                    for context, f in zip(checked.contexts, firsts, strict=True)
                ]
                if checked.many
                else (),
            ),
            lambda _progress: None,
        )
    sampled = max(1, estimate_rows([f for f in firsts if f is not None], start, end))
    return sampled, sum(a.row_count for a in artifacts), sum(a.byte_size for a in artifacts)
