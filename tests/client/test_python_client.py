"""The Python client's own layer, against answers scripted with httpx's MockTransport: which
refusals are retried and after how long, bounded attempts, typed errors from GraphQL errors,
HTTP errors and userErrors, every page of a listing, checked downloads, and the scalars."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from export_gateway_client import (
    AsyncGatewayClient,
    BadRequest,
    ChecksumMismatch,
    ExportStatus,
    Forbidden,
    GatewayClient,
    GatewayError,
    InvalidArgument,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    RetryPolicy,
    Unauthenticated,
    Unavailable,
)
from export_gateway_client import timestamps as ts
from export_gateway_client.errors import ConnectionFailed
from export_gateway_client.retry import parse_retry_after
from export_gateway_client.scalars import format_timestamp, parse_long, parse_timestamp

URL = "http://gateway.test/graphql"
NS = 1_709_251_800_123_456_789  # 2024-03-01T00:10:00.123456789Z


def job_json(job_id: str = "exp_1", status: str = "SUCCEEDED", **fields: Any) -> dict[str, Any]:
    return {
        "id": job_id,
        "status": status,
        "reason": None,
        "datastreamId": "9007199254740993",
        "datastreamIds": ["9007199254740993"],
        "format": "CSV",
        "compression": "GZIP",
        "schema": {"name": "raw", "id": None, "version": None, "columns": ["a"]},
        "startTime": "2024-03-01T00:10:00.123456789Z",
        "endTime": "2024-03-01T00:40:00.000000000Z",
        "createdAt": "2024-03-01T00:00:00.000000001Z",
        "startedAt": None,
        "finishedAt": None,
        "expiresAt": None,
        "idempotencyKey": None,
        "attempts": 1,
        "keepPartial": False,
        "progress": {"rowsWritten": "12", "bytesWritten": "340", "estimatedRows": "12"},
        "artifacts": [],
        **fields,
    }


def data(payload: dict[str, Any], status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"data": payload}, headers=headers)


def errors(
    code: str, status: int = 200, message: str = "refused", **extensions: Any
) -> httpx.Response:
    body = {
        "data": None,
        "errors": [{"message": message, "extensions": {"code": code, **extensions}}],
    }
    return httpx.Response(status, json=body)


class Script:
    """Answers given in order, one per request; the requests are kept."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def variables(self, index: int) -> dict[str, Any]:
        return dict(json.loads(self.requests[index].content)["variables"])


class Sleeps:
    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def client_for(
    handler: Callable[[httpx.Request], httpx.Response],
    sleeps: Sleeps | None = None,
    policy: RetryPolicy | None = None,
) -> AsyncGatewayClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return AsyncGatewayClient(
        URL, "egw_key", http_client=http, retry=policy or RetryPolicy(), sleep=sleeps or Sleeps()
    )


async def test_rate_limited_errors_wait_the_time_the_gateway_names() -> None:
    script = Script(
        errors("RATE_LIMITED", status=429, retryAfter=2),
        data({"exportJob": job_json()}),
    )
    sleeps = Sleeps()
    job = await client_for(script, sleeps).get_export("exp_1")
    assert job.id == "exp_1" and len(script.requests) == 2
    assert sleeps.seconds == [2.0]
    assert all(r.headers["x-api-key"] == "egw_key" for r in script.requests)


async def test_the_retry_after_header_counts_when_the_error_names_no_time() -> None:
    refused = httpx.Response(429, json={"errors": [{"message": "slow down"}]})
    refused.headers["Retry-After"] = "3"
    script = Script(refused, data({"exportJob": job_json()}))
    sleeps = Sleeps()
    await client_for(script, sleeps).get_export("exp_1")
    assert sleeps.seconds == [3.0]


async def test_unavailable_is_retried_with_growing_backoff() -> None:
    script = Script(
        errors("UNAVAILABLE", status=503),
        errors("UNAVAILABLE", status=503),
        data({"exportJob": job_json()}),
    )
    sleeps = Sleeps()
    policy = RetryPolicy(base_delay=1.0, jitter=0.0)
    await client_for(script, sleeps, policy).get_export("exp_1")
    assert sleeps.seconds == [1.0, 2.0]


