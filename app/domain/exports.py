"""Export jobs as the gateway sees them: create (validated, idempotent), cancel, read, list.

The job row is the truth; a broker message only wakes a worker, and is sent after commit.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings, get_settings
from app.db.models import (
    DatastreamRow,
    ExportArtifactRow,
    ExportJobRow,
    InstrumentRow,
    WorkspaceRow,
)
from app.domain.auth import Principal
from app.domain.catalog import estimate_rows, segments_in_range_async, source_context
from app.domain.errors import DomainError, ErrorCode, UserError, user_error
from app.domain.export_options import OptionsRequest, resolve_options
from app.domain.export_schemas import ExportSchemaDef, applicability_errors, resolve_for_export
from app.ids import new_id
from engine.export_schema import SchemaError, compile_schema
from engine.logical import LogicalType, SourceContext
from engine.timestamps import TimestampError, now_ns, parse_timestamp


class JobStatus(str, Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"  # succeeded, then its files were deleted after the retention period

    @property
    def terminal(self) -> bool:
        return self in (
            JobStatus.SUCCEEDED,
            JobStatus.FAILED,
            JobStatus.CANCELED,
            JobStatus.EXPIRED,
        )


ACTIVE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
FORMATS = ("CSV", "PARQUET", "JSONL")
COMPRESSIONS = ("NONE", "GZIP", "ZSTD")


@dataclass(frozen=True)
class ExportRequest:
    """What a client asks for, before validation (timestamps still as given)."""

    datastream_id: Any
    start_time: Any
    end_time: Any
    schema: str | None = None  # built-in or custom name, or sch_ id; default raw
    inline_schema: dict[str, Any] | None = None
    format: str = "CSV"
    compression: str | None = None
    idempotency_key: str | None = None
    options: OptionsRequest | None = None


def parse_datastream_id(value: Any, field: str) -> int:
    text = str(value).removeprefix("ds_")
    if isinstance(value, bool) or not text.isdigit() or int(text) >= 2**63:
        raise user_error(ErrorCode.INVALID_ARGUMENT, field, f"{value!r} is not a datastream id")
    return int(text)


@dataclass(frozen=True)
class ValidatedExport:
    datastream: DatastreamRow
    schema: ExportSchemaDef
    snapshot: dict[str, Any]
    start_ns: int
    end_ns: int
    format: str
    compression: str
    options: dict[str, Any]
    fields: list[tuple[str, LogicalType]]
    fingerprint: str
    context: SourceContext


async def validate_export(
    session: AsyncSession, who: Principal, request: ExportRequest
) -> ValidatedExport:
    """Every check of a request, all problems at once, and the resolved options."""
    errors: list[UserError] = []
    datastream = await _validated_datastream(session, request.datastream_id, errors)
    start_ns = _validated_time(request.start_time, "input.startTime", errors)
    end_ns = _validated_time(request.end_time, "input.endTime", errors)
    if start_ns is not None and end_ns is not None and end_ns <= start_ns:
        errors.append(
            UserError(
                ErrorCode.INVALID_ARGUMENT,
                ("input", "endTime"),
                "endTime must be after startTime (the range is [startTime, endTime))",
            )
        )
    reference = request.schema
    if reference is None and request.inline_schema is None:
        reference = "raw"
    schema: ExportSchemaDef | None = None
    try:
        schema = await resolve_for_export(
            session, who, reference, request.inline_schema, datastream
        )
    except DomainError as exc:
        errors.extend(exc.errors)
    fields: list[tuple[str, LogicalType]] | None = None
    context: SourceContext | None = None
    if schema is not None and datastream is not None:
        instrument = await session.get(InstrumentRow, datastream.instrument_id)
        context = source_context(datastream, instrument)
        problems = applicability_errors(schema, datastream, context.market, "input.schema")
        errors.extend(problems)
        if not problems:
            fields = _schema_fields(schema, context, errors)
    if request.format not in FORMATS:
        errors.append(
            UserError(
                ErrorCode.INVALID_ARGUMENT,
                ("input", "format"),
                f"format must be one of {', '.join(FORMATS)}",
            )
        )
    compression = request.compression or ("NONE" if request.format == "PARQUET" else "GZIP")
    if compression not in COMPRESSIONS:
        errors.append(
            UserError(
                ErrorCode.INVALID_ARGUMENT,
                ("input", "compression"),
                f"compression must be one of {', '.join(COMPRESSIONS)}",
            )
        )
    elif request.format == "PARQUET" and compression != "NONE":
        errors.append(
            UserError(
                ErrorCode.INVALID_ARGUMENT,
                ("input", "compression"),
                "Parquet files are compressed inside: use NONE and formatOptions.compression",
            )
        )
    options: dict[str, Any] = {}
    if fields is not None and request.format in FORMATS:
        options, problems = resolve_options(
            request.options or OptionsRequest(),
            request.format,
            fields,
            get_settings().max_export_rows,
            (end_ns - start_ns) if start_ns is not None and end_ns is not None else 0,
        )
        errors.extend(problems)
    key = request.idempotency_key
    if key is not None and not 1 <= len(key) <= 200:
        errors.append(
            UserError(
                ErrorCode.INVALID_ARGUMENT,
                ("input", "idempotencyKey"),
                "idempotencyKey must be 1 to 200 characters",
            )
        )
    if errors:
        raise DomainError(errors)
    assert (
        datastream is not None
        and schema is not None
        and start_ns is not None
        and end_ns is not None
        and fields is not None
        and context is not None
    )
    snapshot = schema.snapshot()
    fingerprint = _fingerprint(
        datastream.id, start_ns, end_ns, snapshot, request.format, compression, options
    )
    return ValidatedExport(
        datastream,
        schema,
        snapshot,
        start_ns,
        end_ns,
        request.format,
        compression,
        options,
        fields,
        fingerprint,
        context,
    )


def _schema_fields(
    schema: ExportSchemaDef, context: SourceContext, errors: list[UserError]
) -> list[tuple[str, LogicalType]] | None:
    """The columns this schema produces for this datastream (binding it is cheap)."""
    try:
        return compile_schema(schema.spec, context).fields  # already checked: no re-parse
    except SchemaError as exc:
        errors.append(UserError(ErrorCode.INVALID_ARGUMENT, ("input", "schema"), str(exc)))
        return None


async def create_export(
    session: AsyncSession, who: Principal, request: ExportRequest
) -> tuple[ExportJobRow, bool]:
    """Validate and record a job.

    Returns (job, created); created is False when an idempotency key replays an earlier job.
    """
    checked = await validate_export(session, who, request)
    key = request.idempotency_key
    datastream, schema = checked.datastream, checked.schema
    start_ns, end_ns, fingerprint = checked.start_ns, checked.end_ns, checked.fingerprint
    if key is not None:
        existing = await _by_idempotency_key(session, who.workspace_id, key)
        if existing is not None:
            return _replayed(existing, fingerprint), False
    await _check_active_cap(session, who, key, get_settings())
    segments = await segments_in_range_async(session, datastream.id, start_ns, end_ns)
    job = ExportJobRow(
        id=new_id("export_job"),
        workspace_id=who.workspace_id,
        datastream_id=datastream.id,
        status=JobStatus.QUEUED.value,
        schema_name=schema.name,
        schema_snapshot=checked.snapshot,
        schema_id=schema.id,
        schema_version=schema.version,
        options=checked.options,
        format=checked.format,
        compression=checked.compression,
        start_ns=start_ns,
        end_ns=end_ns,
        idempotency_key=key,
        request_fingerprint=fingerprint,
        created_at=now_ns(),
        rows_written=0,
        bytes_written=0,
        attempts=0,
        estimated_rows=estimate_rows(segments, start_ns, end_ns),
    )
    session.add(job)
    try:
        await session.commit()
    except IntegrityError:
        # A concurrent create with the same idempotency key won the race.
        await session.rollback()
        existing = await _by_idempotency_key(session, who.workspace_id, key or "")
        if existing is None:
            raise
        return _replayed(existing, fingerprint), False
    return job, True


def _replayed(job: ExportJobRow, fingerprint: str) -> ExportJobRow:
    if job.request_fingerprint != fingerprint:
        raise user_error(
            ErrorCode.CONFLICT,
            "input.idempotencyKey",
            f"idempotencyKey was already used for a different request ({job.id})",
        )
    return job


# retryAfter when no running job of the workspace gives a basis for an estimate, and bounds.
DEFAULT_RETRY_AFTER_SECONDS = 10.0
MAX_RETRY_AFTER_SECONDS = 300.0


async def _check_active_cap(
    session: AsyncSession, who: Principal, key: str | None, settings: Settings
) -> None:
    """At most `max_active_exports` queued or running jobs per workspace: RATE_LIMITED beyond.

    The workspace row is locked first and held until the new job commits, so that two
    concurrent creates at cap-1 cannot both pass: SELECT ... FOR UPDATE on PostgreSQL, and on
    SQLite a no-op UPDATE, which takes the database's write lock (busy_timeout waits for it).
    """
    await _lock_workspace(session, who.workspace_id)
    active = (
        await session.execute(
            select(
                ExportJobRow.status,
                ExportJobRow.started_at,
                ExportJobRow.rows_written,
                ExportJobRow.estimated_rows,
            ).where(ExportJobRow.workspace_id == who.workspace_id, ExportJobRow.status.in_(ACTIVE))
        )
    ).all()
    if len(active) < settings.max_active_exports:
        return
    if key is not None and await _by_idempotency_key(session, who.workspace_id, key):
        return  # a concurrent request with this key won the race: the insert replays it
    raise DomainError(
        [
            UserError(
                ErrorCode.RATE_LIMITED,
                ("input",),
                f"this workspace already has {len(active)} queued or running exports, the "
                f"limit is {settings.max_active_exports}: retry when one of them has finished",
                retry_after=_retry_after(active, now_ns(), settings),
            )
        ]
    )


async def _lock_workspace(session: AsyncSession, workspace_id: str) -> None:
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(
            update(WorkspaceRow)
            .where(WorkspaceRow.id == workspace_id)
            .values(name=WorkspaceRow.name)
            .execution_options(synchronize_session=False)
        )
    else:
        await session.execute(
            select(WorkspaceRow.id).where(WorkspaceRow.id == workspace_id).with_for_update()
        )


def _retry_after(active: Sequence[Any], now: int, settings: Settings) -> float:
    """Seconds until the soonest running job is expected to finish: its elapsed time scaled by
    the rows still to write (a rough rate: estimated rows count messages), never beyond the
    time limit that stops it anyway; whole seconds between 1 and MAX_RETRY_AFTER_SECONDS."""
    estimates = []
    for status, started_at, written, estimated in active:
        if status != JobStatus.RUNNING.value or started_at is None:
            continue
        elapsed = max(0.0, (now - started_at) / 1e9)
        left = max(0.0, settings.job_timeout_seconds - elapsed)
        if written > 0:
            left = min(left, elapsed * max(0, estimated - written) / written)
        estimates.append(left)
    seconds = min(estimates) if estimates else DEFAULT_RETRY_AFTER_SECONDS
    return float(min(max(math.ceil(seconds), 1), MAX_RETRY_AFTER_SECONDS))


async def _by_idempotency_key(
    session: AsyncSession, workspace_id: str, key: str
) -> ExportJobRow | None:
    return (
        await session.scalars(
            select(ExportJobRow).where(
                ExportJobRow.workspace_id == workspace_id, ExportJobRow.idempotency_key == key
            )
        )
    ).first()


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


async def _validated_datastream(
    session: AsyncSession, value: Any, errors: list[UserError]
) -> DatastreamRow | None:
    try:
        datastream_id = parse_datastream_id(value, "input.datastreamId")
    except DomainError as exc:
        errors.extend(exc.errors)
        return None
    datastream = await session.get(DatastreamRow, datastream_id)
    if datastream is None:
        errors.append(
            UserError(
                ErrorCode.NOT_FOUND,
                ("input", "datastreamId"),
                f"datastream {datastream_id} does not exist",
            )
        )
    return datastream


def _validated_time(value: Any, field: str, errors: list[UserError]) -> int | None:
    try:
        return parse_timestamp(value)
    except TimestampError as exc:
        errors.append(UserError(ErrorCode.INVALID_ARGUMENT, tuple(field.split(".")), str(exc)))
        return None


async def get_export(session: AsyncSession, who: Principal, job_id: str) -> ExportJobRow | None:
    """Another workspace's job is simply not found: IDs leak nothing."""
    return (
        await session.scalars(
            select(ExportJobRow).where(
                ExportJobRow.id == job_id, ExportJobRow.workspace_id == who.workspace_id
            )
        )
    ).first()


