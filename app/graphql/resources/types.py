"""GraphQL types of resource files: what can be exported and imported, the exported file, and
what an import did."""

from __future__ import annotations

from enum import Enum

import strawberry

from app.domain.resources.commands import ImportOutcome, ResourceFile
from app.graphql.errors import UserError


@strawberry.enum(
    description="What can be exported to a file and imported from one, to back up, rebuild or "
    "clone a gateway. Files name things as every gateway does (exchange codes, symbols, "
    "datastream ids, schema names), never by internal ids."
)
class ResourceKind(Enum):
    EXCHANGES = strawberry.enum_value(
        "EXCHANGES",
        description="The catalog's exchanges. Columns: code, display_name. Identified by code.",
    )
    INSTRUMENTS = strawberry.enum_value(
        "INSTRUMENTS",
        description="The catalog's instruments. Columns: exchange, symbol, base, quote, type, "
        "archived. Identified by exchange, symbol and type (identifierColumn `symbol`).",
    )
    DATASTREAMS = strawberry.enum_value(
        "DATASTREAMS",
        description="The catalog's datastreams. Columns: datastream_id, exchange, symbol, "
        "instrument_type (the instrument's), stream_type, wire_format, source. Identified by "
        "datastream_id.",
    )
    EXPORT_SCHEMAS = strawberry.enum_value(
        "EXPORT_SCHEMAS",
        description="Your workspace's export schemas, one row per published version. Columns: "
        "name, version, stream_category, description, definition (the schema language's JSON). "
        "Identified by name and version (identifierColumn `name`).",
    )
    EXPORT_SCHEDULES = strawberry.enum_value(
        "EXPORT_SCHEDULES",
        description="Your workspace's export schedules. Columns: name, status (ACTIVE or "
        "PAUSED), every, period_start, timezone, delay, catch_up, export (the template as "
        "exportSchedule shows it: JSON, as JSON text in CSV), next_period_start (the next "
        "period to export). Identified by name; a name several schedules share is rejected. "
        "Rows are checked as createExportSchedule (updateExportSchedule) checks its input; "
        "status pauses or resumes. A schedule created from a row with next_period_start "
        "starts there: periods before it are not exported (again). Importing needs MEMBER.",
    )
    WEBHOOKS = strawberry.enum_value(
        "WEBHOOKS",
        description="Your workspace's webhooks. Columns: url, events (a JSON array of names "
        "as `webhooks` shows them, EXPORT_SUCCEEDED, or as webhook bodies do, "
        "export.succeeded; in CSV its JSON text or names separated by commas), description, "
        "enabled. Identified by "
        "url; a url several webhooks share is rejected. Secrets are never exported: a new "
        "webhook gets the optional `secret` column's value, else a generated secret to read "
        "with updateWebhook(rotateSecret: true); an existing one keeps its secret. URLs are "
        "checked as createWebhook checks them. Importing needs ADMIN.",
    )


@strawberry.enum(description="The format of a resource file.")
class ResourceFormat(Enum):
    CSV = strawberry.enum_value(
        "CSV",
        description="UTF-8 CSV with a header row; JSON values (definitions, templates, event "
        "lists) as JSON text in "
        "their cells. Importing ignores columns it does not know.",
    )
    JSON = strawberry.enum_value(
        "JSON", description="A JSON array of objects, one per row, keyed by column."
    )


@strawberry.enum(description="What an import does when rows are rejected.")
class ResourceErrorPolicy(Enum):
    ABORT = strawberry.enum_value(
        "ABORT",
        description="Write nothing if any row is rejected; every rejection is still reported.",
    )
    SKIP = strawberry.enum_value(
        "SKIP", description="Write the good rows, leave the rejected ones out and report them."
    )


@strawberry.type(description="Resources as a file.")
class ResourceExport:
    filename: str | None = strawberry.field(
        default=None, description="A name for the file, e.g. `instruments.csv`; null on error."
    )
    content_type: str | None = strawberry.field(
        default=None, description="Its media type, e.g. `text/csv; charset=utf-8`."
    )
    row_count: int | None = strawberry.field(
        default=None, description="Rows in the file (header not counted)."
    )
    content: str | None = strawberry.field(default=None, description="The file itself.")
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why there is no file (a filter too long, too many rows)."
    )

    @classmethod
    def from_file(cls, file: ResourceFile) -> ResourceExport:
        return cls(
            filename=file.filename,
            content_type=file.content_type,
            row_count=file.row_count,
            content=file.content,
        )


@strawberry.type(description="A row of an imported file that was not imported, and why.")
class ResourceRejection:
    line: int = strawberry.field(
        description="CSV: the line in the file (the header is line 1, the first row line 2). "
        "JSON: the object's position in the array, from 1."
    )
    field: str | None = strawberry.field(
        description="The column at fault; null when the row as a whole is."
    )
    reason: str = strawberry.field(description="What is wrong.")


@strawberry.type(description="Result of importResources.")
class ImportResourcesPayload:
    created: int = strawberry.field(default=0, description="Rows that created an entry.")
    updated: int = strawberry.field(default=0, description="Rows that changed an entry.")
    unchanged: int = strawberry.field(
        default=0, description="Rows equal to the entry they identify."
    )
    rejected_rows: int = strawberry.field(
        default=0,
        description="Rows not imported (all of them when the header lacks a required column).",
    )
    rejected: list[ResourceRejection] = strawberry.field(
        default_factory=list,
        description="Why, ordered by line, one entry per problem; at most the first 1,000.",
    )
    applied: bool = strawberry.field(
        default=False,
        description="Whether the changes were saved: false for a dry run, for ABORT when a row "
        "was rejected, and on userErrors.",
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Why the file could not be imported at all (role, not UTF-8, not a JSON "
        "array, too large, a bad upload).",
    )

    @classmethod
    def from_outcome(cls, outcome: ImportOutcome) -> ImportResourcesPayload:
        return cls(
            created=outcome.created,
            updated=outcome.updated,
            unchanged=outcome.unchanged,
            rejected_rows=outcome.rejected_rows,
            rejected=[
                ResourceRejection(line=r.line, field=r.column, reason=r.reason)
                for r in outcome.rejections
            ],
            applied=outcome.applied,
        )