async def test_attempts_are_bounded_and_the_last_refusal_is_raised_typed() -> None:
    script = Script(*(errors("RATE_LIMITED", retryAfter=3600) for _ in range(3)))
    sleeps = Sleeps()
    client = client_for(script, sleeps, RetryPolicy(max_attempts=3, max_delay=5.0))
    with pytest.raises(RateLimited) as raised:
        await client.get_export("exp_1")
    assert len(script.requests) == 3
    assert sleeps.seconds == [5.0, 5.0]  # an hour asked, capped by max_delay
    assert raised.value.retry_after == 3600.0 and raised.value.code == "RATE_LIMITED"


async def test_connections_that_could_not_open_are_retried_then_reported() -> None:
    refused = httpx.ConnectError("connection refused")
    script = Script(refused, data({"exportJob": job_json()}))
    assert (await client_for(script).get_export("exp_1")).id == "exp_1"
    failing = Script(refused, refused)
    with pytest.raises(ConnectionFailed):
        await client_for(failing, policy=RetryPolicy(max_attempts=2)).get_export("exp_1")
    assert len(failing.requests) == 2


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("UNAUTHENTICATED", 200, Unauthenticated),
        ("BAD_REQUEST", 200, BadRequest),
        ("INVALID_ARGUMENT", 200, InvalidArgument),
        ("PAYLOAD_TOO_LARGE", 413, PayloadTooLarge),
        ("SOMETHING_NEW", 200, GatewayError),
    ],
)
async def test_errors_that_are_not_refusals_are_raised_at_once_typed(
    code: str, status: int, expected: type[GatewayError]
) -> None:
    script = Script(errors(code, status=status, message="no", requestId="req-1"))
    with pytest.raises(expected) as raised:
        await client_for(script).get_export("exp_1")
    assert len(script.requests) == 1
    assert raised.value.code == code and raised.value.message == "no"
    assert raised.value.request_id == "req-1" and raised.value.status_code == status


async def test_an_http_error_without_a_graphql_body_is_typed_by_its_status() -> None:
    script = Script(*(httpx.Response(503, text="down") for _ in range(2)))
    with pytest.raises(Unavailable) as raised:
        await client_for(script, policy=RetryPolicy(max_attempts=2)).get_export("exp_1")
    assert raised.value.status_code == 503


async def test_a_missing_job_is_not_found() -> None:
    with pytest.raises(NotFound) as raised:
        await client_for(Script(data({"exportJob": None}))).get_export("exp_404")
    assert raised.value.field == ("id",)


async def test_user_errors_become_the_first_codes_exception_with_every_problem() -> None:
    payload = {
        "createExport": {
            "exportJob": None,
            "userErrors": [
                {"code": "FORBIDDEN", "field": ["input"], "message": "MEMBER", "retryAfter": None},
                {
                    "code": "INVALID_ARGUMENT",
                    "field": ["input", "endTime"],
                    "message": "x",
                    "retryAfter": None,
                },
            ],
        }
    }
    request = {"datastream_id": "101", "start_time": NS, "end_time": NS + 1}
    script = Script(data(payload))
    with pytest.raises(Forbidden) as raised:
        await client_for(script).create_export(request)
    assert [(p.code, p.field) for p in raised.value.problems] == [
        ("FORBIDDEN", ("input",)),
        ("INVALID_ARGUMENT", ("input", "endTime")),
    ]
    sent = script.variables(0)["input"]  # Timestamps and Longs go out as decimal strings
    assert (sent["startTime"], sent["endTime"]) == (str(NS), str(NS + 1))
    assert sent["datastreamId"] == "101"


