"""Export schemas: built-ins (data files in the schema language) and each workspace's own,
with immutable published versions and at most one draft at a time."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import DatastreamRow, ExportSchemaRow, ExportSchemaVersionRow
from app.domain.auth import Principal, Role, require
from app.domain.errors import DomainError, ErrorCode, Problem, user_error
from app.ids import id_prefix, new_id
from engine.export_schema import MissingMapping, SchemaError, compile_schema
from engine.export_schema.spec import SchemaSpec as SchemaSpec  # what a view holds
from engine.export_schema.spec import SpecInvalid, load_spec
from engine.logical import SourceContext
from engine.timestamps import now_ns

BUILTIN_DIR = Path(__file__).parent / "builtin_schemas"
ANY_CATEGORY = "any"
_ID_RE = re.compile(r"^sch_[0-9a-f]{32}$")


@dataclass(frozen=True)
class ExportSchemaDef:
    """A schema as the API shows it: a built-in, or a custom one at some version."""

    name: str
    spec: SchemaSpec
    builtin: bool = True
    id: str | None = None
    version: int | None = None

    @property
    def description(self) -> str:
        return self.spec.description

    @property
    def stream_category(self) -> str:
        return self.spec.stream_category

    def column_names(self) -> list[str]:
        return [c.output_column for c in self.spec.columns]

    def snapshot(self) -> dict[str, Any]:
        """What a job stores: the resolved spec, under the name it was resolved by."""
        return self.spec.dump() | {"name": self.name}


def category_matches(category: str, stream_type: str) -> bool:
    """`trade` schemas apply to `trades` datastreams, `book` to `book`; `any` to all."""
    return category == ANY_CATEGORY or stream_type in (category, category + "s")


@lru_cache
def builtin_schemas() -> tuple[ExportSchemaDef, ...]:
    return tuple(
        ExportSchemaDef(spec.name, spec)
        for spec in (
            load_spec(json.loads(path.read_text())) for path in sorted(BUILTIN_DIR.glob("*.json"))
        )
    )


def builtin_names() -> set[str]:
    return {s.name for s in builtin_schemas()}


def builtin_for(name: str, stream_type: str | None) -> ExportSchemaDef | None:
    """A built-in by name; a name shared by several categories picks the datastream's."""
    named = [s for s in builtin_schemas() if s.name == name]
    if stream_type is not None:
        named.sort(key=lambda s: not category_matches(s.stream_category, stream_type))
    return named[0] if named else None


# -- validation -----------------------------------------------------------------------------


def checked_definition(definition: dict[str, Any], name: str, field: str) -> SchemaSpec:
    """Validate a schema definition; every problem is a user error at its exact field."""
    try:
        spec = load_spec(definition | {"name": name})
    except SpecInvalid as exc:
        raise DomainError(
            [
                Problem(
                    ErrorCode.INVALID_ARGUMENT, tuple(f"{field}.{i.field}".split(".")), i.message
                )
                for i in exc.issues
            ]
        ) from None
    # Binding to each source catches what only shows per source (a path read two ways, `$`
    # without an unfold), so a saved schema never fails at run time for these reasons.
    errors = []
    for key in sorted(spec.source_keys()):
        # `bybit_linear` binds as exchange bybit, market linear (lookups try the joined key
        # first, so an exchange code with "_" in it binds to itself just the same).
        exchange, _, market = key.partition("_")
        try:
            compile_schema(spec, SourceContext(exchange, "", 0, market))
        except MissingMapping:
            pass  # a source only some columns map: checked when an export names a datastream
        except SchemaError as exc:
            errors.append(
                Problem(ErrorCode.INVALID_ARGUMENT, (*field.split("."), "sources", key), str(exc))
            )
    if errors:
        raise DomainError(errors)
    return spec


