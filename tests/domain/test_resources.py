"""Backup and migration: the catalog and a workspace's export schemas exported as CSV or JSON
and imported into another store unchanged; imports upsert (created, updated, unchanged),
ABORT writes nothing, SKIP writes the good rows, every rejection names its line and column,
a dry run writes nothing, and an upload is consumed by the import that writes from it."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.db.migrate import upgrade
from app.db.models import ExchangeRow, ImportUploadRow, InstrumentRow
from app.domain import catalog_admin, export_schemas
from app.domain.auth import Principal, Role, create_api_key, create_workspace
from app.domain.catalog_admin import (
    DatastreamChanges,
    DatastreamRegistration,
    InstrumentChanges,
    InstrumentRegistration,
)
from app.domain.errors import DomainError, ErrorCode
from app.domain.imports import uploads
from app.domain.resources import commands, formats
from app.domain.resources.commands import (
    ImportOutcome,
    ImportResourcesRequest,
    ResourceFile,
    SentFile,
)
from app.domain.resources.formats import ResourceFormat
from app.domain.resources.model import ExportFilter, ResourceKind
from app.domain.runtime import NO_EFFECTS, Runtime
from tests.domain.helpers import problems_of, runtime_for, settings_with
from tests.helpers.inprocess import RecordingEffects, Seed, settings_for

EXCHANGES, INSTRUMENTS = ResourceKind.EXCHANGES, ResourceKind.INSTRUMENTS
DATASTREAMS, SCHEMAS = ResourceKind.DATASTREAMS, ResourceKind.EXPORT_SCHEMAS
CATALOG = (EXCHANGES, INSTRUMENTS, DATASTREAMS)  # in the order a store is rebuilt
DEFINITION: dict[str, Any] = {
    "streamCategory": "trade",
    "description": "Prices",
    "columns": [
        {"outputColumn": "ts", "meta": "collection_timestamp_ns", "format": "ns"},
        {"outputColumn": "price", "data": {"binance": {"path": "data.p", "type": "decimal(8)"}}},
    ],
}
V2: dict[str, Any] = {
    **DEFINITION,
    "columns": [*DEFINITION["columns"], {"outputColumn": "raw", "meta": "data"}],
}
INSTRUMENT_HEADER = "exchange,symbol,base,quote,type,archived\n"


@dataclass(frozen=True)
class Store:
    runtime: Runtime
    admin: Principal


@pytest.fixture
def seeded(runtime: Runtime, seed: Seed) -> Store:
    """The seed's store: binance and bybit, BTCUSDT spot and linear, datastreams 601 602 604."""
    return Store(runtime, seed.principals["alpha"])


@pytest.fixture
async def fresh(tmp_path: Path) -> AsyncIterator[Store]:
    """Another gateway's store: migrated, one workspace, nothing in the catalog."""
    settings = settings_for(tmp_path / "fresh")
    await asyncio.to_thread(upgrade, settings)
    runtime = Runtime.create(settings, NO_EFFECTS)
    with runtime.sync_sessions() as session:
        workspace = create_workspace(session, "gamma")
        key, _token = create_api_key(session, workspace.id, "tests", Role.ADMIN)
        session.commit()
        admin = Principal(workspace.id, key.id, Role.ADMIN)
    yield Store(runtime, admin)
    await runtime.dispose()


async def exported(
    store: Store,
    kind: ResourceKind,
    format: ResourceFormat = ResourceFormat.CSV,
    who: Principal | None = None,
    **where: Any,
) -> ResourceFile:
    async with store.runtime.sessions() as session:
        return await commands.export_resources(
            session, who or store.admin, kind, format, ExportFilter(**where)
        )


async def imported(
    store: Store,
    kind: ResourceKind,
    content: str | bytes,
    filename: str = "file.csv",
    who: Principal | None = None,
    **options: Any,
) -> ImportOutcome:
    data = content.encode() if isinstance(content, str) else content
    request = ImportResourcesRequest(kind, file=SentFile(filename, io.BytesIO(data)), **options)
    return await commands.import_resources(store.runtime, who or store.admin, request)


