"""Mutation root. Each mutation takes one `input` and returns a payload with `userErrors`."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from app.domain import export_schemas, exports, retention
from app.domain.errors import DomainError
from app.events import JobEvent, get_event_bus
from app.graphql.context import Context, authenticated
from app.graphql.errors import UserError
from app.graphql.option_inputs import (
    DecimationInput,
    ExportFilterInput,
    SplitInput,
    options_request,
)
from app.graphql.scalars import Timestamp
from app.graphql.schema_types import (
    ExportSchema,
    ExportSchemaDefinitionInput,
    ExportSchemaPayload,
    definition_to_spec,
)
from app.graphql.types import Compression, ExportFormat, ExportJob
from workers.broker import wake_export

Info = strawberry.Info[Context, None]


@strawberry.input(description="What to export.")
class CreateExportInput:
    datastream_id: strawberry.ID = strawberry.field(
        description="Datastream id (`101` or `ds_101`)."
    )
    start_time: Timestamp = strawberry.field(description="Range start, inclusive.")
    end_time: Timestamp = strawberry.field(description="Range end, exclusive.")
    schema: str | None = strawberry.field(
        default=None,
        description="Export schema: a built-in name (`raw`, `normalized`), one of your schemas' "
        "names, or its `sch_` id (pinned across renames). Default `raw`. Not with inlineSchema.",
    )
    inline_schema: ExportSchemaDefinitionInput | None = strawberry.field(
        default=None, description="A schema given in full for this export only, instead of schema."
    )
    format: ExportFormat = strawberry.field(default=ExportFormat.CSV, description="File format.")
    compression: Compression | None = strawberry.field(
        default=None, description="Default: GZIP for CSV and JSONL, NONE for Parquet."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry-safe key: the same key and request return the same job; "
        "the same key with a different request is a CONFLICT.",
    )
    format_options: JSON | None = strawberry.field(
        default=None,
        description="Options of the chosen format (CSV: delimiter, header, quoting, nullString, "
        "lineTerminator, timestampFormat; PARQUET: compression, compressionLevel, rowGroupSize, "
        "dictionary, statistics, dataPageSize; JSONL: timestampFormat, decimals). Missing keys "
        "get the server defaults, echoed on the job.",
    )
    columns: list[str] | None = strawberry.field(
        default=None, description="A subset of the output columns, in the order wanted."
    )
    limit: int | None = strawberry.field(
        default=None, description="At most this many rows (after filters); clamped to the maximum."
    )
    filter: ExportFilterInput | None = strawberry.field(
        default=None, description="Only rows for which this holds."
    )
    decimation: DecimationInput | None = strawberry.field(
        default=None, description="Aggregate rows into time buckets (e.g. OHLCV bars)."
    )
    split: SplitInput | None = strawberry.field(
        default=None, description="Several files (by period, rows or bytes) and a manifest."
    )


def export_request(input: CreateExportInput) -> exports.ExportRequest:
    """The domain request for createExport (and estimateExport): GraphQL shapes unwrapped."""
    return exports.ExportRequest(
        datastream_id=input.datastream_id,
        start_time=input.start_time,
        end_time=input.end_time,
        schema=input.schema,
        inline_schema=(
            definition_to_spec(input.inline_schema, "input.inlineSchema")
            if input.inline_schema is not None
            else None
        ),
        format=input.format.name,
        compression=input.compression.name if input.compression else None,
        idempotency_key=input.idempotency_key,
        options=options_request(
            input.format_options,
            input.columns,
            input.limit,
            input.filter,
            input.decimation,
            input.split,
        ),
    )


@strawberry.type(description="Result of createExport.")
class CreateExportPayload:
    export_job: ExportJob | None = strawberry.field(
        description="The job, new or replayed; null on errors."
    )
    user_errors: list[UserError] = strawberry.field(description="Why the job was not created.")


@strawberry.input(description="Which job to cancel.")
class CancelExportInput:
    id: strawberry.ID = strawberry.field(description="Job id, `exp_<32 hex>`.")


@strawberry.type(description="Result of cancelExport.")
class CancelExportPayload:
    export_job: ExportJob | None = strawberry.field(description="The job after cancellation.")
    user_errors: list[UserError] = strawberry.field(description="Why it could not be canceled.")


@strawberry.input(description="Which job to delete.")
class DeleteExportInput:
    id: strawberry.ID = strawberry.field(description="Job id, `exp_<32 hex>`.")


@strawberry.type(description="Result of deleteExport.")
class DeleteExportPayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        description="The id of the deleted job; null on errors."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was not deleted.")


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


@strawberry.type(description="Result of deleteExportSchema.")
class DeleteExportSchemaPayload:
    deleted_id: strawberry.ID | None = strawberry.field(description="The id that was deleted.")
    user_errors: list[UserError] = strawberry.field(description="Why it was not deleted.")


async def _schema_change(info: Info, change: Any) -> ExportSchemaPayload:
    """Run one schema mutation; answer with the schema as it now is, or the user errors."""
    try:
        async with info.context.sessions() as session:
            row = await change(session, info.context.caller)
            latest = await export_schemas.version_def(session, row)
            versions = await export_schemas.versions(session, row)
    except DomainError as exc:
        return ExportSchemaPayload(
            export_schema=None, user_errors=[UserError.from_domain(e) for e in exc.errors]
        )
    assert latest is not None
    return ExportSchemaPayload(
        export_schema=ExportSchema.from_def(latest, row, versions), user_errors=[]
    )


def _definition(input: Any) -> dict[str, Any]:
    return definition_to_spec(input.definition, "input.definition")


@strawberry.type(description="Create and change your export schemas.")
class SchemaMutation:
    @authenticated(description="Create a schema, published as version 1.")
    async def create_export_schema(
        self,
        info: Info,
        input: Annotated[CreateExportSchemaInput, strawberry.argument(description="The schema.")],
    ) -> ExportSchemaPayload:
        return await _schema_change(
            info,
            lambda s, who: export_schemas.create_schema(s, who, input.name, _definition(input)),
        )

    @authenticated(description="Open a draft, a copy of the latest version; one at a time.")
    async def create_export_schema_draft(
        self,
        info: Info,
        input: SchemaIdArgument,
    ) -> ExportSchemaPayload:
        return await _schema_change(
            info, lambda s, who: export_schemas.create_draft(s, who, str(input.id))
        )

    @authenticated(description="Replace the draft's contents; repeatable.")
    async def update_export_schema_draft(
        self,
        info: Info,
        input: Annotated[
            UpdateExportSchemaDraftInput, strawberry.argument(description="Schema and contents.")
        ],
    ) -> ExportSchemaPayload:
        return await _schema_change(
            info,
            lambda s, who: export_schemas.update_draft(s, who, str(input.id), _definition(input)),
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
        return await _schema_change(
            info, lambda s, who: export_schemas.publish_draft(s, who, str(input.id))
        )

    @authenticated(description="Throw the draft away.")
    async def discard_export_schema_draft(
        self,
        info: Info,
        input: SchemaIdArgument,
    ) -> ExportSchemaPayload:
        return await _schema_change(
            info, lambda s, who: export_schemas.discard_draft(s, who, str(input.id))
        )

    @authenticated(description="Rename a schema; its id, versions and exports are unchanged.")
    async def rename_export_schema(
        self,
        info: Info,
        input: Annotated[
            RenameExportSchemaInput, strawberry.argument(description="Schema and new name.")
        ],
    ) -> ExportSchemaPayload:
        return await _schema_change(
            info, lambda s, who: export_schemas.rename(s, who, str(input.id), input.name)
        )

    @authenticated(description="Delete a schema and its versions; exports keep their snapshots.")
    async def delete_export_schema(
        self,
        info: Info,
        input: SchemaIdArgument,
    ) -> DeleteExportSchemaPayload:
        try:
            async with info.context.sessions() as session:
                deleted = await export_schemas.delete(session, info.context.caller, str(input.id))
        except DomainError as exc:
            return DeleteExportSchemaPayload(
                deleted_id=None, user_errors=[UserError.from_domain(e) for e in exc.errors]
            )
        return DeleteExportSchemaPayload(deleted_id=strawberry.ID(deleted), user_errors=[])


@strawberry.type(description="Create and control export jobs and export schemas.")
class Mutation(SchemaMutation):
    @authenticated(
        description="Start an export job. It runs asynchronously: follow it with "
        "`exportJobUpdated` or poll `exportJob`."
    )
    async def create_export(
        self,
        info: Info,
        input: Annotated[CreateExportInput, strawberry.argument(description="What to export.")],
    ) -> CreateExportPayload:
        try:
            request = export_request(input)
            async with info.context.sessions() as session:
                job, created = await exports.create_export(session, info.context.caller, request)
        except DomainError as exc:
            return CreateExportPayload(
                export_job=None, user_errors=[UserError.from_domain(e) for e in exc.errors]
            )
        if created:
            wake_export(job.id)
        return CreateExportPayload(export_job=ExportJob.from_row(job), user_errors=[])

    @authenticated(
        description="Cancel a queued or running job; a running one stops within a "
        "second or two and leaves no files."
    )
    async def cancel_export(
        self,
        info: Info,
        input: Annotated[CancelExportInput, strawberry.argument(description="Which job.")],
    ) -> CancelExportPayload:
        try:
            async with info.context.sessions() as session:
                job = await exports.cancel_export(session, info.context.caller, str(input.id))
        except DomainError as exc:
            return CancelExportPayload(
                export_job=None, user_errors=[UserError.from_domain(e) for e in exc.errors]
            )
        get_event_bus().publish(JobEvent(job.id, job.workspace_id, job.status))
        return CancelExportPayload(export_job=ExportJob.from_row(job), user_errors=[])

    @authenticated(
        description="Delete a job and its files at once, in any state: a queued or running "
        "job is stopped first (as by cancelExport). Its download links stop working and it "
        "no longer appears anywhere."
    )
    async def delete_export(
        self,
        info: Info,
        input: Annotated[DeleteExportInput, strawberry.argument(description="Which job.")],
    ) -> DeleteExportPayload:
        try:
            async with info.context.sessions() as session:
                job = await retention.delete_export(
                    session, info.context.caller, str(input.id), info.context.settings
                )
        except DomainError as exc:
            return DeleteExportPayload(
                deleted_id=None, user_errors=[UserError.from_domain(e) for e in exc.errors]
            )
        get_event_bus().publish(JobEvent(job.id, job.workspace_id, job.status))
        return DeleteExportPayload(deleted_id=strawberry.ID(job.id), user_errors=[])
