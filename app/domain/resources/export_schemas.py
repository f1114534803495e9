"""A workspace's export schemas as files: one row per published version, so that every
version comes back with its number (jobs and clients pin them). Drafts are not exported.

Importing never rewrites history: a version that exists must be identical (else the row is
rejected), and a new version must be the schema's next number; a schema that does not exist
starts at version 1. Rows are applied in the order of names and versions, whatever the file's.
Definitions are checked by the rules of `export_schemas` (createExportSchema's)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import ExportSchemaRow, ExportSchemaVersionRow
from app.domain import export_schemas
from app.domain.auth import Principal, Role
from app.domain.errors import DomainError
from app.domain.export_schemas import SchemaSpec
from app.domain.resources.model import (
    ExportFilter,
    Outcome,
    Record,
    Resource,
    ResourceKind,
    Row,
)
from app.domain.resources.values import RowReader
from engine.strict import StrictParseError, parse_int64

MAX_VERSION = 2**31 - 1  # an INTEGER column
PLACEHOLDER_NAME = "imported"  # checks a definition whose row names no valid schema


def definition(spec: dict[str, Any]) -> dict[str, Any]:
    """A version's spec without its name: the name is a column of its own (and a stored
    version keeps the name it was published under, renames notwithstanding)."""
    return {k: v for k, v in spec.items() if k != "name"}


async def schema_rows(session: AsyncSession, who: Principal, where: ExportFilter) -> list[Row]:
    """The caller's workspace's schemas, every published version, ordered by name and
    version; the filter matches part of the name."""
    query = (
        select(ExportSchemaRow.name, ExportSchemaVersionRow.version, ExportSchemaVersionRow.spec)
        .join(ExportSchemaVersionRow, ExportSchemaVersionRow.schema_id == ExportSchemaRow.id)
        .where(ExportSchemaRow.workspace_id == who.workspace_id)
    )
    if where.text:
        query = query.where(ExportSchemaRow.name.icontains(where.text, autoescape=True))
    query = query.order_by(ExportSchemaRow.name, ExportSchemaVersionRow.version)
    found = await session.execute(query.limit(where.limit))
    return [
        {
            "name": name,
            "version": version,
            "stream_category": spec.get("streamCategory"),
            "description": spec.get("description", ""),
            "definition": definition(spec),
        }
        for name, version, spec in found
    ]


class SchemaImporter:
    def __init__(
        self,
        session: AsyncSession,
        who: Principal,
        schemas: dict[str, ExportSchemaRow],
        published: dict[str, dict[int, dict[str, Any]]],
    ) -> None:
        self.session, self.who = session, who
        self.schemas = schemas
        self.published = published  # name -> version -> definition

    @classmethod
    async def load(
        cls, session: AsyncSession, who: Principal, settings: Settings
    ) -> SchemaImporter:
        rows = await export_schemas.list_rows(session, who, None)
        published: dict[str, dict[int, dict[str, Any]]] = {}
        for row in rows:
            published[row.name] = {
                v.version: _canonical(v.spec) for v in await export_schemas.versions(session, row)
            }
        return cls(session, who, {r.name: r for r in rows}, published)

    async def apply(self, record: Record) -> Outcome:
        cells = RowReader(record)
        name = _checked_name(cells)
        version = cells.positive_integer("version", MAX_VERSION)
        spec = _checked_spec(cells, name)
        versions = self.published.get(name, {})
        if spec is not None and version is not None:
            _check_version(cells, name, version, versions, definition(spec.dump()))
        cells.done()
        assert spec is not None and version is not None
        if version in versions:
            return Outcome.UNCHANGED
        self._publish(name, spec)
        return Outcome.CREATED

    def _publish(self, name: str, spec: SchemaSpec) -> None:
        existing = self.schemas.get(name)
        if existing is None:
            self.schemas[name] = export_schemas.add_schema(self.session, self.who, name, spec)
        else:
            export_schemas.add_version(self.session, existing, spec.dump())
        versions = self.published.setdefault(name, {})
        versions[len(versions) + 1] = definition(spec.dump())


def _checked_name(cells: RowReader) -> str:
    name = cells.text("name")
    if name:
        try:
            export_schemas.checked_name(name, "name")
        except DomainError as exc:
            cells.domain_problems(exc.errors, {})
    return name


def _checked_spec(cells: RowReader, name: str) -> SchemaSpec | None:
    """The definition, checked as createExportSchema checks it; the columns stream_category
    and description, when filled in, must say what it says."""
    given = cells.json_object("definition")
    if given is None:
        return None
    valid_name = name if not any(c == "name" for c, _ in cells.problems) and name else None
    try:
        spec = export_schemas.checked_definition(
            given, valid_name or PLACEHOLDER_NAME, "definition"
        )
    except DomainError as exc:
        for problem in exc.errors:
            where = ".".join(problem.field[1:])
            cells.problem("definition", f"{where}: {problem.message}" if where else problem.message)
        return None
    for column, value in (
        ("stream_category", spec.stream_category),
        ("description", spec.description),
    ):
        stated = cells.optional_text(column)
        if isinstance(stated, str) and stated != value:
            cells.problem(column, f"{column} is {stated!r}; the definition says {value!r}")
    return spec


def _check_version(
    cells: RowReader,
    name: str,
    version: int,
    versions: dict[int, dict[str, Any]],
    wanted: dict[str, Any],
) -> None:
    if version in versions:
        if versions[version] != wanted:
            cells.problem(
                "definition",
                f"version {version} of {name} is published and cannot change; import the new "
                f"definition as version {len(versions) + 1}",
            )
        return
    if version != len(versions) + 1:
        has = f"has versions 1 to {len(versions)}" if versions else "is new"
        cells.problem(
            "version", f"{name} {has}: the next version is {len(versions) + 1}, not {version}"
        )


def _canonical(spec: dict[str, Any]) -> dict[str, Any]:
    """A stored version as a definition with every default spelled out, as a checked
    definition is (stored by an earlier release, it may lack a later default)."""
    try:
        return definition(SchemaSpec.model_validate(spec).dump())
    except ValueError:  # not valid today: compared as stored (and so never equal)
        return definition(spec)


def _in_version_order(records: list[Record]) -> list[Record]:
    """By name, then version (rows whose name or version cannot be read keep their place
    relative to each other and come first; they are rejected anyway)."""

    def key(record: Record) -> tuple[str, int]:
        name = record.values.get("name")
        try:
            version = parse_int64(record.values.get("version"), minimum=1, signed=False)
        except StrictParseError:
            version = 0
        return (name if isinstance(name, str) else "", version)

    return sorted(records, key=key)


EXPORT_SCHEMAS = Resource(
    kind=ResourceKind.EXPORT_SCHEMAS,
    columns=("name", "version", "stream_category", "description", "definition"),
    required=("name", "version", "definition"),
    identifier="name",
    identity="each row is the version `version` of the schema of that name",
    import_role=Role.MEMBER,
    rows=schema_rows,
    importer=SchemaImporter.load,
    ordered=_in_version_order,
)
