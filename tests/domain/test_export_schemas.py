"""A workspace's own export schemas: versions and drafts, names (unique per workspace, never a
built-in's), isolation between workspaces, and the snapshot a job keeps."""

from __future__ import annotations

import csv
import gzip
import io
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ExportSchemaRow, ExportSchemaVersionRow
from app.domain import export_schemas
from app.domain.auth import Principal
from app.domain.errors import ErrorCode
from app.domain.exports import commands
from app.domain.runtime import Runtime
from tests.domain.helpers import artifact_rows, export_request, problems_of, run_job, stored_job
from tests.helpers.inprocess import BOOK, RecordingEffects, Seed

TRADES_DEFINITION: dict[str, Any] = {
    "streamCategory": "trade",
    "description": "Trades with the taker's side",
    "sources": {"bybit_linear": {"unfold": "data"}},
    "columns": [
        {"outputColumn": "ts", "meta": "collection_timestamp_ns", "format": "ns"},
        {
            "outputColumn": "price",
            "data": {
                "binance": {"path": "data.p", "type": "decimal(8)"},
                "bybit_linear": {"path": "data.p", "type": "decimal(8)"},
            },
        },
    ],
}
V2_DEFINITION: dict[str, Any] = {
    **TRADES_DEFINITION,
    "columns": [
        *TRADES_DEFINITION["columns"],
        {"outputColumn": "when", "meta": "collection_timestamp_ns", "format": "iso"},
    ],
}


