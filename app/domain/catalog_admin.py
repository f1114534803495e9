"""Registering and changing the catalog, for admins: instruments (archived when delisted,
never deleted, so their datastreams and records stay) and datastreams.

Registering is idempotent: the same entry again returns the one that exists; the same key
(exchange, symbol and type; a datastream id) with other attributes is a CONFLICT naming
each field that differs. Every malformed value is reported at once, each naming its input
field. The catalog is shared by every workspace."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import DatastreamRow, ExchangeRow, InstrumentRow
from app.domain import wire_formats
from app.domain.auth import Principal, Role, require
from app.domain.catalog import parse_instrument_id
from app.domain.errors import DomainError, ErrorCode, Problem, user_error
from app.domain.exports.requests import parse_datastream_id
from engine.timestamps import now_ns

EXCHANGE_CODE = re.compile(r"[a-z0-9_.-]{1,64}", re.ASCII)
MAX_SYMBOL = 64
MAX_ASSET = 32  # base and quote
MAX_TYPE = 32  # an instrument's type, a datastream's stream type
MAX_DISPLAY_NAME = 200
MAX_WIRE_FORMAT = 64
MAX_SOURCE = 2000


@dataclass(frozen=True)
class InstrumentRegistration:
    exchange: str
    symbol: str
    base: str
    quote: str
    type: str
    exchange_display_name: str | None = None  # for a new exchange; default its code, titled


@dataclass(frozen=True)
class InstrumentChanges:
    """None leaves a value as it is."""

    archived: bool | None = None
    base: str | None = None
    quote: str | None = None


@dataclass(frozen=True)
class DatastreamRegistration:
    datastream_id: object  # ids as given: parsed strictly here
    instrument_id: object
    stream_type: str
    wire_format: str
    source: str | None = None


class Keep(Enum):
    """A value left as it is, where None means something (no source)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class DatastreamChanges:
    wire_format: str | None = None  # None: unchanged
    source: str | Keep | None = KEEP  # None: cleared


# -- instruments ------------------------------------------------------------------------------


async def register_instrument(
    session: AsyncSession, who: Principal, request: InstrumentRegistration
) -> InstrumentRow:
    """The instrument (and its exchange, if new); the one that exists if registered before."""
    require(who, Role.ADMIN, ("input",))
    _raise_all(instrument_problems(request))
    return await _once_more_on_a_race(session, lambda: _registered_instrument(session, request))


def instrument_problems(request: InstrumentRegistration) -> list[Problem | None]:
    """Every malformed value of a registration (None where a value is fine), each naming its
    input field; also the check of each instrument a file imports."""
    problems = exchange_problems(request.exchange, request.exchange_display_name)
    problems += [
        _text_problem(request.symbol, "symbol", most=MAX_SYMBOL),
        _text_problem(request.base, "base", most=MAX_ASSET, least=0),
        _text_problem(request.quote, "quote", most=MAX_ASSET, least=0),
        _text_problem(request.type, "type", most=MAX_TYPE),
    ]
    return problems


def exchange_problems(code: str, display_name: str | None) -> list[Problem | None]:
    """An exchange's code and, when given, its display name (fields `exchange` and
    `exchangeDisplayName`)."""
    problems: list[Problem | None] = []
    if not EXCHANGE_CODE.fullmatch(code):
        problems.append(
            Problem(
                ErrorCode.INVALID_ARGUMENT,
                ("input", "exchange"),
                "exchange is a lowercase code: 1 to 64 of a-z, 0-9, `_`, `.` and `-`",
            )
        )
    if display_name is not None:
        problems.append(_text_problem(display_name, "exchangeDisplayName", most=MAX_DISPLAY_NAME))
    return problems


def default_display_name(code: str) -> str:
    """The name of an exchange registered without one."""
    return code.title()


