"""GraphQL inputs of resource imports, and their conversion to a domain request."""

from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload

from app.domain.resources.commands import ImportResourcesRequest, SentFile
from app.domain.resources.formats import ResourceFormat as DomainFormat
from app.domain.resources.model import ResourceKind as DomainKind
from app.graphql.resources.types import ResourceErrorPolicy, ResourceFormat, ResourceKind


@strawberry.input(
    description="A file of resources to import (upsert): with the request (multipart) as "
    "`file`, or uploaded before (createImportUpload, then its PUT) as `uploadId`."
)
class ImportResourcesInput:
    resource: ResourceKind = strawberry.field(description="What the file holds.")
    file: Upload | None = strawberry.field(
        default=None,
        description="The file, as a part of a multipart request (the GraphQL multipart "
        "request spec). Give this or uploadId.",
    )
    upload_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="`upl_...` id of an upload whose file was PUT; the import that writes "
        "from it removes it. Give this or file.",
    )
    format: ResourceFormat | None = strawberry.field(
        default=None, description="CSV or JSON; by default from the file name (.csv, .json)."
    )
    identifier_column: str | None = strawberry.field(
        default=None,
        description="The column that identifies an existing entry: `code` (exchanges), `symbol` "
        "(instruments: with exchange and type), `datastream_id`, `name` (export schemas: with "
        "version; export schedules), `url` (webhooks). Default: that one; any other is "
        "INVALID_ARGUMENT.",
    )
    on_error: ResourceErrorPolicy = strawberry.field(
        default=ResourceErrorPolicy.ABORT, description="What rejected rows do to the import."
    )
    dry_run: bool = strawberry.field(
        default=False, description="Check and count, but write nothing (an upload is kept)."
    )

    def to_domain(self, file: SentFile | None) -> ImportResourcesRequest:
        return ImportResourcesRequest(
            resource=DomainKind(self.resource.name),
            file=file,
            upload_id=str(self.upload_id) if self.upload_id is not None else None,
            format=DomainFormat(self.format.name) if self.format is not None else None,
            identifier_column=self.identifier_column,
            on_error=self.on_error.name,
            dry_run=self.dry_run,
        )
