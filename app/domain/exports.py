"""Export jobs as the gateway sees them: create (validated, idempotent), cancel, read, list.

The job row is the truth; a broker message only wakes a worker, and is sent after commit.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Datastream, ExportArtifact, ExportJob, Instrument
from app.domain.auth import Principal
from app.domain.catalog import estimate_rows, segments_in_range_async
from app.domain.errors import DomainError, ErrorCode, UserError, user_error
from app.domain.export_schemas import ExportSchemaDef, applicability_errors, resolve_for_export
from app.ids import new_id
from app.timeutil import TimestampError, now_ns, parse_timestamp


class JobStatus(str, Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"

    @property
    def terminal(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED)


ACTIVE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
FORMATS = ("CSV", "PARQUET", "JSONL")
COMPRESSIONS = ("NONE", "GZIP")


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


def parse_datastream_id(value: Any, field: str) -> int:
    text = str(value).removeprefix("ds_")
    if isinstance(value, bool) or not text.isdigit() or int(text) >= 2**63:
        raise user_error(ErrorCode.INVALID_ARGUMENT, field, f"{value!r} is not a datastream id")
    return int(text)


async def create_export(
    session: AsyncSession, who: Principal, request: ExportRequest
) -> tuple[ExportJob, bool]:
    """Validate and record a job.

    Returns (job, created); created is False when an idempotency key replays an earlier job.
    """
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
    if schema is not None and datastream is not None:
        market = await _market(session, datastream)
        errors.extend(applicability_errors(schema, datastream, market, "input.schema"))
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
                "Parquet files are compressed inside (zstd): use NONE",
            )
        )
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
    )
    snapshot = schema.snapshot()
    fingerprint = _fingerprint(
        datastream.id, start_ns, end_ns, snapshot, request.format, compression
    )
    if key is not None:
        existing = await _by_idempotency_key(session, who.workspace_id, key)
        if existing is not None:
            return _replayed(existing, fingerprint), False
    segments = await segments_in_range_async(session, datastream.id, start_ns, end_ns)
    job = ExportJob(
        id=new_id("export_job"),
        workspace_id=who.workspace_id,
        datastream_id=datastream.id,
        status=JobStatus.QUEUED.value,
        schema_name=schema.name,
        schema_snapshot=snapshot,
        schema_id=schema.id,
        schema_version=schema.version,
        format=request.format,
        compression=compression,
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


def _replayed(job: ExportJob, fingerprint: str) -> ExportJob:
    if job.request_fingerprint != fingerprint:
        raise user_error(
            ErrorCode.CONFLICT,
            "input.idempotencyKey",
            f"idempotencyKey was already used for a different request ({job.id})",
        )
    return job


async def _by_idempotency_key(
    session: AsyncSession, workspace_id: str, key: str
) -> ExportJob | None:
    return (
        await session.scalars(
            select(ExportJob).where(
                ExportJob.workspace_id == workspace_id, ExportJob.idempotency_key == key
            )
        )
    ).first()


async def _market(session: AsyncSession, datastream: Datastream) -> str:
    instrument = await session.get(Instrument, datastream.instrument_id)
    return instrument.type if instrument is not None else ""


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


async def _validated_datastream(
    session: AsyncSession, value: Any, errors: list[UserError]
) -> Datastream | None:
    try:
        datastream_id = parse_datastream_id(value, "input.datastreamId")
    except DomainError as exc:
        errors.extend(exc.errors)
        return None
    datastream = await session.get(Datastream, datastream_id)
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


async def get_export(session: AsyncSession, who: Principal, job_id: str) -> ExportJob | None:
    """Another workspace's job is simply not found: IDs leak nothing."""
    return (
        await session.scalars(
            select(ExportJob).where(
                ExportJob.id == job_id, ExportJob.workspace_id == who.workspace_id
            )
        )
    ).first()