async def test_a_rate_limited_user_error_carries_its_wait() -> None:
    payload = {
        "cancelExport": {
            "exportJob": None,
            "userErrors": [
                {"code": "RATE_LIMITED", "field": [], "message": "cap", "retryAfter": 7}
            ],
        }
    }
    with pytest.raises(RateLimited) as raised:
        await client_for(Script(data(payload))).cancel_export("exp_1")
    assert raised.value.retry_after == 7.0


def page(ids: list[str], end: str | None) -> httpx.Response:
    edges = [{"cursor": f"c_{i}", "node": job_json(i)} for i in ids]
    info = {"hasNextPage": end is not None, "endCursor": end}
    return data({"exportJobs": {"totalCount": "5", "edges": edges, "pageInfo": info}})


async def test_listings_are_followed_to_their_last_page() -> None:
    script = Script(page(["a", "b"], "c_b"), page(["c", "d"], "c_d"), page(["e"], None))
    client = client_for(script)
    got = [job.id async for job in client.iter_exports(status=ExportStatus.SUCCEEDED, page_size=2)]
    assert got == ["a", "b", "c", "d", "e"]
    assert [script.variables(i).get("after") for i in range(3)] == [None, "c_b", "c_d"]
    assert {script.variables(i)["first"] for i in range(3)} == {2}
    assert script.variables(0)["status"] == "SUCCEEDED"


def test_the_blocking_client_behaves_alike() -> None:
    script = Script(page(["a"], "c_a"), page(["b"], None), errors("NOT_FOUND"))
    policy = RetryPolicy(max_attempts=1)
    with GatewayClient(URL, "k", retry=policy, transport=httpx.MockTransport(script)) as client:
        assert [job.id for job in client.iter_exports()] == ["a", "b"]
        with pytest.raises(NotFound):
            client.get_export("exp_1")


def artifact_job(content: bytes, sha256: str) -> dict[str, Any]:
    artifact = {
        "filename": "101_exp_1.csv.gz",
        "url": "http://gateway.test/downloads/art_1/101_exp_1.csv.gz?signature=s",
        "expiresAt": "2024-03-02T00:00:00.000000000Z",
        "byteSize": str(len(content)),
        "rowCount": "2",
        "sha256": sha256,
        "contentType": "application/gzip",
        "partial": False,
    }
    return job_json(artifacts=[artifact])


@pytest.mark.parametrize("tampered", [False, True])
async def test_downloads_keep_only_files_whose_sha256_matches(
    tmp_path: Path, tampered: bool
) -> None:
    content = b"a,b\n1,2\n"
    served = content.replace(b"1", b"7") if tampered else content
    job = artifact_job(content, hashlib.sha256(content).hexdigest())

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/downloads/"):
            assert "x-api-key" not in request.headers  # the signed link is the credential
            return httpx.Response(200, content=served)
        return data({"exportJob": job})

    client = client_for(handler)
    if tampered:
        with pytest.raises(ChecksumMismatch):
            await client.download("exp_1", tmp_path / "out")
        assert list((tmp_path / "out").iterdir()) == []  # nothing partial left behind
    else:
        [path] = await client.download("exp_1", tmp_path / "out")
        assert path == tmp_path / "out" / "101_exp_1.csv.gz" and path.read_bytes() == content


async def test_an_expired_link_is_a_typed_error(tmp_path: Path) -> None:
    job = artifact_job(b"x", "0" * 64)
    client = client_for(Script(httpx.Response(403, text="invalid or expired download link")))
    with pytest.raises(Forbidden) as raised:
        await client.download(client_model(job), tmp_path)
    assert "expired" in raised.value.message


def client_model(job: dict[str, Any]) -> Any:
    from export_gateway_client import ExportJob

    return ExportJob.model_validate(job)


