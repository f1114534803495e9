"""Export resources to a file (any key), import a file of them (MEMBER for export schemas and
schedules, ADMIN for the catalog and webhooks)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.domain.resources import commands
from app.domain.resources.formats import ResourceFormat as DomainFormat
from app.domain.resources.model import ExportFilter
from app.domain.resources.model import ResourceKind as DomainKind
from app.graphql.context import Info, authenticated
from app.graphql.errors import guarded
from app.graphql.imports.resolvers import sent_file
from app.graphql.resources.inputs import ImportResourcesInput
from app.graphql.resources.types import (
    ImportResourcesPayload,
    ResourceExport,
    ResourceFormat,
    ResourceKind,
)


async def _exported(
    info: Info, resource: ResourceKind, format: ResourceFormat, where: ExportFilter
) -> ResourceExport:
    async with info.context.sessions() as session:
        file = await commands.export_resources(
            session,
            info.context.caller,
            DomainKind(resource.name),
            DomainFormat(format.name),
            where,
        )
    return ResourceExport.from_file(file)


async def _imported(info: Info, input: ImportResourcesInput) -> ImportResourcesPayload:
    commands.require_import_role(info.context.caller, DomainKind(input.resource.name))
    file = None
    if input.file is not None:
        filename, source = sent_file(input.file)
        file = commands.SentFile(filename, source)
    outcome = await commands.import_resources(
        info.context.runtime, info.context.caller, input.to_domain(file)
    )
    return ImportResourcesPayload.from_outcome(outcome)


@strawberry.type(description="Export resources, to back up or clone a gateway.")
class ResourceQuery:
    @authenticated(
        description="Resources as one CSV or JSON file (at most 100,000 rows), to import into "
        "this or another gateway with importResources. Any key may export."
    )
    async def export_resources(
        self,
        info: Info,
        resource: Annotated[ResourceKind, strawberry.argument(description="What to export.")],
        format: Annotated[
            ResourceFormat, strawberry.argument(description="CSV (default) or JSON.")
        ] = ResourceFormat.CSV,
        filter: Annotated[
            str | None,
            strawberry.argument(
                description="Only rows where a naming column contains this, in any case, "
                "literally: code or display_name (exchanges); exchange, symbol, base or quote "
                "(instruments); exchange, symbol or stream_type (datastreams); name (export "
                "schemas, export schedules); url (webhooks). At most 200 characters."
            ),
        ] = None,
        include_archived: Annotated[
            bool,
            strawberry.argument(
                description="Also archived instruments and their datastreams (a full backup "
                "wants them); default false."
            ),
        ] = False,
    ) -> ResourceExport:
        where = ExportFilter(text=filter, include_archived=include_archived)
        return await guarded(ResourceExport, _exported(info, resource, format, where))


@strawberry.type(description="Import resources from files.")
class ResourceMutation:
    @authenticated(
        description="Import a CSV or JSON file of resources, synchronously, as an upsert: a row "
        "creates the entry it identifies, updates it where it differs, or leaves it unchanged. "
        "ADMIN for the catalog and webhooks, MEMBER for export schemas and schedules; at most "
        "10 MiB and 100,000 rows."
    )
    async def import_resources(
        self,
        info: Info,
        input: Annotated[ImportResourcesInput, strawberry.argument(description="The file.")],
    ) -> ImportResourcesPayload:
        return await guarded(ImportResourcesPayload, _imported(info, input))
