from app.domain.availability import AvailableRange, merge_ranges
from app.domain.catalog import SegmentInfo, estimate_rows
from app.ids import id_prefix, new_id


def test_availability_merges_overlaps_and_small_gaps_only() -> None:
    ranges = merge_ranges(
        [(100, 200, 10), (150, 300, 5), (305, 400, 1), (1000, 1100, 7)], max_gap_ns=10
    )
    assert ranges == [AvailableRange(100, 401, 16), AvailableRange(1000, 1101, 7)]


def test_estimate_rows_interpolates_inside_segments() -> None:
    segments = [SegmentInfo("a", 0, 99, 1000, 0), SegmentInfo("b", 100, 199, 500, 0)]
    assert estimate_rows(segments, 50, 150) == 500 + 250
    assert estimate_rows(segments, 500, 600) == 0


def test_ids_are_prefixed_time_ordered_hex() -> None:
    first, second = new_id("export_job"), new_id("export_job")
    assert id_prefix(first) == "exp" and len(first) == 36
    assert first[4:16] <= second[4:16]


def test_retry_after_estimates_the_soonest_running_job_within_bounds() -> None:
    from app.config import Settings
    from app.domain.exports.commands import _retry_after

    settings = Settings(job_timeout_seconds=3600)
    second = 10**9
    now = 1000 * second
    rate = 100_000.0  # what recent jobs achieved, rows per second

    def retry(*active: tuple[object, ...]) -> float:
        return _retry_after(list(active), now, settings, rate)

    assert retry(("QUEUED", None, 0, 100)) == 10  # nothing to go by
    # 10 s for a quarter of the rows: 30 s to go; the other job will take longer.
    assert (
        retry(("RUNNING", now - 10 * second, 250, 1000), ("RUNNING", now - 2 * second, 1, 10**6))
        == 30
    )
    # Just started: the rows to write at the measured rate, not the time limit.
    assert retry(("RUNNING", now, 0, 2_000_000)) == 20
    assert retry(("RUNNING", now - second // 2, 10, 5_000_000)) == 50
    # Never beyond the time limit, never below 1 s, never above 5 minutes.
    assert retry(("RUNNING", now - 3590 * second, 1, 10**6)) == 10
    assert retry(("RUNNING", now - second, 1000, 1000)) == 1
    assert retry(("RUNNING", now, 0, 10**12)) == 300