async def _registered_instrument(
    session: AsyncSession, request: InstrumentRegistration
) -> InstrumentRow:
    exchange = await session.get(ExchangeRow, request.exchange)
    if exchange is None:
        name = request.exchange_display_name or default_display_name(request.exchange)
        session.add(ExchangeRow(code=request.exchange, display_name=name))
    elif request.exchange_display_name not in (None, exchange.display_name):
        raise user_error(
            ErrorCode.CONFLICT,
            "input.exchangeDisplayName",
            f"exchange {exchange.code!r} is named {exchange.display_name!r}",
        )
    existing = await session.scalar(
        select(InstrumentRow).where(
            InstrumentRow.exchange_code == request.exchange,
            InstrumentRow.symbol == request.symbol,
            InstrumentRow.type == request.type,
        )
    )
    if existing is not None:
        _raise_all(_instrument_differences(existing, request))
        return existing
    instrument = InstrumentRow(
        exchange_code=request.exchange,
        symbol=request.symbol,
        base=request.base,
        quote=request.quote,
        type=request.type,
        archived=False,
    )
    session.add(instrument)
    await session.commit()
    return instrument


def _instrument_differences(
    existing: InstrumentRow, request: InstrumentRegistration
) -> list[Problem]:
    described = f"{existing.exchange_code} {existing.symbol} ({existing.type}), ins_{existing.id},"
    return [
        Problem(
            ErrorCode.CONFLICT,
            ("input", field),
            f"{described} is registered with {field} {registered!r}",
        )
        for field, registered, given in (
            ("base", existing.base, request.base),
            ("quote", existing.quote, request.quote),
        )
        if registered != given
    ]


async def update_instrument(
    session: AsyncSession, who: Principal, instrument_id: object, changes: InstrumentChanges
) -> InstrumentRow:
    """Archive a delisted instrument (or bring it back), or correct its assets."""
    require(who, Role.ADMIN, ("input",))
    problems: list[Problem | None] = []
    parsed_id = _parsed(parse_instrument_id, instrument_id, "input.id", problems)
    for field, value in (("base", changes.base), ("quote", changes.quote)):
        if value is not None:
            problems.append(_text_problem(value, field, most=MAX_ASSET, least=0))
    _raise_all(problems)
    assert parsed_id is not None
    instrument = await session.get(InstrumentRow, parsed_id)
    if instrument is None:
        raise user_error(ErrorCode.NOT_FOUND, "input.id", f"no instrument ins_{parsed_id}")
    if changes.archived is not None:
        instrument.archived = changes.archived
    if changes.base is not None:
        instrument.base = changes.base
    if changes.quote is not None:
        instrument.quote = changes.quote
    await session.commit()
    return instrument


# -- datastreams ------------------------------------------------------------------------------


async def register_datastream(
    session: AsyncSession, who: Principal, request: DatastreamRegistration
) -> DatastreamRow:
    """A datastream of an instrument (archived or not: history can be added to a delisted
    one); the one that exists if registered before with the same attributes."""
    require(who, Role.ADMIN, ("input",))
    problems: list[Problem | None] = []
    datastream_id = _parsed(
        parse_datastream_id, request.datastream_id, "input.datastreamId", problems
    )
    instrument_id = _parsed(
        parse_instrument_id, request.instrument_id, "input.instrumentId", problems
    )
    problems += datastream_attribute_problems(
        request.stream_type, request.wire_format, request.source
    )
    _raise_all(problems)
    assert datastream_id is not None and instrument_id is not None
    instrument = await session.get(InstrumentRow, instrument_id)
    if instrument is None:
        raise user_error(
            ErrorCode.NOT_FOUND, "input.instrumentId", f"no instrument ins_{instrument_id}"
        )
    wanted = DatastreamRow(
        id=datastream_id,
        exchange_code=instrument.exchange_code,
        instrument_id=instrument.id,
        stream_type=request.stream_type,
        wire_format=request.wire_format,
        source=request.source,
    )
    return await _once_more_on_a_race(session, lambda: _registered_datastream(session, wanted))


def datastream_attribute_problems(
    stream_type: str, wire_format: str, source: str | None
) -> list[Problem | None]:
    """What a datastream is, besides its ids (fields `streamType`, `wireFormat`, `source`);
    also the check of each datastream a file imports."""
    problems = [
        _text_problem(stream_type, "streamType", most=MAX_TYPE),
        _wire_format_problem(wire_format, stream_type),
    ]
    if source is not None:
        problems.append(_text_problem(source, "source", most=MAX_SOURCE))
    return problems


async def _registered_datastream(session: AsyncSession, wanted: DatastreamRow) -> DatastreamRow:
    existing = await session.get(DatastreamRow, wanted.id)
    if existing is not None:
        _raise_all(_datastream_differences(existing, wanted))
        return existing
    wanted.created_at = now_ns()
    session.add(wanted)
    await session.commit()
    return wanted


