"""The asynchronous client: export jobs and the catalog, typed by the generated models, with
retries, typed errors, every page of a listing, following a job over the WebSocket
subscription, waiting for it to end and downloading its files checked against their SHA-256."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx
from websockets.exceptions import ConnectionClosedError

from export_gateway_client._generated.enums import ExportFormat, ExportJobOrder, ExportStatus
from export_gateway_client._generated.estimate_export import EstimateExportEstimateExport
from export_gateway_client._generated.fragments import ExportJobFields, PageInfoFields
from export_gateway_client._generated.get_availability import GetAvailabilityAvailability
from export_gateway_client._generated.input_types import CreateExportInput
from export_gateway_client._generated.list_datastreams import ListDatastreamsDatastreamsEdgesNode
from export_gateway_client._generated.list_export_schemas import (
    ListExportSchemasExportSchemasEdgesNode,
)
from export_gateway_client.errors import (
    ChecksumMismatch,
    FailedPrecondition,
    NotFound,
    Problem,
    ProtocolError,
    WaitTimeout,
    error_for,
    from_user_errors,
)
from export_gateway_client.retry import RetryPolicy, parse_retry_after
from export_gateway_client.transport import Api, Sleep, send_with_retries

ExportJob = ExportJobFields
ExportSchema = ListExportSchemasExportSchemasEdgesNode
Datastream = ListDatastreamsDatastreamsEdgesNode
Availability = GetAvailabilityAvailability
Estimate = EstimateExportEstimateExport

# States a job never leaves (DELETED only appears in exportJobsUpdated).
TERMINAL_STATUSES = frozenset(
    {
        ExportStatus.SUCCEEDED,
        ExportStatus.FAILED,
        ExportStatus.CANCELED,
        ExportStatus.EXPIRED,
        ExportStatus.DELETED,
    }
)
DEFAULT_PAGE_SIZE = 100
_CHUNK = 1 << 16

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class _Edge(Protocol[T_co]):  # the shape every generated connection shares
    @property
    def node(self) -> T_co: ...


class _Connection(Protocol[T_co]):
    @property
    def edges(self) -> Sequence[_Edge[T_co]]: ...

    @property
    def page_info(self) -> PageInfoFields: ...


def websocket_url(url: str) -> str:
    """The subscription endpoint of a GraphQL URL: the same path over ws:// or wss://."""
    if url.startswith("https://"):
        return "wss://" + url[len("https://") :]
    if url.startswith("http://"):
        return "ws://" + url[len("http://") :]
    return url


