"""What imports leave behind, removed by the sweeper: uploads nobody imported once their URL
expired, uploads of finished jobs (a worker normally removes those itself), and reports of
rejected records after the retention period. Rows change first, files go afterwards (a pass
that dies half-way is finished by the next one)."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import ImportJobRow, ImportUploadRow
from app.domain.exports.status import ACTIVE
from app.storage import Storage, folder_of, storage_for
from engine.timestamps import now_ns

BATCH = 200


async def purge(session: AsyncSession, settings: Settings) -> int:
    """One step of each clean-up; how many files or folders were removed."""
    reports, uploads = await _expired_reports(session), await _unneeded_uploads(session)
    await asyncio.to_thread(_remove, storage_for(settings), reports, uploads)
    return len(reports) + len(uploads)


async def _expired_reports(session: AsyncSession) -> list[str]:
    rows = (
        await session.execute(
            select(ImportJobRow.id, ImportJobRow.report_path)
            .where(ImportJobRow.report_path.is_not(None), ImportJobRow.expires_at < now_ns())
            .limit(BATCH)
        )
    ).all()
    for job_id, path in rows:
        await session.execute(
            update(ImportJobRow)
            .where(ImportJobRow.id == job_id, ImportJobRow.report_path == path)
            .values(report_path=None, report_byte_size=None)
        )
    await session.commit()
    return [str(path) for _job_id, path in rows]


async def _unneeded_uploads(session: AsyncSession) -> list[str]:
    finished_job = select(ImportJobRow.id).where(ImportJobRow.status.not_in(ACTIVE))
    rows = (
        await session.execute(
            select(ImportUploadRow.id, ImportUploadRow.path)
            .where(
                or_(
                    ImportUploadRow.import_job_id.is_(None)
                    & (ImportUploadRow.expires_at < now_ns()),
                    ImportUploadRow.import_job_id.in_(finished_job),
                )
            )
            .limit(BATCH)
        )
    ).all()
    if rows:
        await session.execute(
            delete(ImportUploadRow).where(ImportUploadRow.id.in_([r.id for r in rows]))
        )
        await session.commit()
    return [folder_of(path) for _id, path in rows]


def _remove(storage: Storage, reports: list[str], folders: list[str]) -> None:
    for report in reports:
        storage.delete(report)
    for folder in folders:
        storage.delete_tree(folder)
