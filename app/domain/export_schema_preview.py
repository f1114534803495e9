"""Try a schema on a datastream's first records without creating a job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio
import pyarrow as pa
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import DatastreamRow, InstrumentRow
from app.domain.auth import Principal
from app.domain.catalog import segment_files, segments_in_range_async, source_context
from app.domain.errors import DomainError, ErrorCode, user_error
from app.domain.export_schemas import applicability_errors, resolve_for_export
from engine.export_schema import DecodeError, SchemaError, compile_schema
from engine.logical import SourceContext
from engine.segments import SegmentFile, scan

MAX_PREVIEW_ROWS = 200
END_OF_TIME = 2**63 - 1


@dataclass(frozen=True)
class Preview:
    columns: list[tuple[str, str]]  # (name, type)
    rows: list[list[str | None]]


async def preview(
    session: AsyncSession,
    settings: Settings,
    who: Principal,
    datastream_id: int,
    reference: str | None,
    inline: dict[str, Any] | None,
    limit: int,
) -> Preview:
    if not 1 <= limit <= MAX_PREVIEW_ROWS:
        raise user_error(
            ErrorCode.INVALID_ARGUMENT, "limit", f"limit must be 1 to {MAX_PREVIEW_ROWS}"
        )
    datastream = await session.get(DatastreamRow, datastream_id)
    if datastream is None:
        raise user_error(ErrorCode.NOT_FOUND, "datastreamId", f"no datastream {datastream_id}")
    schema = await resolve_for_export(session, who, reference, inline, datastream, where="")
    instrument = await session.get(InstrumentRow, datastream.instrument_id)
    context = source_context(datastream, instrument)
    errors = applicability_errors(schema, datastream, context.market, "schema")
    if errors:
        raise DomainError(errors)
    segments = await segments_in_range_async(session, datastream.id, 0, END_OF_TIME)
    files = segment_files(settings, segments)
    return await anyio.to_thread.run_sync(_first_rows, schema.snapshot(), context, files, limit)


def _first_rows(
    spec: dict[str, Any], context: SourceContext, files: list[SegmentFile], limit: int
) -> Preview:
    try:
        compiled = compile_schema(spec, context)
        tables = []
        rows = 0
        for batch in scan(files, 0, END_OF_TIME):
            # The first records are enough: never decode a whole segment for a preview.
            table = compiled.apply(batch.slice(0, limit))
            tables.append(table)
            rows += table.num_rows
            if rows >= limit:
                break
    except (SchemaError, DecodeError) as exc:
        raise user_error(ErrorCode.INVALID_ARGUMENT, "schema", str(exc)) from None
    columns = [(name, logical.describe()) for name, logical in compiled.fields]
    if not tables:
        return Preview(columns, [])
    result = pa.concat_tables(tables).slice(0, limit)
    texts = [result.column(i).cast(pa.string()).to_pylist() for i in range(result.num_columns)]
    return Preview(columns, [list(row) for row in zip(*texts, strict=True)])