class AsyncGatewayClient:
    """`AsyncGatewayClient("http://127.0.0.1:8000/graphql", api_key)`; use it as an async
    context manager, or call `aclose()`.

    `api` gives every generated operation as it is (typed results, same retries and errors);
    the methods here add what a program usually wants on top."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        http_client: httpx.AsyncClient | None = None,
        ws_url: str | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.policy = retry or RetryPolicy()
        self._owns_http = http_client is None
        self.http = http_client or httpx.AsyncClient(timeout=timeout)
        self._sleep = sleep
        self.api = Api(
            url,
            api_key,
            http_client=self.http,
            ws_url=ws_url or websocket_url(url),
            policy=self.policy,
            sleep=sleep,
        )

    async def __aenter__(self) -> AsyncGatewayClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    # -- export jobs ---------------------------------------------------------------------

    async def get_export(self, job_id: str) -> ExportJob:
        """The job; NotFound if it does not exist or belongs to another workspace."""
        job = (await self.api.get_export_job(job_id)).export_job
        if job is None:
            raise NotFound([Problem("NOT_FOUND", f"no export job {job_id}", ("id",))])
        return job

    async def create_export(self, request: CreateExportInput | Mapping[str, Any]) -> ExportJob:
        """Create an export job. `request` is a CreateExportInput or a mapping of its fields
        (API or Python names); times are nanoseconds (see `timestamps`). The request's
        `userErrors` are raised as the exception of the first one's code, with all of them in
        `problems`."""
        payload = (await self.api.create_export(_export_input(request))).create_export
        if payload.user_errors:
            raise from_user_errors(payload.user_errors)
        return _present(payload.export_job, "createExport")

    async def cancel_export(self, job_id: str) -> ExportJob:
        payload = (await self.api.cancel_export(job_id)).cancel_export
        if payload.user_errors:
            raise from_user_errors(payload.user_errors)
        return _present(payload.export_job, "cancelExport")

    async def delete_export(self, job_id: str) -> str:
        """Delete the job and its files; its id."""
        payload = (await self.api.delete_export(job_id)).delete_export
        if payload.user_errors:
            raise from_user_errors(payload.user_errors)
        return _present(payload.deleted_id, "deleteExport")

    async def estimate_export(self, request: CreateExportInput | Mapping[str, Any]) -> Estimate:
        """Rows and bytes the export would produce, without creating a job."""
        estimate = (await self.api.estimate_export(_export_input(request))).estimate_export
        if estimate.user_errors:
            raise from_user_errors(estimate.user_errors)
        return estimate

    def iter_exports(
        self,
        *,
        status: ExportStatus | None = None,
        datastream_id: str | int | None = None,
        format: ExportFormat | None = None,
        created_after: int | None = None,
        created_before: int | None = None,
        order_by: ExportJobOrder = ExportJobOrder.CREATED_AT_DESC,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> AsyncIterator[ExportJob]:
        """Every job matching the filters, newest first by default, fetched a page at a time."""

        async def page(after: str | None) -> _Connection[ExportJob]:
            result = await self.api.list_export_jobs(
                status=status,
                datastream_id=None if datastream_id is None else str(datastream_id),
                format=format,
                created_after=created_after,
                created_before=created_before,
                order_by=order_by,
                first=page_size,
                after=after,
            )
            return result.export_jobs

        return _every_node(page)

    async def follow(self, job_id: str) -> AsyncIterator[ExportJob]:
        """The job's current state, then every change until a terminal state, over the
        `exportJobUpdated` subscription. A dropped connection is reopened (with the retry
        policy's backoff); the subscription starts with the current state, so nothing final
        is missed."""
        failures = 0
        while True:
            try:
                async for update in self.api.export_job_updated(job_id):
                    failures = 0
                    yield update.export_job_updated
                    if update.export_job_updated.status in TERMINAL_STATUSES:
                        return
                return  # the server completed the subscription
            except (ConnectionClosedError, OSError):
                failures += 1
                if failures >= self.policy.max_attempts:
                    raise
                await self._sleep(self.policy.delay(failures))

    async def follow_all(
        self, *, status: ExportStatus | None = None, datastream_id: str | int | None = None
    ) -> AsyncIterator[ExportJob]:
        """Every change to the workspace's jobs (`exportJobsUpdated`); never ends by itself."""
        async for update in self.api.export_jobs_updated(
            status=status, datastream_id=None if datastream_id is None else str(datastream_id)
        ):
            yield update.export_jobs_updated

    async def wait(
        self, job_id: str, *, timeout: float | None = None, poll_interval: float | None = None
    ) -> ExportJob:
        """The job once it is terminal (SUCCEEDED, FAILED, CANCELED, EXPIRED): followed over
        the subscription, or polled every `poll_interval` seconds if given. WaitTimeout after
        `timeout` seconds."""
        try:
            async with asyncio.timeout(timeout):
                if poll_interval is not None:
                    return await self._poll(job_id, poll_interval)
                async for update in self.follow(job_id):
                    if update.status in TERMINAL_STATUSES:
                        return update
                return await self.get_export(job_id)  # completed early: read where it stands
        except TimeoutError as exc:
            problem = Problem("WAIT_TIMEOUT", f"{job_id} did not end within {timeout} s")
            raise WaitTimeout([problem]) from exc

    async def _poll(self, job_id: str, interval: float) -> ExportJob:
        while True:
            job = await self.get_export(job_id)
            if job.status in TERMINAL_STATUSES:
                return job
            await self._sleep(interval)

    async def download(self, job: str | ExportJob, dest: str | os.PathLike[str]) -> list[Path]:
        """Every file of the job into the directory `dest` (created if missing), each checked
        against the SHA-256 and size the API reported before it takes its name: a file that
        does not match is deleted and ChecksumMismatch raised. The paths, in the job's order.
        Links are signed and expire: the job is read again now unless given."""
        if isinstance(job, str):
            job = await self.get_export(job)
        if not job.artifacts:
            message = f"{job.id} has no files (status {job.status.value})"
            raise FailedPrecondition([Problem("FAILED_PRECONDITION", message)])
        directory = Path(dest)
        directory.mkdir(parents=True, exist_ok=True)
        return [
            await self._download_file(a.url, directory, a.filename, a.sha_256, a.byte_size)
            for a in job.artifacts
        ]

    async def _download_file(
        self, url: str, directory: Path, filename: str, sha256: str, size: int
    ) -> Path:
        if Path(filename).name != filename or filename in {"", ".", ".."}:
            raise ProtocolError([Problem("PROTOCOL_ERROR", f"unsafe file name {filename!r}")])
        target = directory / filename
        partial = directory / f".{filename}.part"

        async def send() -> httpx.Response:
            return await self.http.send(self.http.build_request("GET", url), stream=True)

        response = await send_with_retries(send, self.policy, self._sleep, graphql=False)
        try:
            if response.status_code != 200:
                await response.aread()
                header = parse_retry_after(response.headers.get("retry-after"))
                problem = Problem(
                    _status_code_name(response.status_code),
                    f"downloading {filename}: HTTP {response.status_code} {response.text[:200]}",
                )
                raise error_for([problem], status_code=response.status_code, retry_after=header)
            digest, written = hashlib.sha256(), 0
            with partial.open("wb") as out:
                async for chunk in response.aiter_bytes(_CHUNK):
                    digest.update(chunk)
                    written += len(chunk)
                    out.write(chunk)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        finally:
            await response.aclose()
        if digest.hexdigest() != sha256 or written != size:
            partial.unlink(missing_ok=True)
            message = (
                f"{filename}: got {written} bytes with SHA-256 {digest.hexdigest()}, "
                f"the API reported {size} bytes with {sha256}"
            )
            raise ChecksumMismatch([Problem("CHECKSUM_MISMATCH", message)])
        partial.replace(target)
        return target

    # -- the catalog and export schemas --------------------------------------------------

    def iter_export_schemas(
        self, *, stream_category: str | None = None, page_size: int = DEFAULT_PAGE_SIZE
    ) -> AsyncIterator[ExportSchema]:
        """The built-in export schemas, then the workspace's, every page."""

        async def page(after: str | None) -> _Connection[ExportSchema]:
            result = await self.api.list_export_schemas(
                stream_category=stream_category, first=page_size, after=after
            )
            return result.export_schemas

        return _every_node(page)

    def iter_datastreams(
        self,
        *,
        exchange: str | None = None,
        instrument: str | None = None,
        stream_type: str | None = None,
        include_archived: bool = False,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> AsyncIterator[Datastream]:
        """Datastreams matching the filters, in id order, every page."""

        async def page(after: str | None) -> _Connection[Datastream]:
            result = await self.api.list_datastreams(
                include_archived=include_archived,
                exchange=exchange,
                instrument=instrument,
                stream_type=stream_type,
                first=page_size,
                after=after,
            )
            return result.datastreams

        return _every_node(page)

    async def availability(self, datastream_id: str | int) -> Availability:
        """The time ranges that hold records; NotFound for an unknown datastream."""
        found = (await self.api.get_availability(str(datastream_id))).availability
        if found is None:
            message = f"no datastream {datastream_id}"
            raise NotFound([Problem("NOT_FOUND", message, ("datastreamId",))])
        return found


async def _every_node(
    page: Callable[[str | None], Awaitable[_Connection[T]]],
) -> AsyncIterator[T]:
    """The nodes of a Relay connection, page after page, until `hasNextPage` is false."""
    after: str | None = None
    while True:
        connection = await page(after)
        for edge in connection.edges:
            yield edge.node
        info = connection.page_info
        if not info.has_next_page or info.end_cursor is None:
            return
        after = info.end_cursor


def _export_input(request: CreateExportInput | Mapping[str, Any]) -> CreateExportInput:
    if isinstance(request, CreateExportInput):
        return request
    return CreateExportInput.model_validate(dict(request))


def _present(value: T | None, operation: str) -> T:
    if value is None:  # the API gives a result whenever it gives no userErrors
        problem = Problem("PROTOCOL_ERROR", f"{operation} returned neither a result nor errors")
        raise ProtocolError([problem])
    return value


def _status_code_name(status: int) -> str:
    return {
        400: "BAD_REQUEST",
        401: "UNAUTHENTICATED",
        403: "FORBIDDEN",
        404: "NOT_FOUND",
        410: "NOT_FOUND",
        413: "PAYLOAD_TOO_LARGE",
        429: "RATE_LIMITED",
        503: "UNAVAILABLE",
    }.get(status, "PROTOCOL_ERROR")