def test_long_and_timestamp_scalars_keep_every_digit() -> None:
    job = client_model(job_json())
    assert job.datastream_id == 2**53 + 1 and job.datastream_ids == [2**53 + 1]
    assert job.progress.rows_written == 12
    assert job.start_time == NS and format_timestamp(NS) == "2024-03-01T00:10:00.123456789Z"
    assert parse_long(2**63 - 1) == 2**63 - 1 and parse_long("-5") == -5
    for bad in ("1.5", "1e3", 2**63, True, " 1"):
        with pytest.raises(ValueError):
            parse_long(bad)
    assert parse_timestamp("2024-03-01T01:10:00.123456789+01:00") == NS
    assert parse_timestamp("2024-03-01T00:10:00.1Z") == NS - 23_456_789
    assert parse_timestamp(str(NS)) == NS


def test_datetimes_refuse_to_drop_nanoseconds_unless_asked() -> None:
    with pytest.raises(ts.PrecisionLoss):
        ts.to_datetime(NS)
    moment = ts.to_datetime(NS, truncate=True)
    assert moment.isoformat() == "2024-03-01T00:10:00.123456+00:00"
    assert ts.split(NS) == (moment, 789)
    assert ts.from_datetime(moment, 789) == NS
    assert ts.from_datetime(ts.to_datetime(NS - 789)) == NS - 789  # whole microseconds: exact
    assert ts.to_datetime(-1, truncate=True).isoformat() == "1969-12-31T23:59:59.999999+00:00"
    with pytest.raises(ValueError):
        ts.from_datetime(moment.replace(tzinfo=None))


def test_retry_after_takes_seconds_or_an_http_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2024, 3, 1, 0, 0, 0, tzinfo=UTC)
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Fri, 01 Mar 2024 00:00:30 GMT", now) == 30.0
    assert parse_retry_after("Thu, 29 Feb 2024 00:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


class GraphQLTransportWS:
    """A graphql-transport-ws server on a free port: each connection gets the next script, a
    list of job updates to send, ended by "drop" (close abnormally), "complete" or an error
    payload."""

    def __init__(self, *scripts: list[Any]) -> None:
        self.scripts = list(scripts)
        self.init_payloads: list[Any] = []

    async def handle(self, ws: Any) -> None:
        init = json.loads(await ws.recv())
        self.init_payloads.append(init.get("payload"))
        await ws.send(json.dumps({"type": "connection_ack"}))
        subscribe = json.loads(await ws.recv())
        sid = subscribe["id"]
        for step in self.scripts.pop(0):
            if step == "drop":
                await ws.close(code=1011)
                return
            if step == "complete":
                await ws.send(json.dumps({"type": "complete", "id": sid}))
                await ws.wait_closed()
                return
            if isinstance(step, list):  # GraphQL errors in a next message
                message = {"type": "next", "id": sid, "payload": {"data": None, "errors": step}}
            else:
                payload = {"data": {"exportJobUpdated": job_json(status=step)}}
                message = {"type": "next", "id": sid, "payload": payload}
            await ws.send(json.dumps(message))
        await ws.wait_closed()


async def follow_with(server: GraphQLTransportWS, sleeps: Sleeps) -> list[str]:
    from websockets.asyncio.server import serve

    async with serve(server.handle, "127.0.0.1", 0) as running:
        port = next(iter(running.sockets)).getsockname()[1]
        client = client_for(Script(), sleeps)
        client.api.ws_url = f"ws://127.0.0.1:{port}/graphql"
        return [job.status.value async for job in client.follow("exp_1")]


async def test_follow_reopens_a_dropped_subscription_and_stops_at_the_end() -> None:
    server = GraphQLTransportWS(["QUEUED", "RUNNING", "drop"], ["RUNNING", "SUCCEEDED"])
    sleeps = Sleeps()
    assert await follow_with(server, sleeps) == ["QUEUED", "RUNNING", "RUNNING", "SUCCEEDED"]
    assert len(sleeps.seconds) == 1  # one backoff before the second connection
    assert server.init_payloads == [{"apiKey": "egw_key"}] * 2


async def test_errors_on_the_subscription_are_typed() -> None:
    error = {"message": "no export job exp_1", "extensions": {"code": "NOT_FOUND"}}
    with pytest.raises(NotFound):
        await follow_with(GraphQLTransportWS([[error]]), Sleeps())