async def cancel_export(session: AsyncSession, who: Principal, job_id: str) -> ExportJob:
    job = await get_export(session, who, job_id)
    if job is None:
        raise user_error(ErrorCode.NOT_FOUND, "input.id", f"no export job {job_id!r}")
    result = await session.execute(
        update(ExportJob)
        .where(ExportJob.id == job.id, ExportJob.status.in_(ACTIVE))
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


async def list_exports(
    session: AsyncSession,
    who: Principal,
    *,
    status: str | None,
    datastream_id: int | None,
    before_id: str | None,
    limit: int,
) -> tuple[list[ExportJob], int]:
    """Newest first. IDs are UUIDv7, so ordering by id is ordering by creation time."""
    query = select(ExportJob).where(ExportJob.workspace_id == who.workspace_id)
    if status:
        query = query.where(ExportJob.status == status)
    if datastream_id is not None:
        query = query.where(ExportJob.datastream_id == datastream_id)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    if before_id is not None:
        query = query.where(ExportJob.id < before_id)
    rows = (await session.scalars(query.order_by(ExportJob.id.desc()).limit(limit))).all()
    return list(rows), int(total)


async def artifacts_for(
    session: AsyncSession, job_ids: list[str]
) -> dict[str, list[ExportArtifact]]:
    rows = await session.scalars(
        select(ExportArtifact)
        .where(ExportArtifact.job_id.in_(job_ids))
        .order_by(ExportArtifact.filename)
    )
    result: dict[str, list[ExportArtifact]] = {job_id: [] for job_id in job_ids}
    for artifact in rows:
        result[artifact.job_id].append(artifact)
    return result


async def get_artifact(
    session: AsyncSession, artifact_id: str
) -> tuple[ExportArtifact, ExportJob] | None:
    row = (
        await session.execute(
            select(ExportArtifact, ExportJob)
            .join(ExportJob, ExportJob.id == ExportArtifact.job_id)
            .where(ExportArtifact.id == artifact_id, ExportJob.status == JobStatus.SUCCEEDED.value)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def stale_jobs(
    session: AsyncSession, *, heartbeat_before: int, queued_before: int
) -> list[str]:
    """Jobs to wake again: RUNNING with a stopped heartbeat, QUEUED and waiting too long."""
    rows = await session.scalars(
        select(ExportJob.id).where(
            or_(
                (ExportJob.status == JobStatus.RUNNING.value)
                & (ExportJob.heartbeat_at < heartbeat_before),
                (ExportJob.status == JobStatus.QUEUED.value)
                & (ExportJob.created_at < queued_before)
                & or_(ExportJob.heartbeat_at.is_(None), ExportJob.heartbeat_at < queued_before),
            )
        )
    )
    return list(rows)


async def mark_requeued(session: AsyncSession, job_ids: list[str]) -> None:
    """Remember when a queued job was last woken, so the sweeper does not flood the broker."""
    if job_ids:
        await session.execute(
            update(ExportJob)
            .where(ExportJob.id.in_(job_ids), ExportJob.status == JobStatus.QUEUED.value)
            .values(heartbeat_at=now_ns())
        )
        await session.commit()


async def requeue_unfinished(session: AsyncSession) -> list[str]:
    """Embedded start-up only: orphaned RUNNING jobs go back to QUEUED; returns all unfinished."""
    await session.execute(
        update(ExportJob)
        .where(ExportJob.status == JobStatus.RUNNING.value)
        .values(status=JobStatus.QUEUED.value, claim_token=None)
    )
    await session.commit()
    rows = await session.scalars(select(ExportJob.id).where(ExportJob.status.in_(ACTIVE)))
    return list(rows)


async def jobs_by_ids(session: AsyncSession, who: Principal, job_ids: list[str]) -> list[ExportJob]:
    rows = await session.scalars(
        select(ExportJob).where(
            ExportJob.workspace_id == who.workspace_id, ExportJob.id.in_(job_ids)
        )
    )
    return list(rows)


async def active_job_ids(session: AsyncSession, who: Principal) -> list[str]:
    rows = await session.scalars(
        select(ExportJob.id).where(
            ExportJob.workspace_id == who.workspace_id, ExportJob.status.in_(ACTIVE)
        )
    )
    return list(rows)
