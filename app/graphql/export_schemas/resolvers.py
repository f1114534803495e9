"""Export schema queries (list, one, preview) and mutations (create, drafts, rename, delete)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ExportSchemaRow
from app.domain import export_schema_preview as preview_domain
from app.domain import export_schemas
from app.domain.export_schemas import SchemaView
from app.graphql.arguments import datastream_id_arg
from app.graphql.context import Info, authenticated
from app.graphql.errors import ApiError, guarded
from app.graphql.export_schemas.inputs import (
    CreateExportSchemaInput,
    ExportSchemaDefinitionInput,
    RenameExportSchemaInput,
    SchemaIdArgument,
    UpdateExportSchemaDraftInput,
    definition_to_spec,
)
from app.graphql.export_schemas.types import (
    DeleteExportSchemaPayload,
    ExportSchema,
    ExportSchemaPayload,
    ExportSchemaPreview,
    PreviewColumn,
)
from app.graphql.relay import After, Connection, First, cursor_value, make_connection, page_size
from engine.strict import is_ascii_digits

SCHEMA_CURSOR = "schemas:"


def _offset_after(cursor: str | None) -> int:
    """Positions in the list of schemas (built-ins first); a cursor of another list is an
    error, not the first page (a client would loop). Bare positions: earlier releases."""
    if cursor is None:
        return 0
    position = cursor.removeprefix(SCHEMA_CURSOR)
    if not is_ascii_digits(position):
        raise ApiError("after is not a cursor of this list", "INVALID_ARGUMENT", field="after")
    return int(position) + 1


async def _custom_schema(session: AsyncSession, row: ExportSchemaRow) -> ExportSchema:
    return ExportSchema.from_view(await export_schemas.view(session, row))


async def _preview(
    info: Info,
    datastream_id: int,
    schema: str | None,
    inline_schema: ExportSchemaDefinitionInput | None,
    limit: int,
) -> ExportSchemaPreview:
    inline = definition_to_spec(inline_schema, "inlineSchema") if inline_schema else None
    async with info.context.sessions() as session:
        result = await preview_domain.preview(
            session,
            info.context.settings,
            info.context.caller,
            datastream_id,
            schema if schema is not None or inline is not None else "raw",
            inline,
            limit,
        )
    return ExportSchemaPreview(
        columns=[PreviewColumn(name=n, type=t) for n, t in result.columns], rows=result.rows
    )


@strawberry.type(description="Read export schemas and try them on data.")
class ExportSchemaQuery:
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
        offset = _offset_after(cursor_value(after))
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
                ExportSchema.from_view(SchemaView(s))
                if s is not None
                else await _custom_schema(session, r)
                for s, r in page
            ]
        return make_connection(
            nodes,
            [f"{SCHEMA_CURSOR}{offset + i}" for i in range(len(nodes))],
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
                    return ExportSchema.from_view(SchemaView(builtin))
                row = await export_schemas.row_by_name(session, caller, str(name))
            return await _custom_schema(session, row) if row is not None else None

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
        return await guarded(
            ExportSchemaPreview, _preview(info, ds_id, schema, inline_schema, limit)
        )


async def _changed(info: Info, change: Any) -> ExportSchemaPayload:
    """Run one schema command; answer with the schema as it now is."""
    async with info.context.sessions() as session:
        row = await change(session, info.context.caller)
        return ExportSchemaPayload(export_schema=await _custom_schema(session, row))


def _definition(input: Any) -> dict[str, Any]:
    return definition_to_spec(input.definition, "input.definition")


async def _deleted(info: Info, schema_id: str) -> DeleteExportSchemaPayload:
    async with info.context.sessions() as session:
        deleted = await export_schemas.delete(session, info.context.caller, schema_id)
    return DeleteExportSchemaPayload(deleted_id=strawberry.ID(deleted))


@strawberry.type(description="Create and change your export schemas.")
class ExportSchemaMutation:
    @authenticated(description="Create a schema, published as version 1.")
    async def create_export_schema(
        self,
        info: Info,
        input: Annotated[CreateExportSchemaInput, strawberry.argument(description="The schema.")],
    ) -> ExportSchemaPayload:
        return await guarded(
            ExportSchemaPayload,
            _changed(
                info,
                lambda s, who: export_schemas.create_schema(s, who, input.name, _definition(input)),
            ),
        )

    @authenticated(description="Open a draft, a copy of the latest version; one at a time.")
    async def create_export_schema_draft(
        self,
        info: Info,
        input: SchemaIdArgument,
    ) -> ExportSchemaPayload:
        return await guarded(
            ExportSchemaPayload,
            _changed(info, lambda s, who: export_schemas.create_draft(s, who, str(input.id))),
        )

    @authenticated(description="Replace the draft's contents; repeatable.")
    async def update_export_schema_draft(
        self,
        info: Info,
        input: Annotated[
            UpdateExportSchemaDraftInput, strawberry.argument(description="Schema and contents.")
        ],
    ) -> ExportSchemaPayload:
        return await guarded(
            ExportSchemaPayload,
            _changed(
                info,
                lambda s, who: export_schemas.update_draft(
                    s, who, str(input.id), _definition(input)
                ),
            ),
        )

    @authenticated(
        description="Publish the draft as the next version. Existing exports keep the "
        "version they were created with."
    )
    async def publish_export_schema_draft(
        self,
        info: Info,
        input: SchemaIdArgument,
    ) -> ExportSchemaPayload:
        return await guarded(
            ExportSchemaPayload,
            _changed(info, lambda s, who: export_schemas.publish_draft(s, who, str(input.id))),
        )

    @authenticated(description="Throw the draft away.")
    async def discard_export_schema_draft(
        self,
        info: Info,
        input: SchemaIdArgument,
    ) -> ExportSchemaPayload:
        return await guarded(
            ExportSchemaPayload,
            _changed(info, lambda s, who: export_schemas.discard_draft(s, who, str(input.id))),
        )

    @authenticated(description="Rename a schema; its id, versions and exports are unchanged.")
    async def rename_export_schema(
        self,
        info: Info,
        input: Annotated[
            RenameExportSchemaInput, strawberry.argument(description="Schema and new name.")
        ],
    ) -> ExportSchemaPayload:
        return await guarded(
            ExportSchemaPayload,
            _changed(info, lambda s, who: export_schemas.rename(s, who, str(input.id), input.name)),
        )

    @authenticated(description="Delete a schema and its versions; exports keep their snapshots.")
    async def delete_export_schema(
        self,
        info: Info,
        input: SchemaIdArgument,
    ) -> DeleteExportSchemaPayload:
        return await guarded(DeleteExportSchemaPayload, _deleted(info, str(input.id)))
