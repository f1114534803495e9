"""The blocking client: the asynchronous one run on a private event loop, so both behave
alike (same retries, errors, pagination, downloads). Use it from ordinary code; inside
async code (a running event loop) use AsyncGatewayClient."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx

from export_gateway_client._generated.enums import ExportFormat, ExportJobOrder, ExportStatus
from export_gateway_client._generated.input_types import CreateExportInput
from export_gateway_client.client import (
    DEFAULT_PAGE_SIZE,
    AsyncGatewayClient,
    Availability,
    Datastream,
    Estimate,
    ExportJob,
    ExportSchema,
)
from export_gateway_client.retry import RetryPolicy

T = TypeVar("T")


class GatewayClient:
    """`with GatewayClient("http://127.0.0.1:8000/graphql", api_key) as client: ...`; the
    methods are AsyncGatewayClient's, blocking; iterators are ordinary iterators."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        ws_url: str | None = None,
    ) -> None:
        self._runner = asyncio.Runner()
        http = httpx.AsyncClient(timeout=timeout, transport=transport)
        self._http = http
        self.aio = AsyncGatewayClient(
            url, api_key, retry=retry, timeout=timeout, http_client=http, ws_url=ws_url
        )

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._run(self._http.aclose())
        self._runner.close()

    def get_export(self, job_id: str) -> ExportJob:
        return self._run(self.aio.get_export(job_id))

    def create_export(self, request: CreateExportInput | Mapping[str, Any]) -> ExportJob:
        return self._run(self.aio.create_export(request))

    def cancel_export(self, job_id: str) -> ExportJob:
        return self._run(self.aio.cancel_export(job_id))

    def delete_export(self, job_id: str) -> str:
        return self._run(self.aio.delete_export(job_id))

    def estimate_export(self, request: CreateExportInput | Mapping[str, Any]) -> Estimate:
        return self._run(self.aio.estimate_export(request))

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
    ) -> Iterator[ExportJob]:
        return self._iterate(
            self.aio.iter_exports(
                status=status,
                datastream_id=datastream_id,
                format=format,
                created_after=created_after,
                created_before=created_before,
                order_by=order_by,
                page_size=page_size,
            )
        )

    def follow(self, job_id: str) -> Iterator[ExportJob]:
        return self._iterate(self.aio.follow(job_id))

    def wait(
        self, job_id: str, *, timeout: float | None = None, poll_interval: float | None = None
    ) -> ExportJob:
        return self._run(self.aio.wait(job_id, timeout=timeout, poll_interval=poll_interval))

    def download(self, job: str | ExportJob, dest: str | os.PathLike[str]) -> list[Path]:
        return self._run(self.aio.download(job, dest))

    def iter_export_schemas(
        self, *, stream_category: str | None = None, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Iterator[ExportSchema]:
        return self._iterate(
            self.aio.iter_export_schemas(stream_category=stream_category, page_size=page_size)
        )

    def iter_datastreams(
        self,
        *,
        exchange: str | None = None,
        instrument: str | None = None,
        stream_type: str | None = None,
        include_archived: bool = False,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Iterator[Datastream]:
        return self._iterate(
            self.aio.iter_datastreams(
                exchange=exchange,
                instrument=instrument,
                stream_type=stream_type,
                include_archived=include_archived,
                page_size=page_size,
            )
        )

    def availability(self, datastream_id: str | int) -> Availability:
        return self._run(self.aio.availability(datastream_id))

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self._runner.run(coroutine)

    def _iterate(self, items: AsyncIterator[T]) -> Iterator[T]:
        async def next_item() -> tuple[bool, T | None]:
            try:
                return True, await anext(items)
            except StopAsyncIteration:
                return False, None

        try:
            while True:
                more, item = self._run(next_item())
                if not more:
                    return
                yield item  # type: ignore[misc]  # T when more is True
        finally:
            aclose = getattr(items, "aclose", None)
            if aclose is not None:
                self._run(aclose())
