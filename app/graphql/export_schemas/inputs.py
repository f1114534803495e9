"""GraphQL inputs of the export schema language, and their conversion to the stored JSON spec
(maps keyed by source become lists with a `source` field: GraphQL has no maps)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from app.domain.errors import DomainError, ErrorCode, Problem
from app.graphql.export_schemas.types import OnError


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
    errors: list[Problem] = []

    def keyed(items: list[Any], where: str) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for item in items:
            if item.source in result:
                errors.append(
                    Problem(
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


@strawberry.input(description="A new schema; it is published as version 1.")
class CreateExportSchemaInput:
    name: str = strawberry.field(description="Unique in your workspace; not a built-in's name.")
    definition: ExportSchemaDefinitionInput = strawberry.field(description="Its contents.")


@strawberry.input(description="Which schema.")
class ExportSchemaIdInput:
    id: strawberry.ID = strawberry.field(description="`sch_...` id.")


SchemaIdArgument = Annotated[ExportSchemaIdInput, strawberry.argument(description="Which schema.")]


@strawberry.input(description="New contents for a schema's draft.")
class UpdateExportSchemaDraftInput:
    id: strawberry.ID = strawberry.field(description="`sch_...` id.")
    definition: ExportSchemaDefinitionInput = strawberry.field(
        description="Replaces the whole draft."
    )


@strawberry.input(description="A new name for a schema.")
class RenameExportSchemaInput:
    id: strawberry.ID = strawberry.field(description="`sch_...` id.")
    name: str = strawberry.field(description="The new name.")
