"""Typed exceptions: one class per error code the gateway sends, whether as a GraphQL error's
`extensions.code`, as a mutation's `userErrors` entry, or as the body of an HTTP error (a
request refused before GraphQL runs: too large, not JSON, database down)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any


@dataclasses.dataclass(frozen=True)
class Problem:
    """One reason the gateway gave: its code, the input field at fault (a path such as
    `["input", "endTime"]`, empty if none) and a message for people."""

    code: str
    message: str
    field: tuple[str, ...] = ()
    extensions: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class GatewayError(Exception):
    """Base of every error this client raises. `problems` holds every reason (a mutation may
    give several at once); `code`, `message` and `field` are the first one's."""

    code: str = "ERROR"

    def __init__(
        self,
        problems: Sequence[Problem],
        *,
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        self.problems = tuple(problems) or (Problem(self.code, "unknown error"),)
        self.code = self.problems[0].code  # a code this client does not know, too
        self.status_code = status_code
        self.request_id = request_id
        super().__init__("; ".join(_shown(p) for p in self.problems))

    @property
    def message(self) -> str:
        return self.problems[0].message

    @property
    def field(self) -> tuple[str, ...]:
        return self.problems[0].field


class InvalidArgument(GatewayError):
    code = "INVALID_ARGUMENT"


class NotFound(GatewayError):
    code = "NOT_FOUND"


class Conflict(GatewayError):
    code = "CONFLICT"


class FailedPrecondition(GatewayError):
    code = "FAILED_PRECONDITION"


class RateLimited(GatewayError):
    """Over a rate limit or a cap; `retry_after` is in seconds, when the gateway said."""

    code = "RATE_LIMITED"

    def __init__(
        self,
        problems: Sequence[Problem],
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(problems, status_code=status_code, request_id=request_id)
        self.retry_after = retry_after


class Unauthenticated(GatewayError):
    code = "UNAUTHENTICATED"


class Forbidden(GatewayError):
    code = "FORBIDDEN"


class PayloadTooLarge(GatewayError):
    code = "PAYLOAD_TOO_LARGE"


class HeadersTooLarge(GatewayError):
    code = "HEADERS_TOO_LARGE"


class Unavailable(GatewayError):
    """The gateway's database is unavailable for the moment: worth retrying."""

    code = "UNAVAILABLE"


class QueryTooCostly(GatewayError):
    code = "QUERY_TOO_COSTLY"


class BadRequest(GatewayError):
    """The document or its variables were refused (syntax, validation, a malformed Long)."""

    code = "BAD_REQUEST"


class InternalServerError(GatewayError):
    """An unexpected failure on the gateway; `request_id` finds it in the gateway's log."""

    code = "INTERNAL_SERVER_ERROR"


class ChecksumMismatch(GatewayError):
    """A downloaded file's SHA-256 is not the one the API reported; nothing was kept."""

    code = "CHECKSUM_MISMATCH"


class ProtocolError(GatewayError):
    """The answer was not what the GraphQL protocol promises (not JSON, no data)."""

    code = "PROTOCOL_ERROR"


class ConnectionFailed(GatewayError):
    """The gateway could not be reached (after the retries the policy allows)."""

    code = "CONNECTION_FAILED"


class WaitTimeout(GatewayError):
    """`wait` gave up before the job reached a terminal state."""

    code = "WAIT_TIMEOUT"


ERRORS_BY_CODE: dict[str, type[GatewayError]] = {
    cls.code: cls
    for cls in (
        InvalidArgument,
        NotFound,
        Conflict,
        FailedPrecondition,
        RateLimited,
        Unauthenticated,
        Forbidden,
        PayloadTooLarge,
        HeadersTooLarge,
        Unavailable,
        QueryTooCostly,
        BadRequest,
        InternalServerError,
    )
}


def error_for(
    problems: Sequence[Problem],
    *,
    status_code: int | None = None,
    retry_after: float | None = None,
) -> GatewayError:
    """The exception of the first problem's code (GatewayError for a code this client does not
    know), carrying every problem. A RateLimited's wait is the problem's `retryAfter`, else
    `retry_after` (the HTTP header's)."""
    first = problems[0] if problems else Problem("ERROR", "unknown error")
    cls = ERRORS_BY_CODE.get(first.code, GatewayError)
    request_id = next(
        (str(p.extensions["requestId"]) for p in problems if "requestId" in p.extensions), None
    )
    if cls is RateLimited:
        retry_after = _seconds(first.extensions.get("retryAfter"), retry_after)
        return RateLimited(
            problems, status_code=status_code, request_id=request_id, retry_after=retry_after
        )
    return cls(problems, status_code=status_code, request_id=request_id)


def from_graphql_errors(
    errors: Sequence[Mapping[str, Any]],
    *,
    status_code: int | None = None,
    retry_after: float | None = None,
) -> GatewayError:
    """GraphQL `errors` entries, each with `extensions.code`."""
    problems = []
    for error in errors:
        extensions = error.get("extensions") or {}
        raw_field = extensions.get("field")
        problems.append(
            Problem(
                code=str(extensions.get("code", "ERROR")),
                message=str(error.get("message", "")),
                field=tuple(str(raw_field).split(".")) if raw_field else (),
                extensions=dict(extensions),
            )
        )
    return error_for(problems, status_code=status_code, retry_after=retry_after)


def from_user_errors(user_errors: Sequence[Any]) -> GatewayError:
    """A mutation's `userErrors` (generated models with code, field, message, retryAfter)."""
    problems = [
        Problem(
            code=str(getattr(e.code, "value", e.code)),
            message=e.message,
            field=tuple(e.field),
            extensions={"retryAfter": e.retry_after} if e.retry_after is not None else {},
        )
        for e in user_errors
    ]
    return error_for(problems)


def _seconds(value: object, default: float | None = None) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return default


def _shown(problem: Problem) -> str:
    where = ".".join(problem.field)
    return (
        f"{problem.code} {where}: {problem.message}"
        if where
        else f"{problem.code}: {problem.message}"
    )
