"""Listing a workspace's export jobs: filters, both orders, keyset cursors that stay correct
while jobs are added, and refused ranges and cursors."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.domain.auth import Principal
from app.domain.errors import ErrorCode
from app.domain.exports import commands, queries
from app.domain.exports.queries import ListFilter
from app.domain.runtime import Runtime
from tests.domain.helpers import export_request, problems_of, stored_job
from tests.helpers.inprocess import BYBIT_TRADES, TRADES, Seed


@dataclass(frozen=True)
class Listed:
    ids: list[str]
    total: int


async def listing(
    runtime: Runtime,
    who: Principal,
    where: ListFilter | None = None,
    *,
    page: int = 2,
    ascending: bool = False,
) -> Listed:
    """Every page, following the cursor of each page's last job; total as the first page says."""
    ids: list[str] = []
    after = None
    total = None
    while True:
        async with runtime.sessions() as session:
            rows, count = await queries.list_exports(
                session, who, where or ListFilter(), after=after, limit=page, ascending=ascending
            )
        total = count if total is None else total
        ids += [row.id for row in rows]
        if len(rows) < page:
            return Listed(ids, total)
        after = queries.list_cursor(rows[-1])


async def create(runtime: Runtime, who: Principal, **fields: object) -> str:
    job, created = await commands.create_export(runtime, who, export_request(**fields))
    assert created
    return job.id


@pytest.fixture
async def jobs(runtime: Runtime, seed: Seed) -> list[str]:
    """Five of alpha's jobs, oldest first: CSV, JSONL, CSV (Bybit, canceled), PARQUET, CSV;
    and one of beta's."""
    alpha = seed.principals["alpha"]
    ids = [
        await create(runtime, alpha, format="CSV"),
        await create(runtime, alpha, format="JSONL"),
        await create(runtime, alpha, format="CSV", datastream_id=str(BYBIT_TRADES.id)),
        await create(runtime, alpha, format="PARQUET"),
        await create(runtime, alpha, format="CSV"),
    ]
    await commands.cancel_export(runtime, alpha, ids[2])
    await create(runtime, seed.principals["beta"])
    return ids


async def test_both_orders_page_through_every_job(
    runtime: Runtime, seed: Seed, jobs: list[str]
) -> None:
    alpha = seed.principals["alpha"]
    assert await listing(runtime, alpha) == Listed(jobs[::-1], 5)  # newest first
    assert await listing(runtime, alpha, ascending=True) == Listed(jobs, 5)
    assert await listing(runtime, alpha, page=1, ascending=True) == Listed(jobs, 5)
    assert await listing(runtime, alpha, page=5) == Listed(jobs[::-1], 5)


async def test_filters_all_hold_together(runtime: Runtime, seed: Seed, jobs: list[str]) -> None:
    alpha = seed.principals["alpha"]
    created = [(await stored_job(runtime, job_id)).created_at for job_id in jobs]
    assert created == sorted(created) and len(set(created)) == 5
    cases = [
        (ListFilter(format="CSV"), [jobs[0], jobs[2], jobs[4]]),
        (ListFilter(status="CANCELED"), [jobs[2]]),
        (ListFilter(status="QUEUED", format="CSV"), [jobs[0], jobs[4]]),
        (ListFilter(datastream_id=BYBIT_TRADES.id), [jobs[2]]),
        (ListFilter(datastream_id=TRADES.id, format="PARQUET"), [jobs[3]]),
        # Created in [after, before): the lower bound is included, the upper one is not.
        (ListFilter(created_after=created[1], created_before=created[4]), jobs[1:4]),
        (ListFilter(created_after=created[3]), jobs[3:]),
        (ListFilter(created_before=created[1]), jobs[:1]),
        (ListFilter(created_after=created[1], created_before=created[4], format="CSV"), [jobs[2]]),
        (ListFilter(status="SUCCEEDED"), []),
    ]
    for where, expected in cases:
        assert await listing(runtime, alpha, where, ascending=True) == Listed(
            expected, len(expected)
        ), where
        assert await listing(runtime, alpha, where, page=1) == Listed(
            expected[::-1], len(expected)
        ), where


async def test_cursors_stay_correct_when_jobs_are_added_between_pages(
    runtime: Runtime, seed: Seed, jobs: list[str]
) -> None:
    alpha = seed.principals["alpha"]

    async def page(after: str | None, ascending: bool) -> list[str]:
        async with runtime.sessions() as session:
            rows, _total = await queries.list_exports(
                session, alpha, ListFilter(), after=after, limit=2, ascending=ascending
            )
        return [row.id for row in rows]

    def cursor_of(job_id: str) -> str:
        return queries.list_cursor(rows[job_id])

    rows = {job_id: await stored_job(runtime, job_id) for job_id in jobs}
    newest_first = await page(None, ascending=False)
    assert newest_first == [jobs[4], jobs[3]]
    added = await create(runtime, alpha)
    # The newer job does not shift the pages after the first: it sorts before them.
    assert await page(cursor_of(jobs[3]), ascending=False) == [jobs[2], jobs[1]]
    assert await page(cursor_of(jobs[1]), ascending=False) == [jobs[0]]
    oldest_first = await page(None, ascending=True)
    assert oldest_first == [jobs[0], jobs[1]]
    later = await create(runtime, alpha, format="JSONL")
    assert await page(cursor_of(jobs[1]), ascending=True) == [jobs[2], jobs[3]]
    assert await page(cursor_of(jobs[3]), ascending=True) == [jobs[4], added]
    rows[added] = await stored_job(runtime, added)
    assert await page(cursor_of(added), ascending=True) == [later]


async def test_a_bare_job_id_is_still_a_cursor(
    runtime: Runtime, seed: Seed, jobs: list[str]
) -> None:
    """The cursors of earlier releases were job ids."""
    async with runtime.sessions() as session:
        rows, _total = await queries.list_exports(
            session, seed.principals["alpha"], ListFilter(), after=jobs[3], limit=10
        )
    assert [row.id for row in rows] == jobs[2::-1]


async def test_invalid_ranges_and_cursors_are_refused(
    runtime: Runtime, seed: Seed, jobs: list[str]
) -> None:
    alpha, beta = seed.principals["alpha"], seed.principals["beta"]
    created = (await stored_job(runtime, jobs[2])).created_at

    async def refused(where: ListFilter, after: str | None = None) -> tuple[str, ...]:
        async with runtime.sessions() as session:
            [(code, field, _message)] = await problems_of(
                queries.list_exports(session, alpha, where, after=after, limit=10)
            )
        assert code == ErrorCode.INVALID_ARGUMENT
        return field

    assert await refused(ListFilter(created_after=created, created_before=created - 1)) == (
        "createdBefore",
    )
    assert await refused(ListFilter(created_after=created, created_before=created)) == (
        "createdBefore",
    )
    assert await refused(ListFilter(), after="bm90IGEgY3Vyc29y") == ("after",)
    # Another workspace's job id is no cursor of this list.
    async with runtime.sessions() as session:
        [beta_job], _total = await queries.list_exports(
            session, beta, ListFilter(), after=None, limit=5
        )
    assert await refused(ListFilter(), after=beta_job.id) == ("after",)
