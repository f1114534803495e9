"""Typed client of the export gateway's GraphQL API.

The models and operations are generated from the gateway's schema.graphql by ariadne-codegen
(`_generated`, never edited by hand: `make codegen`); this package adds the clients people use:
`GatewayClient` (blocking) and `AsyncGatewayClient`, typed errors, retries, pagination,
following and waiting for jobs, and checked downloads."""

from export_gateway_client._generated.enums import (
    Compression,
    ExportFormat,
    ExportJobOrder,
    ExportStatus,
)
from export_gateway_client._generated.input_types import CreateExportInput
from export_gateway_client.client import (
    TERMINAL_STATUSES,
    AsyncGatewayClient,
    Availability,
    Datastream,
    Estimate,
    ExportJob,
    ExportSchema,
)
from export_gateway_client.errors import (
    BadRequest,
    ChecksumMismatch,
    Conflict,
    ConnectionFailed,
    FailedPrecondition,
    Forbidden,
    GatewayError,
    HeadersTooLarge,
    InternalServerError,
    InvalidArgument,
    NotFound,
    PayloadTooLarge,
    Problem,
    ProtocolError,
    QueryTooCostly,
    RateLimited,
    Unauthenticated,
    Unavailable,
    WaitTimeout,
)
from export_gateway_client.retry import RetryPolicy
from export_gateway_client.sync import GatewayClient

__all__ = [
    "TERMINAL_STATUSES",
    "AsyncGatewayClient",
    "Availability",
    "BadRequest",
    "ChecksumMismatch",
    "Compression",
    "Conflict",
    "ConnectionFailed",
    "CreateExportInput",
    "Datastream",
    "Estimate",
    "ExportFormat",
    "ExportJob",
    "ExportJobOrder",
    "ExportSchema",
    "ExportStatus",
    "FailedPrecondition",
    "Forbidden",
    "GatewayClient",
    "GatewayError",
    "HeadersTooLarge",
    "InternalServerError",
    "InvalidArgument",
    "NotFound",
    "PayloadTooLarge",
    "Problem",
    "ProtocolError",
    "QueryTooCostly",
    "RateLimited",
    "RetryPolicy",
    "Unauthenticated",
    "Unavailable",
    "WaitTimeout",
]
