"""What a client asks for, and its validation: every problem at once, each naming its input
field, and the resolved form a job stores (datastream, times, schema snapshot, options)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
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
    # Many datastreams in one export (instead of datastream_id): merged in time order.
    datastream_ids: list[Any] | None = None


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
    datastream: DatastreamRow  # the first of `datastreams`
    schema: ExportSchemaDef
    snapshot: dict[str, Any]
    start_ns: int
    end_ns: int
    format: str
    compression: str
    options: ExportOptions
    fields: list[tuple[str, LogicalType]]
    fingerprint: str
    context: SourceContext  # of the first datastream
    datastreams: tuple[DatastreamRow, ...] = ()  # every datastream, in the request's order
    contexts: tuple[SourceContext, ...] = ()

    @property
    def many(self) -> bool:
        return len(self.datastreams) > 1


async def validate_export(
    session: AsyncSession, settings: Settings, who: Principal, request: ExportRequest
) -> ValidatedExport:
    """Every check of a request, all problems at once, and the resolved options."""
    errors: list[Problem] = []
    datastreams = await _validated_datastreams(session, settings, request, errors)
    datastream = datastreams[0] if datastreams else None
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
    contexts: list[SourceContext] = []
    if schema is not None and datastreams:
        contexts = await _contexts(session, datastreams)
        fields = _fields_of_every_source(schema, datastreams, contexts, errors)
    context = contexts[0] if contexts else None
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
            [d.id for d in datastreams],
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
    # One datastream: its id, as before many could be exported (fingerprints stay the same).
    streams: Any = datastream.id if len(datastreams) == 1 else [d.id for d in datastreams]
    parts = [streams, start_ns, end_ns, snapshot, request.format, compression, options.to_json()]
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
        tuple(datastreams),
        tuple(contexts),
    )


# Problems reported per datastream are capped, so that 2,000 bad ids are not 2,000 errors.
MAX_STREAM_PROBLEMS = 20


def _fields_of_every_source(
    schema: ExportSchemaDef,
    datastreams: list[DatastreamRow],
    contexts: list[SourceContext],
    errors: list[Problem],
) -> list[tuple[str, LogicalType]] | None:
    """The columns the schema produces, the same for every datastream (the schema is bound to
    each source, its mappings chosen by exchange and market); None after a problem."""
    fields: list[tuple[str, LogicalType]] | None = None
    found = 0
    for datastream, context in zip(datastreams, contexts, strict=True):
        problems = applicability_errors(schema, datastream, context.market, "input.schema")
        if not problems:
            mine = _schema_fields(schema, context, problems)
            if mine is not None and fields is not None and mine != fields:
                problems.append(
                    Problem(
                        ErrorCode.INVALID_ARGUMENT,
                        ("input", "schema"),
                        f"schema {schema.name!r} gives datastream {datastream.id} other columns "
                        "or types than the first datastream: export them separately",
                    )
                )
            fields = fields if fields is not None else mine
        if problems:
            found += 1
            if found <= MAX_STREAM_PROBLEMS:
                errors.extend(problems)
    return fields if not found else None


async def _contexts(session: AsyncSession, datastreams: list[DatastreamRow]) -> list[SourceContext]:
    ids = {d.instrument_id for d in datastreams}
    instruments = {
        i.id: i
        for i in await session.scalars(select(InstrumentRow).where(InstrumentRow.id.in_(ids)))
    }
    return [source_context(d, instruments.get(d.instrument_id)) for d in datastreams]


async def _validated_datastreams(
    session: AsyncSession, settings: Settings, request: ExportRequest, errors: list[Problem]
) -> list[DatastreamRow]:
    """The datastream, or every one of datastreamIds (exactly one of the two is given)."""
    many = request.datastream_ids
    if (request.datastream_id is None) == (many is None):
        field = "datastreamIds" if many is not None else "datastreamId"
        errors.append(
            Problem(
                ErrorCode.INVALID_ARGUMENT,
                ("input", field),
                "give exactly one of datastreamId and datastreamIds",
            )
        )
        return []
    if many is None:
        one = await _validated_datastream(session, request.datastream_id, errors)
        return [one] if one is not None else []
    if not 1 <= len(many) <= settings.max_export_datastreams:
        errors.append(
            Problem(
                ErrorCode.INVALID_ARGUMENT,
                ("input", "datastreamIds"),
                f"datastreamIds holds 1 to {settings.max_export_datastreams:,} datastreams",
            )
        )
        return []
    before = len(errors)
    ids: list[int] = []
    positions: list[int] = []  # of each parsed id in the request
    for index, value in enumerate(many):
        try:
            parsed = parse_datastream_id(value, f"input.datastreamIds.{index}")
        except DomainError as exc:
            errors.extend(exc.errors)
            continue
        if parsed in ids:
            errors.append(
                Problem(
                    ErrorCode.INVALID_ARGUMENT,
                    ("input", "datastreamIds", str(index)),
                    f"datastream {parsed} is listed twice",
                )
            )
        ids.append(parsed)
        positions.append(index)
    rows: dict[int, DatastreamRow] = {}
    for offset in range(0, len(ids), 500):  # bounded IN lists
        chunk = ids[offset : offset + 500]
        rows |= {
            d.id: d
            for d in await session.scalars(select(DatastreamRow).where(DatastreamRow.id.in_(chunk)))
        }
    first_type = None
    for index, value in zip(positions, ids, strict=True):
        found = rows.get(value)
        if found is None:
            errors.append(
                Problem(
                    ErrorCode.NOT_FOUND,
                    ("input", "datastreamIds", str(index)),
                    f"datastream {value} does not exist",
                )
            )
            continue
        first_type = first_type or found.stream_type
        if found.stream_type != first_type:
            errors.append(
                Problem(
                    ErrorCode.INVALID_ARGUMENT,
                    ("input", "datastreamIds", str(index)),
                    f"datastream {value} has {found.stream_type} data, the first one "
                    f"{first_type}: the datastreams of an export have the same category",
                )
            )
    if len(errors) > before:
        del errors[before + MAX_STREAM_PROBLEMS :]
        return []
    return [rows[i] for i in ids]


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
