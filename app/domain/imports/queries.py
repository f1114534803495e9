"""Reading a workspace's import jobs: one, or a page, newest first. Another workspace's job
is simply not found."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ImportJobRow
from app.domain.auth import Principal
from app.domain.errors import ErrorCode, user_error
from app.ids import id_prefix
from engine.strict import is_ascii_digits


async def get_import(session: AsyncSession, who: Principal, job_id: str) -> ImportJobRow | None:
    return (
        await session.scalars(
            select(ImportJobRow).where(
                ImportJobRow.id == job_id, ImportJobRow.workspace_id == who.workspace_id
            )
        )
    ).first()


def list_cursor(job: ImportJobRow) -> str:
    return f"{job.created_at}:{job.id}"


def _position(value: str) -> tuple[int, str]:
    created, _, job_id = value.partition(":")
    if not (is_ascii_digits(created, max_length=19) and id_prefix(job_id) == "imp"):
        raise user_error(ErrorCode.INVALID_ARGUMENT, "after", "after is not a cursor of this list")
    return int(created), job_id


async def list_imports(
    session: AsyncSession,
    who: Principal,
    *,
    status: str | None,
    datastream_id: int | None,
    after: str | None,
    limit: int,
) -> tuple[list[ImportJobRow], int]:
    """Newest first, keyset-paged on (created_at, id) so that new jobs never shift a page."""
    query = select(ImportJobRow).where(ImportJobRow.workspace_id == who.workspace_id)
    if status is not None:
        query = query.where(ImportJobRow.status == status)
    if datastream_id is not None:
        query = query.where(ImportJobRow.datastream_id == datastream_id)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    if after is not None:
        created, job_id = _position(after)
        query = query.where(
            or_(
                ImportJobRow.created_at < created,
                (ImportJobRow.created_at == created) & (ImportJobRow.id < job_id),
            )
        )
    query = query.order_by(ImportJobRow.created_at.desc(), ImportJobRow.id.desc()).limit(limit)
    return list((await session.scalars(query)).all()), int(total)


async def rejected_report(session: AsyncSession, job_id: str) -> str | None:
    """Where an import job's report of rejected records is (relative to the storage
    directory), if it has one: for its signed download link, which names no workspace."""
    job = await session.get(ImportJobRow, job_id)
    return job.report_path if job is not None else None
