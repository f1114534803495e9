"""Typed errors: `UserError` payload entries, and masking of unexpected errors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Iterator
from enum import Enum
from typing import Any, Protocol, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.schema.exceptions import InvalidOperationTypeError

from app.db.engine import is_unavailable
from app.domain.errors import DomainError, Problem
from app.domain.errors import ErrorCode as DomainErrorCode
from app.logs import request_id_var
from app.web.request_id import UNAVAILABLE_MESSAGE, UNAVAILABLE_RETRY_SECONDS

log = logging.getLogger(__name__)


@strawberry.enum(description="Why a mutation could not do what was asked.")
class UserErrorCode(Enum):
    INVALID_ARGUMENT = strawberry.enum_value(
        DomainErrorCode.INVALID_ARGUMENT.value, description="A value is malformed or out of range."
    )
    NOT_FOUND = strawberry.enum_value(
        DomainErrorCode.NOT_FOUND.value,
        description="The referenced object does not exist (or is not yours).",
    )
    CONFLICT = strawberry.enum_value(
        DomainErrorCode.CONFLICT.value,
        description="The request conflicts with an earlier one (e.g. idempotency key reuse).",
    )
    FAILED_PRECONDITION = strawberry.enum_value(
        DomainErrorCode.FAILED_PRECONDITION.value,
        description="The object is not in a state that allows this.",
    )
    RATE_LIMITED = strawberry.enum_value(
        DomainErrorCode.RATE_LIMITED.value, description="Too many requests or jobs; see retryAfter."
    )
    UNAUTHENTICATED = strawberry.enum_value(
        DomainErrorCode.UNAUTHENTICATED.value, description="No valid API key was sent."
    )
    FORBIDDEN = strawberry.enum_value(
        DomainErrorCode.FORBIDDEN.value,
        description="The key's role does not allow this (VIEWER reads; MEMBER also changes "
        "exports and schemas; ADMIN also manages keys, settings and the catalog).",
    )
    PAYLOAD_TOO_LARGE = strawberry.enum_value(
        DomainErrorCode.PAYLOAD_TOO_LARGE.value,
        description="A file is larger than the gateway accepts (GATEWAY_MAX_IMPORT_BYTES).",
    )


@strawberry.type(description="An expected failure of a mutation, returned as data.")
class UserError:
    code: UserErrorCode = strawberry.field(description="Machine-readable reason.")
    field: list[str] = strawberry.field(
        description='Path to the input field at fault, e.g. ["input", "endTime"]; empty if none.'
    )
    message: str = strawberry.field(description="Human-readable explanation.")
    retry_after: float | None = strawberry.field(
        default=None, description="Seconds to wait before retrying, for RATE_LIMITED."
    )

    @classmethod
    def from_domain(cls, error: Problem) -> UserError:
        return cls(
            code=UserErrorCode(error.code.value),
            field=list(error.field),
            message=error.message,
            retry_after=error.retry_after,
        )


class ApiError(GraphQLError):
    """A GraphQL error with a stable `extensions.code` (not masked)."""

    def __init__(self, message: str, code: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": code, **extensions})

    @classmethod
    def from_domain(cls, error: DomainError) -> ApiError:
        """For queries, which have no payload: the first problem as the error."""
        problem = error.errors[0]
        return cls(problem.message, problem.code.value, field=".".join(problem.field))


class _WithUserErrors(Protocol):
    def __init__(self, *, user_errors: list[UserError]) -> None: ...


P = TypeVar("P", bound=_WithUserErrors)


async def guarded(payload: type[P], result: Awaitable[P]) -> P:
    """Await a resolver's work; the domain's expected failures become the payload's
    `userErrors` (every other field keeps its default). Build `result` as a coroutine that
    has not started, so that failures while parsing the input are caught too."""
    try:
        return await result
    except DomainError as exc:
        return payload(user_errors=[UserError.from_domain(e) for e in exc.errors])


class MaskUnexpectedErrors(MaskErrors):
    """Unexpected exceptions become `INTERNAL_SERVER_ERROR` with a request id; known
    GraphQL errors (validation, ApiError, permissions) keep their message. Every error
    carries `extensions.requestId`, also sent as the `X-Request-Id` header."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message="Internal server error")

    def on_operation(self) -> Iterator[None]:
        yield from super().on_operation()
        self._say_when_to_retry()

    def _say_when_to_retry(self) -> None:
        """An answer with an UNAVAILABLE error (the database went away mid-request) tells the
        client when to retry, in a Retry-After header as a 503 refusal does."""
        result = self.execution_context.result
        errors = getattr(result, "errors", None) or []
        if not any((e.extensions or {}).get("code") == "UNAVAILABLE" for e in errors):
            return
        response = getattr(self.execution_context.context, "response", None)
        headers = getattr(response, "headers", None)
        if headers is not None:  # HTTP; a WebSocket message has none
            headers["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = []
        request_id = request_id_var.get()
        for error in errors:
            if isinstance(error.original_error, InvalidOperationTypeError):
                error = GraphQLError(WRONG_TRANSPORT, extensions={"code": "BAD_REQUEST"})
            elif is_unavailable(error.original_error):
                error = GraphQLError(
                    UNAVAILABLE_MESSAGE,
                    path=error.path,
                    extensions={"code": "UNAVAILABLE", "retryAfter": UNAVAILABLE_RETRY_SECONDS},
                )
            elif is_unexpected(error):
                error = self.anonymise_error(error)
                error.extensions = {"code": "INTERNAL_SERVER_ERROR"}
            elif _too_deep(error):
                error = GraphQLError(TOO_DEEP, extensions={"code": "BAD_REQUEST"})
            extensions = dict(error.extensions or {})
            extensions.setdefault("code", "BAD_REQUEST" if error.path is None else "ERROR")
            if request_id:
                extensions["requestId"] = request_id
            error.extensions = extensions
            processed.append(error)
        return processed


TOO_DEEP = "the query nests too deeply"
# Strawberry carries only subscriptions over the legacy graphql-ws protocol.
WRONG_TRANSPORT = (
    "this transport carries subscriptions only: send queries and mutations as HTTP POST to "
    "/graphql, or over the graphql-transport-ws protocol"
)


def is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    if isinstance(original, InvalidOperationTypeError) or is_unavailable(original):
        return False
    if original is None or isinstance(original, GraphQLError) or _too_deep(error):
        return False
    # Input coercion problems (bad scalar values) are the client's, not ours.
    return not isinstance(original, ValueError | TypeError) or error.path is not None


def _too_deep(error: GraphQLError) -> bool:
    """The parser ran out of stack on a document nested too deeply: the client's doing."""
    return isinstance(error.original_error, RecursionError) and error.path is None


def log_errors(errors: list[GraphQLError]) -> None:
    """Once per error: a traceback only for what the client could not have caused, always
    with the request id the client saw."""
    request_id = request_id_var.get()
    for error in errors:
        if is_unexpected(error):
            log.error(
                "unexpected error (request %s): %s",
                request_id,
                error.message,
                exc_info=error.original_error,
            )
        else:
            code = (error.extensions or {}).get("code", "BAD_REQUEST")
            path = ".".join(str(p) for p in error.path or ())
            log.info("client error %s (request %s) %s: %s", code, request_id, path, error.message)
