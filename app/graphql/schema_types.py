"""GraphQL shapes of the export schema language, and their conversion to and from the stored
JSON spec (maps keyed by source become lists with a `source` field: GraphQL has no maps)."""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

import strawberry

from app.db import models
from app.domain.errors import DomainError, ErrorCode, UserError
from app.domain.export_schemas import ExportSchemaDef
from app.graphql.errors import UserError as ApiUserError
from app.graphql.scalars import Timestamp
from engine.export_schema.spec import SchemaSpec, load_spec


@strawberry.enum(description="What a value that cannot be converted to the column's type does.")
class OnError(Enum):
    FAIL = strawberry.enum_value("fail", description="Fail the job, naming column and record.")
    NULL = strawberry.enum_value("null", description="Becomes null.")


@strawberry.input(description="One array to unfold into one row per element.")
class UnfoldPathInput:
    path: str = strawberry.field(description="JSON path of the array, e.g. `data` or `data.b`.")
    tag: str | None = strawberry.field(
        default=None, description="Value of meta column `unfold_tag` for rows of this array."
    )


@strawberry.input(description="Per-source options.")
class SchemaSourceInput:
    source: str = strawberry.field(
        description="Exchange code (`binance`) or exchange_market (`bybit_linear`)."
    )
    unfold: list[UnfoldPathInput] = strawberry.field(
        description="Arrays to unfold; their rows are interleaved in message order."
    )


@strawberry.input(description="How one source fills a data column.")
class ColumnMappingInput:
    source: str = strawberry.field(description="Exchange code or exchange_market.")
    path: str = strawberry.field(
        description="JSON path: `data.p`, `data.b[0][1]`; `$...` is the unfolded element."
    )
    type: str = strawberry.field(
        description="string, bool, int, float, decimal(S), timestamp_s|ms|us|ns, json."
    )
    transform: str | None = strawberry.field(
        default=None,
        description="SQL scalar expression over `{v}` and other `{path}` / `{path:type}` values.",
    )
    on_error: OnError = strawberry.field(
        default=OnError.FAIL, description="What a value that does not convert does."
    )


@strawberry.input(description="One output column: exactly one of `meta` and `data`.")
class SchemaColumnInput:
    output_column: str = strawberry.field(description="Column name in the file.")
    description: str | None = strawberry.field(default=None, description="What it holds.")
    meta: str | None = strawberry.field(
        default=None,
        description="Record attribute: collection_timestamp_ns, data, exchange, market, symbol, "
        "datastream_id, unfold_tag.",
    )
    format: str | None = strawberry.field(
        default=None,
        description="For collection_timestamp_ns: timestamp (default), ns, us, ms or iso.",
    )
    data: list[ColumnMappingInput] | None = strawberry.field(
        default=None, description="Per-source mappings."
    )


@strawberry.input(description="The contents of an export schema.")
class ExportSchemaDefinitionInput:
    stream_category: str = strawberry.field(description="e.g. `trade`, `book`, `any`.")
    columns: list[SchemaColumnInput] = strawberry.field(description="Output columns, in order.")
    description: str = strawberry.field(default="", description="What the schema produces.")
    sources: list[SchemaSourceInput] = strawberry.field(
        default_factory=list, description="Per-source options (unfold)."
    )


def definition_to_spec(definition: ExportSchemaDefinitionInput, field: str) -> dict[str, Any]:
    errors: list[UserError] = []

    def keyed(items: list[Any], where: str) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for item in items:
            if item.source in result:
                errors.append(
                    UserError(
                        ErrorCode.INVALID_ARGUMENT,
                        tuple(where.split(".")),
                        f"source {item.source!r} appears twice",
                    )
                )
            result[item.source] = item
        return result

    sources = {
        key: {"unfold": [_drop_none({"path": u.path, "tag": u.tag}) for u in item.unfold]}
        for key, item in keyed(definition.sources, f"{field}.sources").items()
    }
    columns = []
    for index, column in enumerate(definition.columns):
        spec: dict[str, Any] = _drop_none(
            {
                "outputColumn": column.output_column,
                "description": column.description,
                "meta": column.meta,
                "format": column.format,
            }
        )
        if column.data is not None:
            spec["data"] = {
                key: _drop_none(
                    {
                        "path": m.path,
                        "type": m.type,
                        "transform": m.transform,
                        "onError": m.on_error.value,
                    }
                )
                for key, m in keyed(column.data, f"{field}.columns.{index}.data").items()
            }
        columns.append(spec)
    if errors:
        raise DomainError(errors)
    return {
        "streamCategory": definition.stream_category,
        "description": definition.description,
        "sources": sources,
        "columns": columns,
    }


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


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
    def from_def(
        cls,
        schema: ExportSchemaDef,
        row: models.ExportSchemaRow | None = None,
        versions: list[models.ExportSchemaVersionRow] | None = None,
    ) -> ExportSchema:
        sources: set[str] = set()
        for column in schema.spec.columns:
            sources.update(column.data or {})
        draft = None
        if row is not None and row.draft_spec is not None:
            draft = ExportSchemaDraft(
                updated_at=row.draft_updated_at or row.updated_at,
                definition=ExportSchemaDefinition.from_spec(load_spec(row.draft_spec)),
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
                    definition=ExportSchemaDefinition.from_spec(load_spec(v.spec)),
                )
                for v in versions or []
            ],
        )


@strawberry.type(description="Result of a mutation on an export schema.")
class ExportSchemaPayload:
    export_schema: ExportSchema | None = strawberry.field(description="The schema, on success.")
    user_errors: list[ApiUserError] = strawberry.field(description="Why it failed, if it did.")
