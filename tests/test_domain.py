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
    assert _retry_after([("QUEUED", None, 0, 100)], now, settings) == 10  # nothing to go by
    # 10 s for a quarter of the rows: 30 s to go; the other job will take longer.
    running = [("RUNNING", now - 10 * second, 250, 1000), ("RUNNING", now - second, 1, 1000)]
    assert _retry_after(running, now, settings) == 30
    # Never beyond the time limit, never below 1 s, never above 5 minutes.
    assert _retry_after([("RUNNING", now - 3590 * second, 1, 10**6)], now, settings) == 10
    assert _retry_after([("RUNNING", now - second, 1000, 1000)], now, settings) == 1
    assert _retry_after([("RUNNING", now, 0, 1000)], now, settings) == 300
