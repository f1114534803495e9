"""Decimation over batches: the result never depends on where batches split, and agrees with
a plain-Python computation of the same buckets."""

from __future__ import annotations

import itertools
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.logical import LogicalType
from engine.options import Decimation
from engine.pipeline import Decimator, Rows

FIELDS = [("price", LogicalType("decimal", 2)), ("qty", LogicalType("int"))]
INTERVAL = 10
AGGREGATIONS = [
    {"column": "price", "fn": "ohlc", "transform": None},
    {"column": "price", "fn": "avg", "transform": None},
    {"column": "qty", "fn": "sum", "transform": None},
    {"column": "qty", "fn": "count", "transform": None},
    {"column": "price", "fn": "last", "transform": "delta"},
]
rows_strategy = st.lists(
    st.tuples(
        st.integers(0, 7),  # time step, so several rows can share a bucket or skip some
        st.one_of(st.none(), st.decimals(-999, 999, places=2, allow_nan=False)),
        st.one_of(st.none(), st.integers(-50, 50)),
    ),
    min_size=1,
    max_size=60,
)


def run(rows: list[tuple[int, Any, Any]], cuts: list[int], fill: str = "none") -> list[dict]:
    decimation = Decimation.from_json(
        {"interval": "10ns", "intervalNs": INTERVAL, "fill": fill, "aggregations": AGGREGATIONS}
    )
    decimator = Decimator(decimation, FIELDS)
    times = pa.array([t for t, _, _ in rows], pa.int64())
    table = pa.table(
        {
            "price": pa.array([None if p is None else str(p) for _, p, _ in rows], pa.string()),
            "qty": pa.array([q for _, _, q in rows], pa.int64()),
        }
    )
    out = []
    bounds = [0, *sorted(set(cuts)), len(rows)]
    for low, high in itertools.pairwise(bounds):
        out.append(decimator.push(Rows(table.slice(low, high - low), times.slice(low, high - low))))
    out.append(decimator.finish())
    return [r for part in out for r in part.table.to_pylist()]


def expected(rows: list[tuple[int, Any, Any]]) -> list[dict]:
    buckets: dict[int, list[tuple[Any, Any]]] = defaultdict(list)
    for t, p, q in rows:
        buckets[t - t % INTERVAL].append((p, q))
    result, previous_last = [], None
    for start in sorted(buckets):
        prices = [p for p, _ in buckets[start]]
        known = [p for p in prices if p is not None]
        qtys = [q for _, q in buckets[start] if q is not None]
        last = prices[-1]
        result.append(
            {
                "bucket_start": start,
                "price_open": prices[0],
                "price_high": max(known) if known else None,
                "price_low": min(known) if known else None,
                "price_close": last,
                "price_avg": (sum(known) / len(known)).quantize(Decimal("0.01"), ROUND_HALF_UP)
                if known
                else None,
                "qty_sum": sum(qtys) if qtys else None,
                "qty_count": len(qtys),
                "price_last": None
                if last is None or previous_last is None
                else last - previous_last,
            }
        )
        previous_last = last
    return result


def timeline(steps: list[tuple[int, Any, Any]]) -> list[tuple[int, Any, Any]]:
    now, rows = 0, []
    for step, price, qty in steps:
        now += step
        rows.append((now, price, qty))
    return rows


@settings(max_examples=150, deadline=None)
@given(rows_strategy, st.lists(st.integers(1, 59), max_size=6))
def test_decimation_is_independent_of_batches_and_exact(steps: list, cuts: list[int]) -> None:
    rows = timeline(steps)
    cuts = [c for c in cuts if c < len(rows)]
    assert run(rows, cuts) == run(rows, []) == expected(rows)


@settings(max_examples=100, deadline=None)
@given(
    rows_strategy, st.lists(st.integers(1, 59), max_size=6), st.sampled_from(["previous", "null"])
)
def test_filled_buckets_are_independent_of_batches(steps: list, cuts: list[int], fill: str) -> None:
    rows = timeline(steps)
    cuts = [c for c in cuts if c < len(rows)]
    got = run(rows, cuts, fill)
    assert got == run(rows, [], fill)
    starts = [r["bucket_start"] for r in got]
    assert starts == list(range(starts[0], starts[-1] + INTERVAL, INTERVAL))  # no gaps
    # Buckets with rows are what the unfilled run gives (deltas aside: they follow the fill).
    real = {e["bucket_start"]: e for e in expected(rows)}
    without_delta = [{k: v for k, v in r.items() if k != "price_last"} for r in got]
    assert [r for r in without_delta if r["bucket_start"] in real] == [
        {k: v for k, v in e.items() if k != "price_last"} for e in real.values()
    ]
    for row in without_delta:  # and the empty ones are filled as asked
        if row["bucket_start"] not in real:
            assert row["qty_count"] == (0 if fill == "previous" else None)


def test_fill_previous_repeats_values_with_zero_counts() -> None:
    rows = [(1, Decimal("1.00"), 1), (35, Decimal("2.00"), 2)]
    got = run(rows, [1], fill="previous")
    assert [r["bucket_start"] for r in got] == [0, 10, 20, 30]
    assert [r["price_close"] for r in got] == [Decimal("1.00")] * 3 + [Decimal("2.00")]
    assert [r["qty_count"] for r in got] == [1, 0, 0, 1]
    assert [r["qty_sum"] for r in got] == [1, 0, 0, 2]