async def cancel_export(session: AsyncSession, who: Principal, job_id: str) -> ExportJobRow:
    job = await get_export(session, who, job_id)
    if job is None:
        raise user_error(ErrorCode.NOT_FOUND, "input.id", f"no export job {job_id!r}")
    result = await session.execute(
        update(ExportJobRow)
        .where(ExportJobRow.id == job.id, ExportJobRow.status.in_(ACTIVE))
        .values(status=JobStatus.CANCELED.value, reason="canceled by request", finished_at=now_ns())
    )
    await session.commit()
    await session.refresh(job)
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise user_error(
            ErrorCode.FAILED_PRECONDITION,
            "input.id",
            f"export job {job.id} is already {job.status} and cannot be canceled",
        )
    return job


@dataclass(frozen=True)
class ListFilter:
    """Which of a workspace's jobs to list: all given conditions hold; created in
    [created_after, created_before)."""

    status: str | None = None
    datastream_id: int | None = None
    format: str | None = None
    created_after: int | None = None
    created_before: int | None = None


def list_cursor(job: ExportJobRow) -> str:
    """A position in the listing: (created_at, id), unique and the sort key of both orders."""
    return f"{job.created_at}:{job.id}"


async def _cursor_position(session: AsyncSession, who: Principal, value: str) -> tuple[int, str]:
    created, _, job_id = value.partition(":")
    if job_id and created.isdigit():
        return int(created), job_id
    # A bare job id: the cursors of earlier releases.
    job = await get_export(session, who, value)
    if job is None:
        raise user_error(ErrorCode.INVALID_ARGUMENT, "after", "after is not a cursor of this list")
    return job.created_at, job.id


