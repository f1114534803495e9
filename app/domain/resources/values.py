"""Reading a record's cells: each problem of a row is collected, so a rejected row lists all
of them. A column the file does not have is ABSENT (an update leaves the value as it is); an
empty cell, or null in JSON, is empty."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any, TypeVar

from app.domain.errors import DomainError, Problem
from app.domain.resources.model import Record, RowRejected
from engine.strict import StrictParseError, parse_int64


class Absent(Enum):
    ABSENT = "absent"


ABSENT = Absent.ABSENT
T = TypeVar("T")


class RowReader:
    def __init__(self, record: Record) -> None:
        self.values = record.values
        self.problems: list[tuple[str | None, str]] = []

    def problem(self, column: str | None, reason: str) -> None:
        self.problems.append((column, reason))

    def domain_problems(
        self, problems: Iterable[Problem | None], columns: Mapping[str, str]
    ) -> None:
        """The registration rules' problems, their input fields (`("input", "streamType")`)
        named as this file's columns (`stream_type`). A column already found at fault (a
        required value missing, say) is not reported twice."""
        at_fault = {column for column, _reason in self.problems}
        for problem in problems:
            if problem is not None:
                name = problem.field[-1] if problem.field else ""
                column = columns.get(name, name) or None
                if column not in at_fault:
                    self.problem(column, problem.message)

    def done(self) -> None:
        """Reject the row if anything was wrong with it."""
        if self.problems:
            raise RowRejected(self.problems)

    def _cell(self, column: str) -> object:
        value = self.values.get(column, ABSENT)
        return None if value == "" else value

    def text(self, column: str) -> str:
        """A required text value ("" when missing or not text, with the problem noted)."""
        value = self._cell(column)
        if value is None or value is ABSENT:
            self.problem(column, f"{column} is required")
            return ""
        if not isinstance(value, str):
            self.problem(column, f"{column} is text, not {_shown(value)}")
            return ""
        return value

    def optional_text(self, column: str) -> str | Absent | None:
        value = self._cell(column)
        if value is None or value is ABSENT or isinstance(value, str):
            return value
        self.problem(column, f"{column} is text, not {_shown(value)}")
        return None

    def flag(self, column: str) -> bool | Absent:
        """true or false (in any case, or a JSON boolean); empty is false."""
        value = self._cell(column)
        if value is None:
            return False
        if value is ABSENT or isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.problem(column, f"{column} is true or false, not {_shown(value)}")
        return False

    def parsed(self, column: str, parse: Callable[[object, str], T]) -> T | None:
        """A required value read by a domain parser (which raises a DomainError)."""
        value = self._cell(column)
        if value is None or value is ABSENT:
            self.problem(column, f"{column} is required")
            return None
        try:
            return parse(value, column)
        except DomainError as exc:
            for problem in exc.errors:
                self.problem(column, problem.message)
            return None

    def positive_integer(self, column: str, maximum: int) -> int | None:
        """A required integer from 1 to `maximum` (digits in CSV, a number or digits in JSON)."""
        value = self._cell(column)
        if value is None or value is ABSENT:
            self.problem(column, f"{column} is required")
            return None
        try:
            return parse_int64(value, minimum=1, maximum=maximum, signed=False)
        except StrictParseError:
            self.problem(
                column, f"{column} is an integer from 1 to {maximum:,}, not {_shown(value)}"
            )
            return None

    def json_object(self, column: str) -> dict[str, Any] | None:
        """A required JSON object: an object in JSON, its JSON text in CSV (or in JSON)."""
        value = self._cell(column)
        if value is None or value is ABSENT:
            self.problem(column, f"{column} is required")
            return None
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except (ValueError, RecursionError) as exc:
                self.problem(column, f"{column} is not JSON: {str(exc)[:200]}")
                return None
        if not isinstance(value, dict):
            self.problem(column, f"{column} is a JSON object, not {_shown(value)}")
            return None
        return value


def _shown(value: object) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
