"""Reading a workspace's export jobs: one, a filtered page, their artifacts. Another
workspace's job is simply not found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.db.models import ExportArtifactRow, ExportJobRow
from app.domain.auth import Principal
from app.domain.errors import ErrorCode, user_error
from app.domain.exports.status import ACTIVE, JobStatus
from app.ids import id_prefix
from engine.strict import is_ascii_digits
from engine.timestamps import now_ns


async def get_export(session: AsyncSession, who: Principal, job_id: str) -> ExportJobRow | None:
    """Another workspace's job is simply not found: IDs leak nothing."""
    return (
        await session.scalars(
            select(ExportJobRow).where(
                ExportJobRow.id == job_id, ExportJobRow.workspace_id == who.workspace_id
            )
        )
    ).first()


async def get_exports(
    session: AsyncSession, who: Principal, job_ids: list[str]
) -> dict[str, ExportJobRow]:
    """Several jobs of the caller's workspace in one query, by id (the missing are absent)."""
    rows = await session.scalars(
        select(ExportJobRow).where(
            ExportJobRow.id.in_(job_ids), ExportJobRow.workspace_id == who.workspace_id
        )
    )
    return {row.id: row for row in rows}


async def get_export_any_workspace(session: AsyncSession, job_id: str) -> ExportJobRow | None:
    """For a read shared by the subscribers of several workspaces: each checks the result's
    workspace itself."""
    return await session.get(ExportJobRow, job_id)


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
    if job_id and is_ascii_digits(created) and id_prefix(job_id) == "exp":
        return int(created), job_id
    # A bare job id: the cursors of earlier releases.
    job = await get_export(session, who, value)
    if job is None:
        raise user_error(ErrorCode.INVALID_ARGUMENT, "after", "after is not a cursor of this list")
    return job.created_at, job.id


def _exports_datastream(datastream_id: int) -> ColumnElement[bool]:
    """The job exports this datastream: its only one, or one of its datastream_ids. The JSON
    list is matched as text, `[601, 602]` read as `,601,602,` (the same on SQLite and
    PostgreSQL, whose json type keeps the text SQLAlchemy wrote)."""
    text: ColumnElement[str] = cast(ExportJobRow.datastream_ids, Text)
    for character, replacement in ((" ", ""), ("[", ","), ("]", ",")):
        text = func.replace(text, character, replacement)
    return or_(
        ExportJobRow.datastream_id == datastream_id,
        text.like(f"%,{int(datastream_id)},%"),
    )


async def list_exports(
    session: AsyncSession,
    who: Principal,
    where: ListFilter,
    *,
    after: str | None,
    limit: int,
    ascending: bool = False,
    count: bool = True,
) -> tuple[list[ExportJobRow], int]:
    """Ordered by creation time (newest first unless ascending), then id; keyset pagination
    from `after` (a `list_cursor` value), so concurrent inserts never shift a page. The total
    is counted only when asked for (`count`; else 0): a poll of the first page rarely is."""
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
        query = query.where(_exports_datastream(where.datastream_id))
    if where.format:
        query = query.where(ExportJobRow.format == where.format)
    if where.created_after is not None:
        query = query.where(ExportJobRow.created_at >= where.created_after)
    if where.created_before is not None:
        query = query.where(ExportJobRow.created_at < where.created_before)
    total = 0
    if count:
        counted = select(func.count()).select_from(query.subquery())
        total = (await session.execute(counted)).scalar_one()
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
            .where(ExportArtifactRow.id == artifact_id, _downloadable())
        )
    ).first()
    return (row[0], row[1]) if row else None


def _downloadable() -> Any:
    """A succeeded job's files, and the partial files a failed job kept until they expire;
    never one that `fsck --repair` marked broken."""
    kept_partial = (
        (ExportJobRow.status == JobStatus.FAILED.value)
        & ExportArtifactRow.partial
        & (ExportJobRow.expires_at > now_ns())
    )
    finished = (ExportJobRow.status == JobStatus.SUCCEEDED.value) | kept_partial
    return finished & ExportArtifactRow.broken_reason.is_(None)  # fsck found it damaged


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
