"""A single-source export reads its next batch on a thread while it writes this one."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pyarrow as pa
import pytest

from engine.export import _read_ahead


def _batches(count: int, closed: list[bool], fail_at: int | None = None) -> Iterator[pa.Table]:
    try:
        for n in range(count):
            if n == fail_at:
                raise OSError("the segment went away")
            yield pa.table({"n": [n]})
    finally:
        closed.append(True)


def _reader_threads() -> int:
    return sum(t.name == "read-ahead" for t in threading.enumerate())


def test_batches_come_in_order_and_the_reader_ends() -> None:
    closed: list[bool] = []
    before = _reader_threads()
    got = [t.column("n")[0].as_py() for t in _read_ahead(_batches(50, closed))]
    assert got == list(range(50))
    assert closed == [True]
    assert _reader_threads() <= before


def test_an_error_reading_is_raised_where_the_batches_are_consumed() -> None:
    closed: list[bool] = []
    before = _reader_threads()
    got = []
    with pytest.raises(OSError, match="went away"):
        for table in _read_ahead(_batches(10, closed, fail_at=3)):
            got.append(table.column("n")[0].as_py())
    assert got == [0, 1, 2]
    assert _reader_threads() <= before


def test_a_consumer_that_stops_early_stops_the_reader_and_closes_the_scan() -> None:
    closed: list[bool] = []
    before = _reader_threads()
    ahead = _read_ahead(_batches(1000, closed))
    assert next(ahead).column("n")[0].as_py() == 0
    ahead.close()  # a row limit reached, say
    assert closed == [True]
    assert _reader_threads() <= before
