"""Query root: catalog, schemas, availability, export jobs, node."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import strawberry

from app.domain import availability as availability_domain
from app.domain import catalog, export_schemas, exports
from app.domain import estimate as estimate_domain
from app.domain import preview as preview_domain
from app.domain.errors import DomainError
from app.graphql.context import Context, authenticated
from app.graphql.errors import ApiError, UserError
from app.graphql.mutations import CreateExportInput, export_request
from app.graphql.scalars import Long, Timestamp
from app.graphql.schema_types import ExportSchema, ExportSchemaDefinitionInput, definition_to_spec
from app.graphql.types import (
    Availability,
    Connection,
    Datastream,
    ExportFormat,
    ExportJob,
    ExportStatus,
    Node,
    decode_cursor,
    make_connection,
)
from app.ids import id_prefix
from engine.timestamps import TimestampError, parse_timestamp

Info = strawberry.Info[Context, None]
First = Annotated[int | None, strawberry.argument(description="Page size (default 20).")]
After = Annotated[str | None, strawberry.argument(description="Cursor to continue after.")]


@strawberry.type(description="A column of a preview.")
class PreviewColumn:
    name: str = strawberry.field(description="Output column name.")
    type: str = strawberry.field(description="Its type, e.g. `decimal(18)`, `timestamp`.")


@strawberry.type(description="What a schema would produce, first rows only.")
class ExportSchemaPreview:
    columns: list[PreviewColumn] = strawberry.field(description="Columns, in file order.")
    rows: list[list[str | None]] = strawberry.field(
        description="Values as text (timestamps as integer nanoseconds, decimals exact)."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why no preview could be made (bad schema, data it cannot read)."
    )


@strawberry.type(description="What an export would produce, estimated without running it.")
class ExportEstimate:
    estimated_rows: Long = strawberry.field(description="Rows the files would hold.")
    estimated_bytes: Long = strawberry.field(description="Bytes the files would take.")
    records_in_range: Long = strawberry.field(
        description="Stored records in the time range (segment catalog)."
    )
    sampled_records: int = strawberry.field(
        description="Records actually exported as a sample to measure rows per record and "
        "bytes per row."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the request is invalid (the same errors createExport would give)."
    )


async def _custom_schema(session: Any, row: Any) -> ExportSchema:
    latest = await export_schemas.version_def(session, row)
    assert latest is not None
    return ExportSchema.from_def(latest, row, await export_schemas.versions(session, row))


def page_size(info: Info, first: int | None) -> int:
    limit = info.context.settings.max_page_size
    if first is None:
        return min(20, limit)
    if not 0 <= first <= limit:
        raise ApiError(f"first must be between 0 and {limit}", "INVALID_ARGUMENT", field="first")
    return first


def cursor_value(after: str | None) -> str | None:
    if after is None:
        return None
    value = decode_cursor(after)
    if value is None:
        raise ApiError("after is not a cursor from this API", "INVALID_ARGUMENT", field="after")
    return value


@strawberry.enum(description="How a list of export jobs is sorted.")
class ExportJobOrder(Enum):
    CREATED_AT_DESC = strawberry.enum_value(
        "CREATED_AT_DESC", description="Newest first (the default)."
    )
    CREATED_AT_ASC = strawberry.enum_value("CREATED_AT_ASC", description="Oldest first.")


def timestamp_arg(value: object, field: str) -> int | None:
    """Timestamp arguments arrive parsed (an int), or as given when they could not be."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    try:
        return parse_timestamp(value)
    except TimestampError as exc:
        raise ApiError(str(exc), "INVALID_ARGUMENT", field=field) from None


def datastream_id_arg(value: object, field: str) -> int:
    try:
        return exports.parse_datastream_id(value, field)
    except DomainError as exc:
        raise ApiError(exc.errors[0].message, "INVALID_ARGUMENT", field=field) from None


async def load_datastreams(info: Info, ids: list[int]) -> dict[int, Datastream]:
    async with info.context.sessions() as session:
        rows = [ds for i in ids if (ds := await catalog.get_datastream(session, i)) is not None]
        instruments = await catalog.instruments_by_id(session, [r.instrument_id for r in rows])
        exchanges_ = await catalog.exchanges_by_code(session, [r.exchange_code for r in rows])
    return {
        r.id: Datastream.from_rows(r, exchanges_[r.exchange_code], instruments[r.instrument_id])
        for r in rows
    }


