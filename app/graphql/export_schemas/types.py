"""GraphQL types of export schemas, their versions, drafts and previews."""

from __future__ import annotations

import json
from enum import Enum

import strawberry

from app.domain.export_schemas import SchemaSpec, SchemaView
from app.graphql.errors import UserError
from app.graphql.scalars import Timestamp


@strawberry.enum(description="What a value that cannot be converted to the column's type does.")
class OnError(Enum):
    FAIL = strawberry.enum_value("fail", description="Fail the job, naming column and record.")
    NULL = strawberry.enum_value("null", description="Becomes null.")


@strawberry.type(description="One array unfolded into rows.")
class UnfoldPath:
    path: str = strawberry.field(description="JSON path of the array.")
    tag: str | None = strawberry.field(description="Value of meta `unfold_tag` for its rows.")


@strawberry.type(description="Per-source options.")
class SchemaSource:
    source: str = strawberry.field(description="Exchange code or exchange_market.")
    unfold: list[UnfoldPath] = strawberry.field(description="Arrays unfolded, in order.")


@strawberry.type(description="How one source fills a data column.")
class ColumnMapping:
    source: str = strawberry.field(description="Exchange code or exchange_market.")
    path: str = strawberry.field(description="JSON path read.")
    type: str = strawberry.field(description="Declared type.")
    transform: str | None = strawberry.field(description="SQL scalar expression, if any.")
    on_error: OnError = strawberry.field(description="What a value that does not convert does.")


@strawberry.type(description="One output column.")
class SchemaColumn:
    output_column: str = strawberry.field(description="Column name in the file.")
    description: str | None = strawberry.field(description="What it holds.")
    meta: str | None = strawberry.field(description="Record attribute, for meta columns.")
    format: str | None = strawberry.field(description="Time format of a timestamp meta column.")
    data: list[ColumnMapping] | None = strawberry.field(description="Per-source mappings.")


@strawberry.type(description="The contents of an export schema, in the schema language.")
class ExportSchemaDefinition:
    stream_category: str = strawberry.field(description="Record kind it applies to.")
    description: str = strawberry.field(description="What the schema produces.")
    sources: list[SchemaSource] = strawberry.field(description="Per-source options.")
    columns: list[SchemaColumn] = strawberry.field(description="Output columns, in order.")
    json: str = strawberry.field(description="The same definition as canonical JSON text.")

    @classmethod
    def from_spec(cls, spec: SchemaSpec) -> ExportSchemaDefinition:
        return cls(
            stream_category=spec.stream_category,
            description=spec.description,
            sources=[
                SchemaSource(
                    source=key,
                    unfold=[UnfoldPath(path=u.path, tag=u.tag) for u in opt.unfold_paths()],
                )
                for key, opt in spec.sources.items()
            ],
            columns=[
                SchemaColumn(
                    output_column=c.output_column,
                    description=c.description,
                    meta=c.meta,
                    format=c.format,
                    data=None
                    if c.data is None
                    else [
                        ColumnMapping(
                            source=key,
                            path=m.path,
                            type=m.type,
                            transform=m.transform,
                            on_error=OnError(m.on_error),
                        )
                        for key, m in c.data.items()
                    ],
                )
                for c in spec.columns
            ],
            json=json.dumps(spec.dump(), separators=(",", ":")),
        )


@strawberry.type(description="A published, immutable version of a custom schema.")
class ExportSchemaVersion:
    version: int = strawberry.field(description="1, 2, ... in publishing order.")
    created_at: Timestamp = strawberry.field(description="When it was published.")
    definition: ExportSchemaDefinition = strawberry.field(description="Its contents.")


@strawberry.type(description="The unpublished next version of a custom schema.")
class ExportSchemaDraft:
    updated_at: Timestamp = strawberry.field(description="Last change.")
    definition: ExportSchemaDefinition = strawberry.field(description="Its contents.")


@strawberry.type(description="How raw messages become the columns of an export.")
class ExportSchema:
    id: strawberry.ID | None = strawberry.field(
        description="`sch_...` for your own schemas (pins a schema across renames); null for "
        "built-ins."
    )
    name: str = strawberry.field(description="Name used in createExport's `schema`.")
    description: str = strawberry.field(description="What the schema produces.")
    stream_category: str = strawberry.field(
        description="Record kind it applies to, e.g. `trade`, `book`; `any` for raw."
    )
    builtin: bool = strawberry.field(description="Shipped with the gateway (read-only).")
    version: int | None = strawberry.field(
        description="Latest published version of a custom schema; null for built-ins."
    )
    columns: list[str] = strawberry.field(description="Output column names, in file order.")
    exchanges: list[str] = strawberry.field(
        description="Source keys with a mapping; empty means every source (meta columns only)."
    )
    definition: ExportSchemaDefinition = strawberry.field(
        description="The latest published contents."
    )
    draft: ExportSchemaDraft | None = strawberry.field(description="The draft, if one is open.")
    versions: list[ExportSchemaVersion] = strawberry.field(
        description="Every published version, oldest first (built-ins: empty)."
    )

    @classmethod
    def from_view(cls, view: SchemaView) -> ExportSchema:
        schema = view.schema
        sources: set[str] = set()
        for column in schema.spec.columns:
            sources.update(column.data or {})
        draft = None
        if view.draft is not None:
            draft = ExportSchemaDraft(
                updated_at=view.draft.updated_at,
                definition=ExportSchemaDefinition.from_spec(view.draft.spec),
            )
        return cls(
            id=strawberry.ID(schema.id) if schema.id else None,
            name=schema.name,
            description=schema.description,
            stream_category=schema.stream_category,
            builtin=schema.builtin,
            version=schema.version,
            columns=schema.column_names(),
            exchanges=sorted(sources),
            definition=ExportSchemaDefinition.from_spec(schema.spec),
            draft=draft,
            versions=[
                ExportSchemaVersion(
                    version=v.version,
                    created_at=v.created_at,
                    definition=ExportSchemaDefinition.from_spec(v.spec),
                )
                for v in view.versions
            ],
        )


@strawberry.type(description="Result of a mutation on an export schema.")
class ExportSchemaPayload:
    export_schema: ExportSchema | None = strawberry.field(
        default=None, description="The schema, on success."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why it failed, if it did."
    )


@strawberry.type(description="Result of deleteExportSchema.")
class DeleteExportSchemaPayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="The id that was deleted."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why it was not deleted."
    )


@strawberry.type(description="A column of a preview.")
class PreviewColumn:
    name: str = strawberry.field(description="Output column name.")
    type: str = strawberry.field(description="Its type, e.g. `decimal(18)`, `timestamp`.")


@strawberry.type(description="What a schema would produce, first rows only.")
class ExportSchemaPreview:
    columns: list[PreviewColumn] = strawberry.field(
        default_factory=list, description="Columns, in file order."
    )
    rows: list[list[str | None]] = strawberry.field(
        default_factory=list,
        description="Values as text (timestamps as integer nanoseconds, decimals exact).",
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Why no preview could be made (bad schema, data it cannot read).",
    )
