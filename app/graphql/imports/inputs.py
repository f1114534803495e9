"""GraphQL inputs of uploads and import jobs."""

from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload

from app.graphql.imports.types import ImportErrorPolicy
from app.graphql.scalars import Long


@strawberry.input(description="A file you are about to upload for an import.")
class CreateImportUploadInput:
    filename: str = strawberry.field(
        description="Its name; the suffix says the format: .csv, .jsonl or .parquet, "
        "optionally .gz (CSV and JSON lines)."
    )
    byte_size: Long | None = strawberry.field(
        default=None, description="Its size, if known: refused at once if over the limit."
    )


@strawberry.input(description="Import an uploaded file into a datastream.")
class StartImportInput:
    upload_id: strawberry.ID = strawberry.field(description="`upl_...` id of the upload.")
    datastream_id: strawberry.ID = strawberry.field(
        description="Datastream id (`101` or `ds_101`); it must exist."
    )
    on_error: ImportErrorPolicy = strawberry.field(
        default=ImportErrorPolicy.ABORT, description="What happens to a record that cannot be read."
    )
    force: bool = strawberry.field(
        default=False, description="Store the records even if the same bytes were stored."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry-safe key: the same key returns the same job (1 to 200 characters).",
    )


@strawberry.input(
    description="Import a file sent with this request (a multipart request per the GraphQL "
    "multipart request spec); for large files use createImportUpload."
)
class ImportRecordsInput:
    datastream_id: strawberry.ID = strawberry.field(
        description="Datastream id (`101` or `ds_101`); it must exist."
    )
    file: Upload = strawberry.field(description="The file; its name's suffix gives the format.")
    on_error: ImportErrorPolicy = strawberry.field(
        default=ImportErrorPolicy.ABORT, description="What happens to a record that cannot be read."
    )
    force: bool = strawberry.field(
        default=False, description="Store the records even if the same bytes were stored."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry-safe key: the same key and the same file return the same job.",
    )


@strawberry.input(description="Which import job.")
class ImportJobIdInput:
    id: strawberry.ID = strawberry.field(description="`imp_...` id.")
