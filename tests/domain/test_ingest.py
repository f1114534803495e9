"""Ingest is safe to repeat: the same file twice stores its records once (unless forced), an
empty file creates nothing, a failed one leaves nothing (a full disk included: no partial file
stays behind), and datastream ids are positive."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from app.db.models import DatastreamRow, SegmentRow
from app.domain.catalog import DatastreamSpec
from app.domain.ingest import ingest_file
from app.domain.runtime import Runtime
from engine.record_files import IngestError

SPEC = DatastreamSpec(
    901, "binance", "Binance", "SOLUSDT", "SOL", "USDT", "spot", "trades", "binance.trade"
)


def records(path: Path, count: int, bad_last: bool = False) -> Path:
    lines = ["collection_timestamp_ns,data"]
    lines += [f'{1000 + i},"{{""i"":{i}}}"' for i in range(count)]
    if bad_last:
        lines.append("5000,not json")
    path.write_text("\n".join(lines) + "\n")
    return path


def stored(runtime: Runtime, datastream_id: int) -> tuple[bool, int]:
    with runtime.sync_sessions() as session:
        exists = session.get(DatastreamRow, datastream_id) is not None
        rows = session.scalar(
            select(func.coalesce(func.sum(SegmentRow.row_count), 0)).where(
                SegmentRow.datastream_id == datastream_id
            )
        )
    return exists, int(rows or 0)


def test_the_same_file_twice_stores_its_records_once(runtime: Runtime, tmp_path: Path) -> None:
    path = records(tmp_path / "trades.csv", 10)
    first = ingest_file(runtime, SPEC.id, path, SPEC)
    assert (first.rows, first.already) == (10, None)
    again = ingest_file(runtime, SPEC.id, path, SPEC)
    assert again.rows == 0 and again.already is not None and "trades.csv" in again.already
    assert stored(runtime, SPEC.id) == (True, 10)
    forced = ingest_file(runtime, SPEC.id, path, SPEC, force=True)
    assert forced.rows == 10 and stored(runtime, SPEC.id) == (True, 20)


def test_an_empty_file_creates_nothing(runtime: Runtime, tmp_path: Path) -> None:
    result = ingest_file(runtime, SPEC.id, records(tmp_path / "empty.csv", 0), SPEC)
    assert result.rows == 0 and result.already is None
    assert stored(runtime, SPEC.id) == (False, 0)
    (tmp_path / "zero.jsonl").write_bytes(b"")
    assert ingest_file(runtime, SPEC.id, tmp_path / "zero.jsonl", SPEC).rows == 0
    assert stored(runtime, SPEC.id) == (False, 0)


def test_a_failed_ingest_leaves_nothing_and_can_be_retried(
    runtime: Runtime, tmp_path: Path
) -> None:
    path = records(tmp_path / "bad.csv", 10, bad_last=True)
    with pytest.raises(IngestError, match=r"bad\.csv:12: data is not valid JSON"):
        ingest_file(runtime, SPEC.id, path, SPEC)
    assert stored(runtime, SPEC.id) == (False, 0)
    assert not list((runtime.settings.storage_dir / "segments").glob(f"{SPEC.id}/*"))
    fixed = records(tmp_path / "bad.csv", 10)
    assert ingest_file(runtime, SPEC.id, fixed, SPEC).rows == 10


@pytest.mark.parametrize("datastream_id", [0, -5, 2**63])
def test_datastream_ids_are_positive_int64(
    runtime: Runtime, tmp_path: Path, datastream_id: int
) -> None:
    with pytest.raises(ValueError, match="positive 64-bit"):
        ingest_file(runtime, datastream_id, records(tmp_path / "r.csv", 1), SPEC)


def test_a_full_disk_keeps_what_was_stored_and_leaves_no_partial_files(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ingest_file(runtime, SPEC.id, records(tmp_path / "before.csv", 10), SPEC).rows == 10
    segments = runtime.settings.storage_dir / "segments"
    files_before = sorted(p for p in segments.rglob("*") if p.is_file())
    real_write = pq.write_table

    def fill_up(table: Any, where: Any, **options: Any) -> None:
        real_write(table.slice(0, 1), where, **options)  # a partial file exists, then:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pq, "write_table", fill_up)
    with pytest.raises(OSError, match="No space left"):
        ingest_file(runtime, SPEC.id, records(tmp_path / "after.csv", 12), SPEC)
    assert stored(runtime, SPEC.id) == (True, 10)  # what was there, and nothing more
    assert sorted(p for p in segments.rglob("*") if p.is_file()) == files_before
