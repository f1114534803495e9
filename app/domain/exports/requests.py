"""What a client asks for, and its validation: every problem at once, each naming its input
field, and the resolved form a job stores (datastream, times, schema snapshot, options)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import DatastreamRow, InstrumentRow
from app.domain.auth import Principal
from app.domain.catalog import source_context
from app.domain.errors import DomainError, ErrorCode, Problem, user_error
from app.domain.export_schemas import ExportSchemaDef, applicability_errors, resolve_for_export
from app.domain.exports.status import COMPRESSIONS, FORMATS
from engine.export_schema import SchemaError, compile_schema
from engine.logical import LogicalType, SourceContext
from engine.options import ExportOptions, resolve_options
from engine.options import OptionsRequest as OptionsRequest  # part of ExportRequest
from engine.strict import StrictParseError, parse_int64
from engine.timestamps import TimestampError, parse_timestamp


@dataclass(frozen=True)
class ExportRequest:
    """What a client asks for, before validation (timestamps still as given)."""

    datastream_id: Any
    start_time: Any
    end_time: Any
    schema: str | None = None  # built-in or custom name, or sch_ id; default raw
    inline_schema: dict[str, Any] | None = None
    format: str = "CSV"
    compression: str | None = None
    idempotency_key: str | None = None
    options: OptionsRequest | None = None
    keep_partial: bool = False  # on a failure, keep the rows written as partial artifacts


def parse_datastream_id(value: Any, field: str) -> int:
    """`101` or `ds_101`: a positive int64 in ASCII digits."""
    text = value.removeprefix("ds_") if isinstance(value, str) else value
    try:
        return parse_int64(text, minimum=1, signed=False, what="a datastream id")
    except StrictParseError:
        raise user_error(
            ErrorCode.INVALID_ARGUMENT,
            field,
            f"{str(value)[:40]!r} is not a datastream id (a positive 64-bit integer)",
        ) from None


@dataclass(frozen=True)
class ValidatedExport:
    datastream: DatastreamRow
    schema: ExportSchemaDef
    snapshot: dict[str, Any]
    start_ns: int
    end_ns: int
    format: str
    compression: str
    options: ExportOptions
    fields: list[tuple[str, LogicalType]]
    fingerprint: str
    context: SourceContext


async def validate_export(
    session: AsyncSession, settings: Settings, who: Principal, request: ExportRequest
) -> ValidatedExport:
    """Every check of a request, all problems at once, and the resolved options."""
    errors: list[Problem] = []
    datastream = await _validated_datastream(session, request.datastream_id, errors)
    start_ns = _validated_time(request.start_time, "input.startTime", errors)
    end_ns = _validated_time(request.end_time, "input.endTime", errors)
    if start_ns is not None and end_ns is not None and end_ns <= start_ns:
        errors.append(
            Problem(
                ErrorCode.INVALID_ARGUMENT,
                ("input", "endTime"),
                "endTime must be after startTime (the range is [startTime, endTime))",
            )
        )
    reference = request.schema
    if reference is None and request.inline_schema is None:
        reference = "raw"
    schema: ExportSchemaDef | None = None
    try:
        schema = await resolve_for_export(
            session, who, reference, request.inline_schema, datastream
        )
    except DomainError as exc:
        errors.extend(exc.errors)
    fields: list[tuple[str, LogicalType]] | None = None
    context: SourceContext | None = None
    if schema is not None and datastream is not None:
        instrument = await session.get(InstrumentRow, datastream.instrument_id)
        context = source_context(datastream, instrument)
        problems = applicability_errors(schema, datastream, context.market, "input.schema")
        errors.extend(problems)
        if not problems:
            fields = _schema_fields(schema, context, errors)
    if request.format not in FORMATS:
        errors.append(
            Problem(
                ErrorCode.INVALID_ARGUMENT,
                ("input", "format"),
                f"format must be one of {', '.join(FORMATS)}",
            )
        )
    compression = request.compression or ("NONE" if request.format == "PARQUET" else "GZIP")
    if compression not in COMPRESSIONS:
        errors.append(
            Problem(
                ErrorCode.INVALID_ARGUMENT,
                ("input", "compression"),
                f"compression must be one of {', '.join(COMPRESSIONS)}",
            )
        )
    elif request.format == "PARQUET" and compression != "NONE":
        errors.append(
            Problem(
                ErrorCode.INVALID_ARGUMENT,
                ("input", "compression"),
                "Parquet files are compressed inside: use NONE and formatOptions.compression",
            )
        )
    options: ExportOptions | None = None
    if request.format in FORMATS:  # without fields, only the checks that need no columns
        options, issues = resolve_options(
            request.options or OptionsRequest(),
            request.format,
            fields,
            settings.max_export_rows,
            (end_ns - start_ns) if start_ns is not None and end_ns is not None else 0,
        )
        errors.extend(
            Problem(ErrorCode.INVALID_ARGUMENT, ("input", *issue.path), issue.message)
            for issue in issues
        )
    key = request.idempotency_key
    if key is not None and not 1 <= len(key) <= 200:
        errors.append(
            Problem(
                ErrorCode.INVALID_ARGUMENT,
                ("input", "idempotencyKey"),
                "idempotencyKey must be 1 to 200 characters",
            )
        )
    if errors:
        raise DomainError(errors)
    assert (
        datastream is not None
        and schema is not None
        and start_ns is not None
        and end_ns is not None
        and fields is not None
        and context is not None
        and options is not None
    )
    snapshot = schema.snapshot()
    parts = [datastream.id, start_ns, end_ns, snapshot, request.format, compression]
    parts.append(options.to_json())
    if request.keep_partial:  # only when asked: earlier jobs' fingerprints stay as they were
        parts.append({"keepPartial": True})
    fingerprint = _fingerprint(*parts)
    return ValidatedExport(
        datastream,
        schema,
        snapshot,
        start_ns,
        end_ns,
        request.format,
        compression,
        options,
        fields,
        fingerprint,
        context,
    )


def _schema_fields(
    schema: ExportSchemaDef, context: SourceContext, errors: list[Problem]
) -> list[tuple[str, LogicalType]] | None:
    """The columns this schema produces for this datastream (binding it is cheap)."""
    try:
        return compile_schema(schema.spec, context).fields  # already checked: no re-parse
    except SchemaError as exc:
        errors.append(Problem(ErrorCode.INVALID_ARGUMENT, ("input", "schema"), str(exc)))
        return None


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


async def _validated_datastream(
    session: AsyncSession, value: Any, errors: list[Problem]
) -> DatastreamRow | None:
    try:
        datastream_id = parse_datastream_id(value, "input.datastreamId")
    except DomainError as exc:
        errors.extend(exc.errors)
        return None
    datastream = await session.get(DatastreamRow, datastream_id)
    if datastream is None:
        errors.append(
            Problem(
                ErrorCode.NOT_FOUND,
                ("input", "datastreamId"),
                f"datastream {datastream_id} does not exist",
            )
        )
    return datastream


def _validated_time(value: Any, field: str, errors: list[Problem]) -> int | None:
    try:
        return parse_timestamp(value)
    except TimestampError as exc:
        errors.append(Problem(ErrorCode.INVALID_ARGUMENT, tuple(field.split(".")), str(exc)))
        return None