async def list_exports(
    session: AsyncSession,
    who: Principal,
    where: ListFilter,
    *,
    after: str | None,
    limit: int,
    ascending: bool = False,
) -> tuple[list[ExportJobRow], int]:
    """Ordered by creation time (newest first unless ascending), then id; keyset pagination
    from `after` (a `list_cursor` value), so concurrent inserts never shift a page."""
    if (
        where.created_after is not None
        and where.created_before is not None
        and where.created_before <= where.created_after
    ):
        raise user_error(
            ErrorCode.INVALID_ARGUMENT,
            "createdBefore",
            "createdBefore must be after createdAfter (the range is [createdAfter, createdBefore))",
        )
    query = select(ExportJobRow).where(ExportJobRow.workspace_id == who.workspace_id)
    if where.status:
        query = query.where(ExportJobRow.status == where.status)
    if where.datastream_id is not None:
        query = query.where(ExportJobRow.datastream_id == where.datastream_id)
    if where.format:
        query = query.where(ExportJobRow.format == where.format)
    if where.created_after is not None:
        query = query.where(ExportJobRow.created_at >= where.created_after)
    if where.created_before is not None:
        query = query.where(ExportJobRow.created_at < where.created_before)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    if after is not None:
        created, job_id = await _cursor_position(session, who, after)
        if ascending:
            query = query.where(
                or_(
                    ExportJobRow.created_at > created,
                    (ExportJobRow.created_at == created) & (ExportJobRow.id > job_id),
                )
            )
        else:
            query = query.where(
                or_(
                    ExportJobRow.created_at < created,
                    (ExportJobRow.created_at == created) & (ExportJobRow.id < job_id),
                )
            )
    order = (
        (ExportJobRow.created_at.asc(), ExportJobRow.id.asc())
        if ascending
        else (ExportJobRow.created_at.desc(), ExportJobRow.id.desc())
    )
    rows = (await session.scalars(query.order_by(*order).limit(limit))).all()
    return list(rows), int(total)