def csv_text(*rows: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def counts(outcome: ImportOutcome) -> tuple[int, int, int, int]:
    return (outcome.created, outcome.updated, outcome.unchanged, outcome.rejected_rows)


def rejections(outcome: ImportOutcome) -> list[tuple[int, str | None]]:
    return [(r.line, r.column) for r in outcome.rejections]


async def instruments(store: Store) -> dict[tuple[str, str, str], InstrumentRow]:
    async with store.runtime.sessions() as session:
        rows = await session.scalars(select(InstrumentRow))
        return {(i.exchange_code, i.symbol, i.type): i for i in rows}


async def exchange(store: Store, code: str) -> ExchangeRow | None:
    async with store.runtime.sessions() as session:
        return await session.get(ExchangeRow, code)


async def enrich_the_catalog(store: Store) -> None:
    """What a real catalog has besides the seed's: a named exchange, an archived instrument,
    sources, a custom datastream."""
    async with store.runtime.sessions() as session:
        kraken = await catalog_admin.register_instrument(
            session,
            store.admin,
            InstrumentRegistration("kraken", "ETHUSD", "ETH", "USD", "spot", "Kraken Pro"),
        )
        await catalog_admin.register_datastream(
            session,
            store.admin,
            DatastreamRegistration("9001", kraken.id, "trades", "custom", "wss://ws.kraken.com/v2"),
        )
        bybit = (await instruments(store))[("bybit", "BTCUSDT", "linear")]
        await catalog_admin.update_instrument(
            session, store.admin, bybit.id, InstrumentChanges(archived=True)
        )
        await catalog_admin.update_datastream(
            session, store.admin, "601", DatastreamChanges(source="wss://stream.binance.com")
        )


async def publish_two_versions(store: Store, name: str) -> None:
    async with store.runtime.sessions() as session:
        row = await export_schemas.create_schema(session, store.admin, name, DEFINITION)
        await export_schemas.create_draft(session, store.admin, row.id)
        await export_schemas.update_draft(session, store.admin, row.id, V2)
        await export_schemas.publish_draft(session, store.admin, row.id)


# -- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("format", list(ResourceFormat))
async def test_the_catalog_moves_to_another_gateway_unchanged(
    seeded: Store, fresh: Store, format: ResourceFormat
) -> None:
    await enrich_the_catalog(seeded)
    for kind in CATALOG:
        backup = await exported(seeded, kind, format, include_archived=True)
        outcome = await imported(fresh, kind, backup.content, filename=backup.filename)
        assert counts(outcome) == (backup.row_count, 0, 0, 0) and outcome.applied, kind
        assert await exported(fresh, kind, format, include_archived=True) == backup
    # Imported again, every row is already there.
    for kind in CATALOG:
        backup = await exported(seeded, kind, format, include_archived=True)
        outcome = await imported(fresh, kind, backup.content, filename=backup.filename)
        assert counts(outcome) == (0, 0, backup.row_count, 0), kind


async def test_export_schemas_move_with_every_version(seeded: Store, fresh: Store) -> None:
    await publish_two_versions(seeded, "prices")
    async with seeded.runtime.sessions() as session:
        await export_schemas.create_schema(session, seeded.admin, "ticks", V2)
    for format in ResourceFormat:
        backup = await exported(seeded, SCHEMAS, format)
        assert backup.row_count == 3  # prices 1 and 2, ticks 1
        outcome = await imported(fresh, SCHEMAS, backup.content, filename=backup.filename)
        assert (outcome.created + outcome.unchanged, outcome.rejected_rows) == (3, 0)
        assert await exported(fresh, SCHEMAS, format) == backup
    async with fresh.runtime.sessions() as session:
        row = await export_schemas.row_by_name(session, fresh.admin, "prices")
        assert row is not None
        view = await export_schemas.view(session, row)
    assert [v.version for v in view.versions] == [1, 2]
    assert [c.output_column for c in view.versions[1].spec.columns] == ["ts", "price", "raw"]


async def test_csv_puts_json_as_text_and_json_files_are_arrays_of_objects(seeded: Store) -> None:
    await publish_two_versions(seeded, "prices")
    as_csv = await exported(seeded, SCHEMAS)
    header, first = as_csv.content.splitlines()[:2]
    assert header == "name,version,stream_category,description,definition"
    assert first.startswith('prices,1,trade,Prices,"{""description"":""Prices""')
    assert (as_csv.filename, as_csv.content_type) == (
        "export_schemas.csv",
        "text/csv; charset=utf-8",
    )
    as_json = await exported(seeded, DATASTREAMS, ResourceFormat.JSON)
    rows = json.loads(as_json.content)
    assert as_json.filename == "datastreams.json" and rows[0] == {
        "datastream_id": 601,
        "exchange": "binance",
        "symbol": "BTCUSDT",
        "instrument_type": "spot",
        "stream_type": "trades",
        "wire_format": "binance.trade",
        "source": None,
    }


# -- export filters ---------------------------------------------------------------------------


async def test_archived_instruments_and_their_datastreams_are_exported_only_if_asked(
    seeded: Store,
) -> None:
    await enrich_the_catalog(seeded)  # archives bybit BTCUSDT linear (datastream 602)
    listed = await exported(seeded, INSTRUMENTS, ResourceFormat.JSON)
    assert [(r["exchange"], r["archived"]) for r in json.loads(listed.content)] == [
        ("binance", False),
        ("kraken", False),
    ]
    everything = await exported(seeded, INSTRUMENTS, ResourceFormat.JSON, include_archived=True)
    assert ("bybit", True) in [
        (r["exchange"], r["archived"]) for r in json.loads(everything.content)
    ]
    streams = await exported(seeded, DATASTREAMS, ResourceFormat.JSON)
    assert [r["datastream_id"] for r in json.loads(streams.content)] == [601, 604, 9001]
    # Exchanges are never archived: bybit stays, its instrument does not.
    assert (await exported(seeded, EXCHANGES)).row_count == 3


async def test_the_filter_is_a_case_insensitive_substring_of_the_naming_columns(
    seeded: Store,
) -> None:
    await enrich_the_catalog(seeded)
    named = await exported(seeded, EXCHANGES, text="PRO")  # kraken's display name
    assert named.content == "code,display_name\nkraken,Kraken Pro\n"
    by_asset = await exported(seeded, INSTRUMENTS, ResourceFormat.JSON, text="eth")
    assert [r["symbol"] for r in json.loads(by_asset.content)] == ["ETHUSD"]
    books = await exported(seeded, DATASTREAMS, ResourceFormat.JSON, text="BOOK")
    assert [r["datastream_id"] for r in json.loads(books.content)] == [604]
    literal = await exported(seeded, INSTRUMENTS, text="%")
    assert literal.row_count == 0


async def test_too_many_rows_or_a_bad_filter_are_typed_errors(
    seeded: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commands, "MAX_ROWS", 1)
    problems = await problems_of(exported(seeded, INSTRUMENTS))
    assert problems[0][:2] == (ErrorCode.PAYLOAD_TOO_LARGE, ("filter",))
    problems = await problems_of(exported(seeded, EXCHANGES, text="x" * 201))
    assert problems[0][:2] == (ErrorCode.INVALID_ARGUMENT, ("filter",))


# -- upserts --------------------------------------------------------------------------------


async def test_an_import_creates_updates_and_leaves_rows_unchanged(seeded: Store) -> None:
    content = INSTRUMENT_HEADER + (
        "binance,BTCUSDT,BTC,USDT,spot,false\n"  # as it is
        "bybit,BTCUSDT,XBT,USDT,linear,\n"  # another base
        "kraken,ETHUSD,ETH,USD,spot,TRUE\n"  # new, and its exchange too
    )
    outcome = await imported(seeded, INSTRUMENTS, content)
    assert counts(outcome) == (1, 1, 1, 0) and outcome.applied
    stored = await instruments(seeded)
    assert stored[("bybit", "BTCUSDT", "linear")].base == "XBT"
    assert stored[("kraken", "ETHUSD", "spot")].archived
    kraken = await exchange(seeded, "kraken")
    assert kraken is not None and kraken.display_name == "Kraken"
    again = await imported(seeded, INSTRUMENTS, content)
    assert counts(again) == (0, 0, 3, 0)


async def test_a_missing_column_keeps_values_and_an_empty_cell_empties_them(seeded: Store) -> None:
    await imported(
        seeded, INSTRUMENTS, "exchange,symbol,type,archived\nbybit,BTCUSDT,linear,true\n"
    )
    kept = (await instruments(seeded))[("bybit", "BTCUSDT", "linear")]
    assert (kept.base, kept.quote, kept.archived) == ("BTC", "USDT", True)
    outcome = await imported(seeded, INSTRUMENTS, INSTRUMENT_HEADER + "bybit,BTCUSDT,,,linear,\n")
    assert counts(outcome) == (0, 1, 0, 0)
    emptied = (await instruments(seeded))[("bybit", "BTCUSDT", "linear")]
    assert (emptied.base, emptied.quote, emptied.archived) == ("", "", False)


async def test_exchanges_are_renamed_and_created(seeded: Store) -> None:
    content = "code,display_name\nbinance,Binance\nbybit,Bybit Global\nokx,\n"
    assert counts(await imported(seeded, EXCHANGES, content)) == (1, 1, 1, 0)
    async with seeded.runtime.sessions() as session:
        names = dict(
            (await session.execute(select(ExchangeRow.code, ExchangeRow.display_name))).all()
        )
    assert names == {"binance": "Binance", "bybit": "Bybit Global", "okx": "Okx"}


async def test_datastreams_change_wire_format_and_source_but_not_what_they_are(
    seeded: Store,
) -> None:
    header = "datastream_id,exchange,symbol,instrument_type,stream_type,wire_format,source\n"
    content = header + (
        "601,binance,BTCUSDT,spot,trades,custom,wss://elsewhere\n"  # updated
        "602,binance,BTCUSDT,spot,trades,bybit.publicTrade,\n"  # another instrument
        "604,binance,BTCUSDT,spot,trades,binance.depthUpdate,\n"  # another stream type
        "700,kraken,ETHUSD,spot,trades,custom,\n"  # no such instrument
        "701,binance,BTCUSDT,spot,trades,binance.trade,wss://new\n"  # created
    )
    outcome = await imported(seeded, DATASTREAMS, content, on_error="SKIP")
    assert counts(outcome) == (1, 1, 0, 3)
    assert rejections(outcome) == [
        (3, "symbol"),
        (4, "wire_format"),
        (4, "stream_type"),
        (5, "symbol"),
    ]
    reasons = [r.reason for r in outcome.rejections]
    assert "its instrument cannot change" in reasons[0]
    assert "import instruments first" in reasons[3]
    again = await exported(seeded, DATASTREAMS, ResourceFormat.JSON, text="binance")
    streams = {r["datastream_id"]: r for r in json.loads(again.content)}
    assert (streams[601]["wire_format"], streams[601]["source"]) == ("custom", "wss://elsewhere")
    assert streams[701]["source"] == "wss://new"


# -- rejections -----------------------------------------------------------------------------


BAD_ROWS = INSTRUMENT_HEADER + (
    "kraken,ETHUSD,ETH,USD,spot,false\n"  # line 2: good
    "Kraken!,XBTUSD,XBT,USD,spot,false\n"  # line 3: not an exchange code
    "kraken,,ETH,EUR,spot,maybe\n"  # line 4: no symbol, archived neither true nor false
    "kraken,SOLUSD,SOL,USD,spot,false\n"  # line 5: good
)


async def test_abort_writes_nothing_and_reports_every_rejected_row(seeded: Store) -> None:
    outcome = await imported(seeded, INSTRUMENTS, BAD_ROWS)
    assert not outcome.applied and outcome.rejected_rows == 2
    assert rejections(outcome) == [(3, "exchange"), (4, "symbol"), (4, "archived")]
    assert [r.reason for r in outcome.rejections][1] == "symbol is required"
    assert ("kraken", "ETHUSD", "spot") not in await instruments(seeded)
    assert await exchange(seeded, "kraken") is None


async def test_skip_writes_the_good_rows(seeded: Store) -> None:
    outcome = await imported(seeded, INSTRUMENTS, BAD_ROWS, on_error="SKIP")
    assert outcome.applied and counts(outcome) == (2, 0, 0, 2)
    stored = await instruments(seeded)
    assert {("kraken", "ETHUSD", "spot"), ("kraken", "SOLUSD", "spot")} <= set(stored)


async def test_a_dry_run_counts_and_writes_nothing(seeded: Store) -> None:
    outcome = await imported(seeded, INSTRUMENTS, BAD_ROWS, on_error="SKIP", dry_run=True)
    assert counts(outcome) == (2, 0, 0, 2) and not outcome.applied
    assert await exchange(seeded, "kraken") is None


async def test_json_rows_are_numbered_by_their_position_in_the_array(seeded: Store) -> None:
    rows: list[Any] = [
        {"exchange": "kraken", "symbol": "ETHUSD", "type": "spot", "archived": True},
        {"exchange": "kraken", "type": "spot"},
        "not an object",
        {"exchange": "kraken", "symbol": 7, "type": "spot", "base": None},
    ]
    outcome = await imported(seeded, INSTRUMENTS, json.dumps(rows), filename="i.json")
    assert rejections(outcome) == [(2, "symbol"), (3, None), (4, "symbol")]
    assert [r.reason for r in outcome.rejections] == [
        "symbol is required",
        "item 3 is a JSON string, not an object",
        "symbol is text, not 7",
    ]


async def test_extra_csv_columns_and_cells_are_ignored(seeded: Store) -> None:
    content = "notes,exchange,symbol,type,base,quote\nhello,kraken,ETHUSD,spot,ETH,USD,surplus\n"
    outcome = await imported(seeded, INSTRUMENTS, content)
    assert counts(outcome) == (1, 0, 0, 0)


async def test_a_header_without_a_required_column_rejects_every_row(seeded: Store) -> None:
    content = "exchange,symbol,symbol\nkraken,ETHUSD,ETHUSD\nkraken,SOLUSD,SOLUSD\n"
    outcome = await imported(seeded, INSTRUMENTS, content, on_error="SKIP")
    assert rejections(outcome) == [(1, "type"), (1, "symbol")]
    assert outcome.rejected_rows == 2 and counts(outcome)[:3] == (0, 0, 0)


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        ('{"exchange": "kraken"}', "i.json", "an array of objects, not a JSON object"),
        ("[1, 2", "i.json", "not JSON"),
        (b"\xff\xfe", "i.csv", "not UTF-8"),
        ("", "i.csv", "the file is empty"),
    ],
)
async def test_files_that_are_not_files_of_rows_are_typed_errors(
    seeded: Store, content: str | bytes, filename: str, message: str
) -> None:
    [(code, field, text)] = await problems_of(imported(seeded, INSTRUMENTS, content, filename))
    assert (code, field) == (ErrorCode.INVALID_ARGUMENT, ("input", "file"))
    assert message in text


