"""What a job's progress means, computed the same way by every worker and gateway.

Two units never mix: `records_read` and `records_total` count *input* records (stored
messages), before the schema unfolds them into rows and before filters and decimation drop
rows; `rows_written` counts output rows. The fraction is records read over records in range
(the segment catalog's count at creation), written by the worker on each progress tick in
the same UPDATE as the counters, as `max(old, new)`: it never goes back, not even when a
retried attempt reads from the start again. It stays below 1 while the job runs (the catalog's
count is an estimate, prorated over segments that straddle the range's ends) and is exactly 1
once the job SUCCEEDED. The ETA is derived from stored columns only, so every gateway shows
the same number for the same row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, case, cast, literal

from app.domain.exports.status import JobStatus

# Shown while a job still runs, however far past the catalog's estimate it has read.
RUNNING_FRACTION_CAP = 0.999
# No ETA before this share of the records and this much time (one rate sample is noise).
ETA_MIN_FRACTION = 0.01
ETA_MIN_SECONDS = 1.0


def raised_fraction(current: Any, read: Any, total: Any) -> Any:
    """SQL for the fraction after reading `read` of `total` records (columns, values or
    subqueries): records read over total, capped below 1, never below `current`."""
    ratio = case(
        (total > 0, cast(read, Float) / cast(total, Float)),
        else_=literal(0.0),
    )
    capped = case((ratio > RUNNING_FRACTION_CAP, literal(RUNNING_FRACTION_CAP)), else_=ratio)
    return case((capped > current, capped), else_=current)


def eta_seconds(
    status: str,
    records_read: int,
    records_total: int,
    started_at: int | None,
    heartbeat_at: int | None,
) -> float | None:
    """Seconds until the job should finish, at the rate it has read records since it
    (this attempt) started running: 0 once it has ended, None while queued or until it has
    read `ETA_MIN_FRACTION` of its records over at least `ETA_MIN_SECONDS`."""
    if JobStatus(status).terminal:
        return 0.0
    if status != JobStatus.RUNNING.value or started_at is None or heartbeat_at is None:
        return None
    elapsed = (heartbeat_at - started_at) / 1e9
    if records_total <= 0 or elapsed < ETA_MIN_SECONDS:
        return None
    if records_read < records_total * ETA_MIN_FRACTION or records_read <= 0:
        return None
    remaining = max(0, records_total - records_read)
    return remaining * elapsed / records_read