def _datastream_differences(existing: DatastreamRow, wanted: DatastreamRow) -> list[Problem]:
    return [
        Problem(
            ErrorCode.CONFLICT,
            ("input", field),
            f"datastream {existing.id} is registered with {field} {registered!r}",
        )
        for field, registered, given in (
            ("instrumentId", f"ins_{existing.instrument_id}", f"ins_{wanted.instrument_id}"),
            ("streamType", existing.stream_type, wanted.stream_type),
            ("wireFormat", existing.wire_format, wanted.wire_format),
            ("source", existing.source, wanted.source),
        )
        if registered != given
    ]


async def update_datastream(
    session: AsyncSession, who: Principal, datastream_id: object, changes: DatastreamChanges
) -> DatastreamRow:
    """Change where a datastream comes from, or how its messages are shaped."""
    require(who, Role.ADMIN, ("input",))
    problems: list[Problem | None] = []
    parsed_id = _parsed(parse_datastream_id, datastream_id, "input.id", problems)
    if isinstance(changes.source, str):
        problems.append(_text_problem(changes.source, "source", most=MAX_SOURCE))
    if changes.wire_format is not None:
        problems.append(_wire_format_problem(changes.wire_format, None))
    _raise_all(problems)
    assert parsed_id is not None
    datastream = await session.get(DatastreamRow, parsed_id)
    if datastream is None:
        raise user_error(ErrorCode.NOT_FOUND, "input.id", f"no datastream {parsed_id}")
    if changes.wire_format is not None:
        _raise_all([_wire_format_problem(changes.wire_format, datastream.stream_type)])
        datastream.wire_format = changes.wire_format
    if changes.source is not KEEP:
        datastream.source = changes.source
    await session.commit()
    return datastream


# -- checks -----------------------------------------------------------------------------------


def _text_problem(value: str, field: str, *, most: int, least: int = 1) -> Problem | None:
    """Names, codes and assets: printable (no control characters, which PostgreSQL may
    refuse and nobody can see), bounded, and without surrounding spaces, which would make
    entries that look the same but are not."""
    if least <= len(value) <= most and value.isprintable() and value == value.strip():
        return None
    size = f"at most {most}" if least == 0 else f"{least} to {most}"
    return Problem(
        ErrorCode.INVALID_ARGUMENT,
        ("input", field),
        f"{field} is {size} printable characters, without leading or trailing spaces",
    )


def _wire_format_problem(name: str, stream_type: str | None) -> Problem | None:
    """A known wire format or `custom`; a known one sends one stream type, which must be the
    datastream's (the collector and the built-in schemas read its messages as such)."""
    field = ("input", "wireFormat")
    if len(name) > MAX_WIRE_FORMAT:
        message = f"wireFormat is at most {MAX_WIRE_FORMAT} characters"
        return Problem(ErrorCode.INVALID_ARGUMENT, field, message)
    try:
        wire_formats.check(name)
    except ValueError as exc:
        return Problem(ErrorCode.INVALID_ARGUMENT, field, str(exc))
    known = wire_formats.known(name)
    if known is not None and stream_type is not None and known.stream_type != stream_type:
        message = f"{name} messages are {known.stream_type}, not {stream_type!r}"
        return Problem(ErrorCode.INVALID_ARGUMENT, field, message)
    return None


def _parsed(
    parse: Callable[[object, str], int],
    value: object,
    field: str,
    problems: list[Problem | None],
) -> int | None:
    try:
        return parse(value, field)
    except DomainError as exc:
        problems.extend(exc.errors)
        return None


def _raise_all(problems: Sequence[Problem | None]) -> None:
    found = [p for p in problems if p is not None]
    if found:
        raise DomainError(found)


Row = TypeVar("Row")


async def _once_more_on_a_race(session: AsyncSession, attempt: Callable[[], Awaitable[Row]]) -> Row:
    """A concurrent registration of the same exchange, instrument or datastream commits
    first: ours breaks a unique key. Once rolled back, the second attempt finds theirs."""
    try:
        return await attempt()
    except IntegrityError:
        await session.rollback()
        return await attempt()