async def test_the_format_comes_from_the_name_unless_given(seeded: Store) -> None:
    content = '[{"exchange": "kraken", "symbol": "ETHUSD", "type": "spot"}]'
    [(code, field, _)] = await problems_of(imported(seeded, INSTRUMENTS, content, "i.txt"))
    assert (code, field) == (ErrorCode.INVALID_ARGUMENT, ("input", "format"))
    outcome = await imported(seeded, INSTRUMENTS, content, "i.txt", format=ResourceFormat.JSON)
    assert outcome.created == 1


async def test_the_identifier_column_is_the_resources(seeded: Store) -> None:
    assert (await imported(seeded, INSTRUMENTS, BAD_ROWS, identifier_column="symbol")).rejected_rows
    problems = await problems_of(imported(seeded, INSTRUMENTS, BAD_ROWS, identifier_column="base"))
    assert problems[0][:2] == (ErrorCode.INVALID_ARGUMENT, ("input", "identifierColumn"))
    assert "exchange, symbol and type" in problems[0][2]


async def test_files_and_rows_past_the_limits_are_refused(
    seed: Seed, tmp_path: Path, effects: RecordingEffects, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_with(seed, tmp_path / "small", max_import_bytes=2048)
    async with runtime_for(settings, effects) as runtime:
        store = Store(runtime, seed.principals["alpha"])
        large = INSTRUMENT_HEADER + "kraken,ETHUSD,ETH,USD,spot,false\n" * 100
        [problem] = await problems_of(imported(store, INSTRUMENTS, large))
        assert problem[:2] == (ErrorCode.PAYLOAD_TOO_LARGE, ("input", "file"))
        monkeypatch.setattr(formats, "MAX_ROWS", 2)
        three = INSTRUMENT_HEADER + "kraken,ETHUSD,ETH,USD,spot,false\n" * 3
        [problem] = await problems_of(imported(store, INSTRUMENTS, three))
        assert problem[:2] == (ErrorCode.PAYLOAD_TOO_LARGE, ("input", "file"))
        two = INSTRUMENT_HEADER + "kraken,ETHUSD,ETH,USD,spot,false\n" * 2
        assert counts(await imported(store, INSTRUMENTS, two)) == (1, 0, 1, 0)


# -- roles ----------------------------------------------------------------------------------


async def test_any_key_exports_members_import_schemas_and_admins_the_catalog(
    seeded: Store, seed: Seed
) -> None:
    viewer, member = seed.principals["alpha-viewer"], seed.principals["alpha-member"]
    assert (await exported(seeded, INSTRUMENTS, who=viewer)).row_count == 2
    for who, kind in ((viewer, SCHEMAS), (member, INSTRUMENTS), (member, EXCHANGES)):
        [problem] = await problems_of(imported(seeded, kind, b"\xff", who=who))
        assert problem[:2] == (ErrorCode.FORBIDDEN, ("input",))
    schemas = csv_text(["name", "version", "definition"], ["prices", 1, json.dumps(DEFINITION)])
    assert (await imported(seeded, SCHEMAS, schemas, who=member)).created == 1


async def test_schemas_are_the_workspaces_own(seeded: Store, seed: Seed) -> None:
    await publish_two_versions(seeded, "prices")
    theirs = await exported(seeded, SCHEMAS, who=seed.principals["beta"])
    assert theirs.row_count == 0


# -- export schema versions -----------------------------------------------------------------


def schema_rows(*rows: tuple[str, int, dict[str, Any]]) -> str:
    return json.dumps([{"name": n, "version": v, "definition": d} for n, v, d in rows])


async def test_published_versions_never_change_and_new_ones_are_appended(seeded: Store) -> None:
    await publish_two_versions(seeded, "prices")
    changed_v1 = {**DEFINITION, "description": "Rewritten"}
    content = schema_rows(
        ("prices", 3, changed_v1),  # appended after 1 and 2
        ("prices", 1, changed_v1),  # rewrites history
        ("prices", 5, DEFINITION),  # leaves a gap
        ("prices", 2, V2),  # as published
        ("fresh", 2, DEFINITION),  # a new schema starts at 1
        ("normalized", 1, DEFINITION),  # a built-in's name
    )
    outcome = await imported(seeded, SCHEMAS, content, "s.json", on_error="SKIP")
    assert counts(outcome) == (1, 0, 1, 4)
    assert rejections(outcome) == [(2, "definition"), (3, "version"), (5, "version"), (6, "name")]
    reasons = [r.reason for r in outcome.rejections]
    assert reasons[0] == (
        "version 1 of prices is published and cannot change; import the new definition as version 3"
    )
    assert reasons[1] == "prices has versions 1 to 3: the next version is 4, not 5"
    assert reasons[2] == "fresh is new: the next version is 1, not 2"
    async with seeded.runtime.sessions() as session:
        row = await export_schemas.row_by_name(session, seeded.admin, "prices")
        assert row is not None and row.latest_version == 3
        latest = await export_schemas.version_def(session, row)
    assert latest is not None and latest.description == "Rewritten"


async def test_schema_rows_are_applied_in_version_order(fresh: Store) -> None:
    content = schema_rows(("prices", 2, V2), ("prices", 1, DEFINITION))
    outcome = await imported(fresh, SCHEMAS, content, "s.json")
    assert counts(outcome) == (2, 0, 0, 0)


async def test_bad_definitions_name_where_they_are_wrong(seeded: Store) -> None:
    broken = {**DEFINITION, "columns": [{"outputColumn": "x", "meta": "nope"}]}
    content = csv_text(
        ["name", "version", "stream_category", "definition"],
        ["a", 1, "book", json.dumps(DEFINITION)],  # the column says otherwise
        ["b", 1, "", json.dumps(broken)],
        ["c", "x", "", "{not json"],
    )
    outcome = await imported(seeded, SCHEMAS, content)
    assert rejections(outcome) == [
        (2, "stream_category"),
        (3, "definition"),
        (4, "version"),
        (4, "definition"),
    ]
    assert outcome.rejections[1].reason.startswith("columns[0].meta: ")


# -- uploads ----------------------------------------------------------------------------------


async def uploaded(store: Store, content: bytes) -> ImportUploadRow:
    upload = await uploads.create_upload(store.runtime, store.admin, "instruments.csv", None)

    async def chunks() -> AsyncIterator[bytes]:
        yield content

    return await uploads.receive_upload(store.runtime, upload.id, chunks())


async def upload_row(store: Store, upload_id: str) -> ImportUploadRow | None:
    async with store.runtime.sessions() as session:
        return await session.get(ImportUploadRow, upload_id)


async def test_an_upload_is_consumed_by_the_import_that_writes_from_it(seeded: Store) -> None:
    upload = await uploaded(seeded, BAD_ROWS.encode())
    folder = (seeded.runtime.settings.storage_dir / upload.path).parent

    async def run(**options: Any) -> ImportOutcome:
        request = ImportResourcesRequest(INSTRUMENTS, upload_id=upload.id, **options)
        return await commands.import_resources(seeded.runtime, seeded.admin, request)

    assert not (await run(on_error="SKIP", dry_run=True)).applied
    assert not (await run()).applied  # ABORT: a row was rejected
    assert await upload_row(seeded, upload.id) is not None and folder.exists()
    assert (await run(on_error="SKIP")).created == 2
    assert await upload_row(seeded, upload.id) is None and not folder.exists()
    [problem] = await problems_of(run(on_error="SKIP"))
    assert problem[:2] == (ErrorCode.NOT_FOUND, ("input", "uploadId"))


async def test_an_upload_without_its_file_or_of_another_workspace_is_refused(
    seeded: Store, seed: Seed
) -> None:
    upload = await uploads.create_upload(seeded.runtime, seeded.admin, "i.csv", None)
    for who, code in (
        (seeded.admin, ErrorCode.FAILED_PRECONDITION),
        (seed.principals["beta"], ErrorCode.NOT_FOUND),
    ):
        request = ImportResourcesRequest(INSTRUMENTS, upload_id=upload.id)
        with pytest.raises(DomainError) as raised:
            await commands.import_resources(seeded.runtime, who, request)
        assert raised.value.errors[0].code == code
    both = ImportResourcesRequest(
        INSTRUMENTS, upload_id=upload.id, file=SentFile("i.csv", io.BytesIO(b""))
    )
    [problem] = await problems_of(commands.import_resources(seeded.runtime, seeded.admin, both))
    assert problem[:2] == (ErrorCode.INVALID_ARGUMENT, ("input", "file"))