async def artifacts_for(
    session: AsyncSession, job_ids: list[str]
) -> dict[str, list[ExportArtifactRow]]:
    rows = await session.scalars(
        select(ExportArtifactRow)
        .where(ExportArtifactRow.job_id.in_(job_ids))
        .order_by(ExportArtifactRow.filename)
    )
    result: dict[str, list[ExportArtifactRow]] = {job_id: [] for job_id in job_ids}
    for artifact in rows:
        result[artifact.job_id].append(artifact)
    return result


async def get_artifact(
    session: AsyncSession, artifact_id: str
) -> tuple[ExportArtifactRow, ExportJobRow] | None:
    row = (
        await session.execute(
            select(ExportArtifactRow, ExportJobRow)
            .join(ExportJobRow, ExportJobRow.id == ExportArtifactRow.job_id)
            .where(
                ExportArtifactRow.id == artifact_id,
                ExportJobRow.status == JobStatus.SUCCEEDED.value,
            )
        )
    ).first()
    return (row[0], row[1]) if row else None


async def stale_jobs(
    session: AsyncSession, *, heartbeat_before: int, queued_before: int
) -> list[str]:
    """Jobs to wake again: RUNNING with a stopped heartbeat, QUEUED and waiting too long."""
    rows = await session.scalars(
        select(ExportJobRow.id).where(
            or_(
                (ExportJobRow.status == JobStatus.RUNNING.value)
                & (ExportJobRow.heartbeat_at < heartbeat_before),
                (ExportJobRow.status == JobStatus.QUEUED.value)
                & (ExportJobRow.created_at < queued_before)
                & or_(
                    ExportJobRow.heartbeat_at.is_(None), ExportJobRow.heartbeat_at < queued_before
                ),
            )
        )
    )
    return list(rows)