async def with_session(runtime: Runtime, command: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """One schema command, `command(session, *args)`, in its own session, as a resolver runs it."""
    async with runtime.sessions() as session:
        return await command(session, *args)


async def created(runtime: Runtime, who: Principal, name: str) -> ExportSchemaRow:
    row: ExportSchemaRow = await with_session(
        runtime, export_schemas.create_schema, who, name, TRADES_DEFINITION
    )
    return row


async def columns_of(runtime: Runtime, who: Principal, schema_id: str) -> dict[str, Any]:
    """The view of a schema: latest version, its columns, the draft's, every version's."""

    async def look(session: AsyncSession) -> dict[str, Any]:
        row = await export_schemas.get_row(session, who, schema_id)
        assert row is not None
        seen = await export_schemas.view(session, row)
        return {
            "version": seen.schema.version,
            "columns": seen.schema.column_names(),
            "draft": [c.output_column for c in seen.draft.spec.columns] if seen.draft else None,
            "versions": [v.version for v in seen.versions],
        }

    result: dict[str, Any] = await with_session(runtime, look)
    return result


async def refusal(
    runtime: Runtime, command: Callable[..., Awaitable[Any]], *args: Any
) -> tuple[ErrorCode, tuple[str, ...], str]:
    """The one problem of a schema command that must be refused."""
    async with runtime.sessions() as session:
        [problem] = await problems_of(command(session, *args))
    return problem


async def test_drafts_and_versions(runtime: Runtime, seed: Seed) -> None:
    who = seed.principals["alpha"]
    sid = (await created(runtime, who, "ticks")).id
    assert sid.startswith("sch_")
    assert await columns_of(runtime, who, sid) == {
        "version": 1,
        "columns": ["ts", "price"],
        "draft": None,
        "versions": [1],
    }
    for command in (export_schemas.publish_draft, export_schemas.discard_draft):
        code, field, _ = await refusal(runtime, command, who, sid)
        assert (code, field) == (ErrorCode.FAILED_PRECONDITION, ("input", "id"))
    await with_session(runtime, export_schemas.create_draft, who, sid)
    assert (await columns_of(runtime, who, sid))["draft"] == ["ts", "price"]  # a copy of v1
    code, _, _ = await refusal(runtime, export_schemas.create_draft, who, sid)
    assert code == ErrorCode.CONFLICT  # one draft at a time
    await with_session(runtime, export_schemas.update_draft, who, sid, V2_DEFINITION)
    assert await columns_of(runtime, who, sid) == {
        "version": 1,  # the draft is not published yet
        "columns": ["ts", "price"],
        "draft": ["ts", "price", "when"],
        "versions": [1],
    }
    await with_session(runtime, export_schemas.publish_draft, who, sid)
    assert await columns_of(runtime, who, sid) == {
        "version": 2,
        "columns": ["ts", "price", "when"],
        "draft": None,
        "versions": [1, 2],
    }
    await with_session(runtime, export_schemas.create_draft, who, sid)
    await with_session(runtime, export_schemas.update_draft, who, sid, TRADES_DEFINITION)
    await with_session(runtime, export_schemas.discard_draft, who, sid)
    assert await columns_of(runtime, who, sid) == {
        "version": 2,
        "columns": ["ts", "price", "when"],
        "draft": None,
        "versions": [1, 2],
    }


async def test_an_invalid_draft_is_refused_at_its_field_and_kept_as_it_was(
    runtime: Runtime, seed: Seed
) -> None:
    who = seed.principals["alpha"]
    sid = (await created(runtime, who, "ticks")).id
    await with_session(runtime, export_schemas.create_draft, who, sid)
    broken = {**TRADES_DEFINITION, "columns": []}
    code, field, _ = await refusal(runtime, export_schemas.update_draft, who, sid, broken)
    assert code == ErrorCode.INVALID_ARGUMENT and field[:3] == ("input", "definition", "columns")
    assert (await columns_of(runtime, who, sid))["draft"] == ["ts", "price"]


async def test_names_are_unique_per_workspace_and_never_a_builtins(
    runtime: Runtime, seed: Seed
) -> None:
    alpha, beta = seed.principals["alpha"], seed.principals["beta"]
    first = await created(runtime, alpha, "ticks")
    code, field, message = await refusal(
        runtime, export_schemas.create_schema, alpha, "ticks", TRADES_DEFINITION
    )
    assert (code, field) == (ErrorCode.CONFLICT, ("input", "name")) and "ticks" in message
    assert (await created(runtime, beta, "ticks")).id != first.id  # another workspace may
    for name in ("raw", "normalized"):
        code, field, message = await refusal(
            runtime, export_schemas.create_schema, alpha, name, TRADES_DEFINITION
        )
        assert (code, field) == (ErrorCode.CONFLICT, ("input", "name"))
        assert "built-in" in message
    for name in ("", "1st", "with space", "x" * 64):
        code, field, _ = await refusal(
            runtime, export_schemas.create_schema, alpha, name, TRADES_DEFINITION
        )
        assert (code, field) == (ErrorCode.INVALID_ARGUMENT, ("input", "name")), name


async def test_rename_keeps_the_id_and_frees_the_old_name(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    who = seed.principals["alpha"]
    sid = (await created(runtime, who, "old_name")).id
    await created(runtime, who, "taken")
    renamed = await with_session(runtime, export_schemas.rename, who, sid, "new_name")
    assert (renamed.id, renamed.name) == (sid, "new_name")
    for name, code in (("taken", ErrorCode.CONFLICT), ("raw", ErrorCode.CONFLICT)):
        got, field, _ = await refusal(runtime, export_schemas.rename, who, sid, name)
        assert (got, field) == (code, ("input", "name")), name
    # By the old name it is gone; by the new name or its id it is found.
    [(code, field, message)] = await problems_of(
        commands.create_export(runtime, who, export_request(schema="old_name"))
    )
    assert (code, field, message) == (
        ErrorCode.NOT_FOUND,
        ("input", "schema"),
        "no export schema 'old_name'",
    )
    for reference in ("new_name", sid):
        job, _ = await commands.create_export(runtime, who, export_request(schema=reference))
        assert (job.schema_id, job.schema_version, job.schema_name) == (sid, 1, "new_name")
    again = await created(runtime, who, "old_name")  # the old name is free again
    assert again.id != sid


async def test_another_workspace_cannot_see_or_use_a_schema(
    runtime: Runtime, effects: RecordingEffects, seed: Seed
) -> None:
    alpha, beta = seed.principals["alpha"], seed.principals["beta"]
    sid = (await created(runtime, alpha, "private")).id
    async with runtime.sessions() as session:
        assert await export_schemas.get_row(session, beta, sid) is None
        assert await export_schemas.row_by_name(session, beta, "private") is None
        assert await export_schemas.list_rows(session, beta, None) == []
        assert [r.id for r in await export_schemas.list_rows(session, alpha, "trade")] == [sid]
    for command in (
        export_schemas.create_draft,
        export_schemas.publish_draft,
        export_schemas.discard_draft,
        export_schemas.delete,
    ):
        code, field, _ = await refusal(runtime, command, beta, sid)
        assert (code, field) == (ErrorCode.NOT_FOUND, ("input", "id")), command.__name__
    code, field, _ = await refusal(runtime, export_schemas.rename, beta, sid, "mine")
    assert (code, field) == (ErrorCode.NOT_FOUND, ("input", "id"))
    for reference in ("private", sid):
        [(code, field, _)] = await problems_of(
            commands.create_export(runtime, beta, export_request(schema=reference))
        )
        assert (code, field) == (ErrorCode.NOT_FOUND, ("input", "schema"))
    assert (await columns_of(runtime, alpha, sid))["versions"] == [1]  # untouched
    assert effects.woken == []


async def test_a_trade_schema_is_refused_for_a_book_datastream(
    runtime: Runtime, seed: Seed
) -> None:
    who = seed.principals["alpha"]
    await created(runtime, who, "ticks")
    [(code, field, message)] = await problems_of(
        commands.create_export(
            runtime, who, export_request(schema="ticks", datastream_id=str(BOOK.id))
        )
    )
    assert (code, field) == (ErrorCode.INVALID_ARGUMENT, ("input", "schema"))
    assert "is for trade data" in message


def csv_header(runtime: Runtime, path: str) -> list[str]:
    text = gzip.decompress((runtime.settings.storage_dir / path).read_bytes()).decode()
    return next(csv.reader(io.StringIO(text)))


async def test_a_job_keeps_its_version_through_publish_and_delete(
    runtime: Runtime, seed: Seed
) -> None:
    """The snapshot rule: what a job exports is fixed when it is created."""
    who = seed.principals["alpha"]
    sid = (await created(runtime, who, "ticks")).id
    before, _ = await commands.create_export(runtime, who, export_request(schema="ticks"))
    await with_session(runtime, export_schemas.create_draft, who, sid)
    await with_session(runtime, export_schemas.update_draft, who, sid, V2_DEFINITION)
    await with_session(runtime, export_schemas.publish_draft, who, sid)
    after, _ = await commands.create_export(runtime, who, export_request(schema=sid))
    assert (before.schema_version, after.schema_version) == (1, 2)
    assert await with_session(runtime, export_schemas.delete, who, sid) == sid
    async with runtime.sessions() as session:
        assert await export_schemas.get_row(session, who, sid) is None
    for job, header in ((before, ["ts", "price"]), (after, ["ts", "price", "when"])):
        await run_job(runtime, job.id)
        assert (await stored_job(runtime, job.id)).status == "SUCCEEDED"
        [artifact] = await artifact_rows(runtime, job.id)
        assert csv_header(runtime, artifact.path) == header
    code, field, _ = await refusal(runtime, export_schemas.delete, who, sid)
    assert (code, field) == (ErrorCode.NOT_FOUND, ("input", "id"))


@pytest.mark.parametrize("reference", ["raw", "normalized"])
async def test_builtins_resolve_without_a_row(runtime: Runtime, seed: Seed, reference: str) -> None:
    async with runtime.sessions() as session:
        found = await export_schemas.resolve_for_export(
            session, seed.principals["beta"], reference, None, None
        )
    assert found.builtin and found.name == reference and found.id is None


async def test_delete_removes_the_schema_and_every_version(runtime: Runtime, seed: Seed) -> None:
    who = seed.principals["alpha"]
    sid = (await created(runtime, who, "ticks")).id
    await with_session(runtime, export_schemas.create_draft, who, sid)
    await with_session(runtime, export_schemas.publish_draft, who, sid)
    await with_session(runtime, export_schemas.delete, who, sid)
    async with runtime.sessions() as session:
        left = await session.scalars(
            select(ExportSchemaVersionRow).where(ExportSchemaVersionRow.schema_id == sid)
        )
        assert list(left) == []
        assert await export_schemas.row_by_name(session, who, "ticks") is None
    await created(runtime, who, "ticks")  # the name is free again


async def test_delete_runs_without_warnings(runtime: Runtime, seed: Seed) -> None:
    who = seed.principals["alpha"]
    sid = (await created(runtime, who, "ticks")).id
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        await with_session(runtime, export_schemas.delete, who, sid)
