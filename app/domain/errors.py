"""Expected failures are data: a list of typed user errors, not exceptions leaking to clients."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class ErrorCode(str, Enum):
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    RATE_LIMITED = "RATE_LIMITED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"


@dataclass(frozen=True)
class Problem:
    """One reason a request was refused: shown to clients as a `userErrors` entry."""

    code: ErrorCode
    field: tuple[str, ...]
    message: str
    retry_after: float | None = None


@dataclass
class DomainError(Exception):
    errors: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"{'.'.join(e.field)}: {e.message}" for e in self.errors)


def user_error(code: ErrorCode, field_path: str, message: str) -> DomainError:
    """A DomainError with one problem; `field_path` is dotted, e.g. `input.endTime`."""
    return DomainError([Problem(code, tuple(field_path.split(".")), message)])