async def mark_requeued(session: AsyncSession, job_ids: list[str]) -> None:
    """Remember when a queued job was last woken, so the sweeper does not flood the broker."""
    if job_ids:
        await session.execute(
            update(ExportJobRow)
            .where(ExportJobRow.id.in_(job_ids), ExportJobRow.status == JobStatus.QUEUED.value)
            .values(heartbeat_at=now_ns())
        )
        await session.commit()


async def requeue_unfinished(session: AsyncSession) -> list[str]:
    """Embedded start-up only: orphaned RUNNING jobs go back to QUEUED; returns all unfinished."""
    await session.execute(
        update(ExportJobRow)
        .where(ExportJobRow.status == JobStatus.RUNNING.value)
        .values(status=JobStatus.QUEUED.value, claim_token=None)
    )
    await session.commit()
    rows = await session.scalars(select(ExportJobRow.id).where(ExportJobRow.status.in_(ACTIVE)))
    return list(rows)


async def jobs_by_ids(
    session: AsyncSession, who: Principal, job_ids: list[str]
) -> list[ExportJobRow]:
    rows = await session.scalars(
        select(ExportJobRow).where(
            ExportJobRow.workspace_id == who.workspace_id, ExportJobRow.id.in_(job_ids)
        )
    )
    return list(rows)


async def active_job_ids(session: AsyncSession, who: Principal) -> list[str]:
    rows = await session.scalars(
        select(ExportJobRow.id).where(
            ExportJobRow.workspace_id == who.workspace_id, ExportJobRow.status.in_(ACTIVE)
        )
    )
    return list(rows)
