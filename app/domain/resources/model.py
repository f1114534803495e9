"""What every resource has: its kind, its columns (the required ones, and the one that
identifies an existing row), who may import it, its rows for export, and an importer that
applies one record at a time to a session (checked by the rules, and settings, of the
mutations that create and change the same rows)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.domain.auth import Principal, Role

MAX_ROWS = 100_000  # rows of a file, exported or imported: catalogs and configurations are small


class ResourceKind(str, Enum):
    EXCHANGES = "EXCHANGES"
    INSTRUMENTS = "INSTRUMENTS"
    DATASTREAMS = "DATASTREAMS"
    EXPORT_SCHEMAS = "EXPORT_SCHEMAS"
    EXPORT_SCHEDULES = "EXPORT_SCHEDULES"
    WEBHOOKS = "WEBHOOKS"


@dataclass(frozen=True)
class Record:
    """One row of a file: its line (CSV: the file's line, the header being line 1; JSON: the
    position in the array, from 1) and the values of the columns the file has. CSV values are
    text; JSON values are as parsed."""

    line: int
    values: Mapping[str, object]


class Outcome(Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Rejection:
    """Why a row (or the header, line 1) cannot be imported; `column` is None when the row as
    a whole is at fault."""

    line: int
    column: str | None
    reason: str


class RowRejected(Exception):
    """Raised by an importer before it changes anything for the row."""

    def __init__(self, problems: Sequence[tuple[str | None, str]]) -> None:
        super().__init__("; ".join(reason for _column, reason in problems))
        self.problems = list(problems)


class Importer(Protocol):
    async def apply(self, record: Record) -> Outcome:
        """Create, update or leave the record's row in the session, or raise RowRejected
        (having changed nothing)."""
        ...


@dataclass(frozen=True)
class ExportFilter:
    """`text`: a case-insensitive, literal substring of one of the resource's naming columns.
    `include_archived`: also archived instruments and their datastreams."""

    text: str | None = None
    include_archived: bool = False
    limit: int = MAX_ROWS + 1


Row = dict[str, object]


@dataclass(frozen=True)
class Resource:
    kind: ResourceKind
    columns: tuple[str, ...]  # in file order
    required: tuple[str, ...]
    identifier: str  # the identifierColumn an import accepts
    identity: str  # what the identifier means, for people
    import_role: Role
    rows: Callable[[AsyncSession, Principal, ExportFilter], Awaitable[list[Row]]]
    importer: Callable[[AsyncSession, Principal, Settings], Awaitable[Importer]]
    # The order records are applied in (file order unless said otherwise).
    ordered: Callable[[list[Record]], list[Record]] = field(default=lambda records: records)
