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
