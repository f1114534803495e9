"""Query root: catalog, schemas, availability, export jobs, node."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.domain import availability as availability_domain
from app.domain import catalog, exports
from app.domain.errors import DomainError
from app.domain.export_schemas import builtin_schemas
from app.graphql.context import Context, authenticated
from app.graphql.errors import ApiError
from app.graphql.types import (
    Availability,
    Connection,
    Datastream,
    ExportJob,
    ExportSchema,
    ExportStatus,
    Node,
    decode_cursor,
    make_connection,
)
from app.ids import id_prefix

Info = strawberry.Info[Context, None]


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
        first: Annotated[
            int | None, strawberry.argument(description="Page size (default 20).")
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description="Cursor to continue after.")
        ] = None,
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

    @authenticated(description="Export schemas usable in createExport.")
    def export_schemas(self, info: Info) -> list[ExportSchema]:
        return [ExportSchema.from_def(s) for s in builtin_schemas().values()]

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

    @authenticated(description="Your export jobs, newest first.")
    async def export_jobs(
        self,
        info: Info,
        status: Annotated[
            ExportStatus | None, strawberry.argument(description="Only jobs in this state.")
        ] = None,
        datastream_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only jobs of this datastream.")
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="Page size (default 20).")
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description="Cursor to continue after.")
        ] = None,
    ) -> Connection[ExportJob]:
        limit = page_size(info, first)
        before_id = cursor_value(after)
        ds_id = (
            datastream_id_arg(datastream_id, "datastreamId") if datastream_id is not None else None
        )
        async with info.context.sessions() as session:
            rows, total = await exports.list_exports(
                session,
                info.context.caller,
                status=status.name if status else None,
                datastream_id=ds_id,
                before_id=before_id,
                limit=limit + 1,
            )
        nodes = [ExportJob.from_row(r) for r in rows[:limit]]
        return make_connection(
            nodes,
            [str(n.id) for n in nodes],
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