def checked_name(name: str, field: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
        raise user_error(
            ErrorCode.INVALID_ARGUMENT,
            field,
            "a schema name is 1-63 letters, digits and _, not starting with a digit",
        )
    if name in builtin_names():
        raise user_error(ErrorCode.CONFLICT, field, f"{name!r} is a built-in schema's name")
    return name


# -- lifecycle ------------------------------------------------------------------------------


async def create_schema(
    session: AsyncSession, who: Principal, name: str, definition: dict[str, Any]
) -> ExportSchemaRow:
    require(who, Role.MEMBER, ("input",))
    checked_name(name, "input.name")
    spec = checked_definition(definition, name, "input.definition")
    row = add_schema(session, who, name, spec)
    await _commit_unique_name(session, name)
    return row


def add_schema(
    session: AsyncSession, who: Principal, name: str, spec: SchemaSpec
) -> ExportSchemaRow:
    """A new schema of the caller's workspace with `spec` (checked) as version 1, added to
    the session; the caller commits."""
    now = now_ns()
    row = ExportSchemaRow(
        id=new_id("export_schema"),
        workspace_id=who.workspace_id,
        name=name,
        stream_category=spec.stream_category,
        latest_version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.add(
        ExportSchemaVersionRow(schema_id=row.id, version=1, spec=spec.dump(), created_at=now)
    )
    return row


def add_version(session: AsyncSession, row: ExportSchemaRow, spec: dict[str, Any]) -> None:
    """Publish `spec` (a checked spec's dump) as the schema's next version, added to the
    session; the caller commits (a concurrent publish of the same number breaks a key)."""
    now = now_ns()
    row.latest_version += 1
    row.stream_category = spec["streamCategory"]
    session.add(
        ExportSchemaVersionRow(
            schema_id=row.id, version=row.latest_version, spec=spec, created_at=now
        )
    )
    row.updated_at = now


async def _commit_unique_name(session: AsyncSession, name: str) -> None:
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise user_error(
            ErrorCode.CONFLICT, "input.name", f"you already have a schema named {name!r}"
        ) from None


async def get_row(session: AsyncSession, who: Principal, schema_id: str) -> ExportSchemaRow | None:
    if not _ID_RE.match(schema_id):
        return None
    row = await session.get(ExportSchemaRow, schema_id)
    return row if row is not None and row.workspace_id == who.workspace_id else None


async def row_by_name(session: AsyncSession, who: Principal, name: str) -> ExportSchemaRow | None:
    return await session.scalar(
        select(ExportSchemaRow).where(
            ExportSchemaRow.workspace_id == who.workspace_id, ExportSchemaRow.name == name
        )
    )


async def _owned(session: AsyncSession, who: Principal, schema_id: str) -> ExportSchemaRow:
    """A schema of the caller's workspace that the caller may change."""
    require(who, Role.MEMBER, ("input",))
    row = await get_row(session, who, schema_id)
    if row is None:
        raise user_error(ErrorCode.NOT_FOUND, "input.id", f"no export schema {schema_id}")
    return row


async def versions(session: AsyncSession, row: ExportSchemaRow) -> list[ExportSchemaVersionRow]:
    found = await session.scalars(
        select(ExportSchemaVersionRow)
        .where(ExportSchemaVersionRow.schema_id == row.id)
        .order_by(ExportSchemaVersionRow.version)
    )
    return list(found)


@dataclass(frozen=True)
class SchemaDraft:
    updated_at: int
    spec: SchemaSpec


@dataclass(frozen=True)
class SchemaVersion:
    version: int
    created_at: int
    spec: SchemaSpec


@dataclass(frozen=True)
class SchemaView:
    """A schema as the API shows it: its latest published contents, the open draft (custom
    schemas only) and every published version, oldest first."""

    schema: ExportSchemaDef
    draft: SchemaDraft | None = None
    versions: tuple[SchemaVersion, ...] = ()


async def view(session: AsyncSession, row: ExportSchemaRow) -> SchemaView:
    latest = await version_def(session, row)
    assert latest is not None, "a custom schema always has a published version"
    draft = None
    if row.draft_spec is not None:
        draft = SchemaDraft(row.draft_updated_at or row.updated_at, load_spec(row.draft_spec))
    published = tuple(
        SchemaVersion(v.version, v.created_at, load_spec(v.spec))
        for v in await versions(session, row)
    )
    return SchemaView(latest, draft, published)


async def version_def(
    session: AsyncSession, row: ExportSchemaRow, version: int | None = None
) -> ExportSchemaDef | None:
    number = row.latest_version if version is None else version
    stored = await session.get(ExportSchemaVersionRow, (row.id, number))
    if stored is None:
        return None
    return ExportSchemaDef(row.name, load_spec(stored.spec), False, row.id, number)


async def create_draft(session: AsyncSession, who: Principal, schema_id: str) -> ExportSchemaRow:
    row = await _owned(session, who, schema_id)
    if row.draft_spec is not None:
        raise user_error(
            ErrorCode.CONFLICT, "input.id", "a draft exists: update, publish or discard it"
        )
    latest = await session.get(ExportSchemaVersionRow, (row.id, row.latest_version))
    assert latest is not None
    row.draft_spec = latest.spec
    row.draft_updated_at = row.updated_at = now_ns()
    await session.commit()
    return row


async def update_draft(
    session: AsyncSession, who: Principal, schema_id: str, definition: dict[str, Any]
) -> ExportSchemaRow:
    row = await _draft_owner(session, who, schema_id)
    row.draft_spec = checked_definition(definition, row.name, "input.definition").dump()
    row.draft_updated_at = row.updated_at = now_ns()
    await session.commit()
    return row


async def publish_draft(session: AsyncSession, who: Principal, schema_id: str) -> ExportSchemaRow:
    row = await _draft_owner(session, who, schema_id)
    assert row.draft_spec is not None
    add_version(session, row, row.draft_spec)
    row.draft_spec = row.draft_updated_at = None
    try:
        await session.commit()
    except IntegrityError:  # a concurrent publish took this version number
        await session.rollback()
        raise user_error(
            ErrorCode.CONFLICT, "input.id", "the draft was published concurrently"
        ) from None
    return row


async def discard_draft(session: AsyncSession, who: Principal, schema_id: str) -> ExportSchemaRow:
    row = await _draft_owner(session, who, schema_id)
    row.draft_spec = row.draft_updated_at = None
    row.updated_at = now_ns()
    await session.commit()
    return row


async def _draft_owner(session: AsyncSession, who: Principal, schema_id: str) -> ExportSchemaRow:
    row = await _owned(session, who, schema_id)
    if row.draft_spec is None:
        raise user_error(
            ErrorCode.FAILED_PRECONDITION,
            "input.id",
            "this schema has no draft: createExportSchemaDraft first",
        )
    return row


async def rename(
    session: AsyncSession, who: Principal, schema_id: str, name: str
) -> ExportSchemaRow:
    row = await _owned(session, who, schema_id)
    row.name = checked_name(name, "input.name")
    row.updated_at = now_ns()
    await _commit_unique_name(session, name)
    return row


async def delete(session: AsyncSession, who: Principal, schema_id: str) -> str:
    """Jobs keep their snapshots, so deleting a schema never changes an export."""
    row = await _owned(session, who, schema_id)
    # Versions first, in SQL: the ORM knows no relationship between the two tables.
    await session.execute(
        sql_delete(ExportSchemaVersionRow).where(ExportSchemaVersionRow.schema_id == row.id)
    )
    await session.delete(row)
    await session.commit()
    return schema_id


async def list_rows(
    session: AsyncSession, who: Principal, stream_category: str | None
) -> list[ExportSchemaRow]:
    query = select(ExportSchemaRow).where(ExportSchemaRow.workspace_id == who.workspace_id)
    if stream_category is not None:
        query = query.where(ExportSchemaRow.stream_category == stream_category)
    return list(await session.scalars(query.order_by(ExportSchemaRow.name)))


# -- resolution for createExport --------------------------------------------------------------


async def resolve_for_export(
    session: AsyncSession,
    who: Principal,
    reference: str | None,
    inline: dict[str, Any] | None,
    datastream: DatastreamRow | None,
    where: str = "input.",
) -> ExportSchemaDef:
    """`schema` (built-in name, custom name, or sch_ id) or `inlineSchema`, exactly one.
    `where` prefixes the problems' fields: `input.` for an input object, empty for the
    arguments of a query."""
    if (reference is None) == (inline is None):
        raise user_error(
            ErrorCode.INVALID_ARGUMENT,
            f"{where}schema",
            "give exactly one of schema and inlineSchema",
        )
    if inline is not None:
        name = inline.get("name") or "inline"
        spec = checked_definition(inline, name, f"{where}inlineSchema")
        return ExportSchemaDef(name, spec, builtin=False)
    assert reference is not None
    stream_type = datastream.stream_type if datastream is not None else None
    found = builtin_for(reference, stream_type)
    if found is None:
        row = (
            await get_row(session, who, reference)
            if id_prefix(reference) == "sch"
            else await row_by_name(session, who, reference)
        )
        found = await version_def(session, row) if row is not None else None
    if found is None:
        raise user_error(ErrorCode.NOT_FOUND, f"{where}schema", f"no export schema {reference!r}")
    return found


def applicability_errors(
    schema: ExportSchemaDef, datastream: DatastreamRow, market: str, field: str
) -> list[Problem]:
    if not category_matches(schema.stream_category, datastream.stream_type):
        return [
            Problem(
                ErrorCode.INVALID_ARGUMENT,
                tuple(field.split(".")),
                f"schema {schema.name!r} is for {schema.stream_category} data; datastream "
                f"{datastream.id} has {datastream.stream_type}",
            )
        ]
    if not schema.spec.supports(datastream.exchange_code, market):
        return [
            Problem(
                ErrorCode.INVALID_ARGUMENT,
                tuple(field.split(".")),
                f"schema {schema.name!r} has no mapping for {datastream.exchange_code!r} "
                f"(market {market!r})",
            )
        ]
    return []