@strawberry.type(description="Read the catalog, schemas, availability and your export jobs.")
class Query:
    @authenticated(description="Datastreams, filtered; ordered by id.")
    async def datastreams(
        self,
        info: Info,
        exchange: Annotated[
            str | None, strawberry.argument(description="Exchange code, e.g. `binance`.")
        ] = None,
        instrument: Annotated[
            str | None, strawberry.argument(description="Instrument symbol, e.g. `BTCUSDT`.")
        ] = None,
        stream_type: Annotated[
            str | None, strawberry.argument(description="e.g. `trades`.")
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Datastream]:
        limit = page_size(info, first)
        after_value = cursor_value(after)
        after_id = datastream_id_arg(after_value, "after") if after_value is not None else None
        async with info.context.sessions() as session:
            rows, total = await catalog.list_datastreams(
                session,
                exchange=exchange,
                instrument=instrument,
                stream_type=stream_type,
                after_id=after_id,
                limit=limit + 1,
            )
        found = await load_datastreams(info, [r.id for r in rows[:limit]])
        nodes = [found[r.id] for r in rows[:limit]]
        return make_connection(
            nodes,
            [str(n.datastream_id) for n in nodes],
            total,
            has_next=len(rows) > limit,
            has_previous=after is not None,
        )

    @authenticated(description="One datastream by id (`101` or `ds_101`); null if unknown.")
    async def datastream(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Datastream id.")],
    ) -> Datastream | None:
        datastream_id = datastream_id_arg(id, "id")
        return (await load_datastreams(info, [datastream_id])).get(datastream_id)

    @authenticated(
        description="Export schemas usable in createExport: the built-ins first, then yours "
        "by name."
    )
    async def export_schemas(
        self,
        info: Info,
        stream_category: Annotated[
            str | None, strawberry.argument(description="Only schemas for this kind, e.g. `book`.")
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[ExportSchema]:
        limit = page_size(info, first)
        after_value = cursor_value(after)
        offset = int(after_value) + 1 if after_value is not None and after_value.isdigit() else 0
        builtins = [
            s
            for s in export_schemas.builtin_schemas()
            if stream_category is None or s.stream_category == stream_category
        ]
        async with info.context.sessions() as session:
            rows = await export_schemas.list_rows(session, info.context.caller, stream_category)
            everything: list[tuple[Any, Any]] = [(s, None) for s in builtins] + [
                (None, r) for r in rows
            ]
            page = everything[offset : offset + limit]
            nodes = [
                ExportSchema.from_def(s) if s is not None else await _custom_schema(session, r)
                for s, r in page
            ]
        return make_connection(
            nodes,
            [str(offset + i) for i in range(len(nodes))],
            len(everything),
            has_next=offset + limit < len(everything),
            has_previous=offset > 0,
        )

    @authenticated(description="One schema by `sch_` id or by name (built-in or yours).")
    async def export_schema(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID | None, strawberry.argument(description="`sch_...` id.")
        ] = None,
        name: Annotated[str | None, strawberry.argument(description="Schema name.")] = None,
    ) -> ExportSchema | None:
        if (id is None) == (name is None):
            raise ApiError("give exactly one of id and name", "INVALID_ARGUMENT", field="id")
        async with info.context.sessions() as session:
            caller = info.context.caller
            if id is not None:
                row = await export_schemas.get_row(session, caller, str(id))
            else:
                builtin = export_schemas.builtin_for(str(name), None)
                if builtin is not None:
                    return ExportSchema.from_def(builtin)
                row = await export_schemas.row_by_name(session, caller, str(name))
            return await _custom_schema(session, row) if row is not None else None

    @authenticated(
        description="Estimate the rows and bytes of an export (from the segment catalog and a "
        "small sample) without creating a job, so a dashboard can warn about huge requests."
    )
    async def estimate_export(
        self,
        info: Info,
        input: Annotated[
            CreateExportInput, strawberry.argument(description="The export to estimate.")
        ],
    ) -> ExportEstimate:
        try:
            request = export_request(input)
            async with info.context.sessions() as session:
                found = await estimate_domain.estimate_export(
                    session, info.context.settings, info.context.caller, request
                )
        except DomainError as exc:
            return ExportEstimate(
                estimated_rows=0,
                estimated_bytes=0,
                records_in_range=0,
                sampled_records=0,
                user_errors=[UserError.from_domain(e) for e in exc.errors],
            )
        return ExportEstimate(
            estimated_rows=found.rows,
            estimated_bytes=found.bytes,
            records_in_range=found.records,
            sampled_records=found.sampled_records,
            user_errors=[],
        )

    @authenticated(
        description="The first rows a schema (saved, or given inline while editing) produces "
        "on a datastream, without creating a job."
    )
    async def preview_export_schema(
        self,
        info: Info,
        datastream_id: Annotated[
            strawberry.ID, strawberry.argument(description="Datastream to read.")
        ],
        schema: Annotated[
            str | None,
            strawberry.argument(description="Schema name or `sch_` id; or give inlineSchema."),
        ] = None,
        inline_schema: Annotated[
            ExportSchemaDefinitionInput | None,
            strawberry.argument(description="A schema being edited."),
        ] = None,
        limit: Annotated[int, strawberry.argument(description="Rows wanted, 1 to 200.")] = 20,
    ) -> ExportSchemaPreview:
        ds_id = datastream_id_arg(datastream_id, "datastreamId")
        try:
            inline = definition_to_spec(inline_schema, "inlineSchema") if inline_schema else None
            async with info.context.sessions() as session:
                result = await preview_domain.preview(
                    session,
                    info.context.settings,
                    info.context.caller,
                    ds_id,
                    schema if schema is not None or inline is not None else "raw",
                    inline,
                    limit,
                )
        except DomainError as exc:
            return ExportSchemaPreview(
                columns=[], rows=[], user_errors=[UserError.from_domain(e) for e in exc.errors]
            )
        return ExportSchemaPreview(
            columns=[PreviewColumn(name=n, type=t) for n, t in result.columns],
            rows=result.rows,
            user_errors=[],
        )

    @authenticated(description="Time ranges that hold data for a datastream.")
    async def availability(
        self,
        info: Info,
        datastream_id: Annotated[strawberry.ID, strawberry.argument(description="Datastream id.")],
    ) -> Availability | None:
        ds_id = datastream_id_arg(datastream_id, "datastreamId")
        gap = int(info.context.settings.availability_gap_seconds * 1e9)
        async with info.context.sessions() as session:
            if await catalog.get_datastream(session, ds_id) is None:
                return None
            data = await availability_domain.availability(session, ds_id, gap)
        return Availability.from_data(ds_id, data)

    @authenticated(
        description="One of your export jobs; null if it does not exist or is not yours."
    )
    async def export_job(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Job id, `exp_<32 hex>`.")],
    ) -> ExportJob | None:
        async with info.context.sessions() as session:
            job = await exports.get_export(session, info.context.caller, str(id))
        return ExportJob.from_row(job) if job else None

    @authenticated(
        description="Your export jobs, filtered (all conditions hold), newest first unless "
        "orderBy says otherwise."
    )
    async def export_jobs(
        self,
        info: Info,
        status: Annotated[
            ExportStatus | None, strawberry.argument(description="Only jobs in this state.")
        ] = None,
        datastream_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only jobs of this datastream.")
        ] = None,
        format: Annotated[
            ExportFormat | None, strawberry.argument(description="Only jobs with this format.")
        ] = None,
        created_after: Annotated[
            Timestamp | None,
            strawberry.argument(description="Only jobs created at or after this time."),
        ] = None,
        created_before: Annotated[
            Timestamp | None,
            strawberry.argument(description="Only jobs created before this time (exclusive)."),
        ] = None,
        order_by: Annotated[
            ExportJobOrder,
            strawberry.argument(description="By creation time, then id; default newest first."),
        ] = ExportJobOrder.CREATED_AT_DESC,
        first: First = None,
        after: After = None,
    ) -> Connection[ExportJob]:
        limit = page_size(info, first)
        after_value = cursor_value(after)
        where = exports.ListFilter(
            status=status.name if status else None,
            datastream_id=(
                datastream_id_arg(datastream_id, "datastreamId")
                if datastream_id is not None
                else None
            ),
            format=format.name if format else None,
            created_after=timestamp_arg(created_after, "createdAfter"),
            created_before=timestamp_arg(created_before, "createdBefore"),
        )
        try:
            async with info.context.sessions() as session:
                rows, total = await exports.list_exports(
                    session,
                    info.context.caller,
                    where,
                    after=after_value,
                    limit=limit + 1,
                    ascending=order_by == ExportJobOrder.CREATED_AT_ASC,
                )
        except DomainError as exc:
            error = exc.errors[0]
            raise ApiError(error.message, error.code.value, field=".".join(error.field)) from None
        return make_connection(
            [ExportJob.from_row(r) for r in rows[:limit]],
            [exports.list_cursor(r) for r in rows[:limit]],
            total,
            has_next=len(rows) > limit,
            has_previous=after is not None,
        )

    @authenticated(description="Any object by its prefixed ID (`exp_...`, `ds_...`).")
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A prefixed ID.")],
    ) -> Node | None:
        text = str(id)
        if id_prefix(text) == "exp":
            async with info.context.sessions() as session:
                job = await exports.get_export(session, info.context.caller, text)
            return ExportJob.from_row(job) if job else None
        if text.startswith("ds_") and text[3:].isdigit():
            return (await load_datastreams(info, [int(text[3:])])).get(int(text[3:]))
        return None
