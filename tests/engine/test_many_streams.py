"""Many datastreams in one export: the k-way merge (time order, reading lazily), the stream
columns, files per datastream, the WIDE layout, column labels and ISO times in a zone."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.export import ExportTask, run_export
from engine.logical import SourceContext
from engine.options import OptionsRequest, resolve_options
from engine.pipeline import Rows
from engine.segments import records_table, write_segment
from engine.streams import ExportSource, merge_rows
from tests.engine.schema_helpers import column, mapping, meta, schema

HOUR = 3600 * 10**9
T0 = 1_705_305_600 * 10**9  # 2024-01-15T08:00:00Z
SPEC = schema(
    meta("ts", "collection_timestamp_ns", "timestamp"),
    column("price", binance=mapping("p", "decimal(2)")),
)
FIELDS = [("ts", None), ("price", None)]
A = SourceContext("binance", "BTCUSDT", 101, "spot")
B = SourceContext("binance", "ETHUSDT", 102, "spot")


def _source(tmp_path: Path, context: SourceContext, rows: list[tuple[int, str]]) -> ExportSource:
    table = records_table([(t, json.dumps({"p": p})) for t, p in rows])
    segment = write_segment(table, tmp_path / "segments" / f"{context.datastream_id}.parquet")
    return ExportSource(context, [segment])


def _export(
    tmp_path: Path,
    sources: list[ExportSource],
    fmt: str = "CSV",
    on_progress: Any = lambda _progress: None,
    **requested: Any,
) -> list[Any]:
    from engine.export_schema import compile_schema

    fields = compile_schema(SPEC, sources[0].context).fields
    ids = [s.context.datastream_id for s in sources]
    options, issues = resolve_options(
        OptionsRequest(**requested), fmt, fields, 1_000_000, 10 * HOUR, ids
    )
    assert not issues and options is not None, issues
    task = ExportTask(
        schema_spec=SPEC,
        context=sources[0].context,
        segments=(),
        start_ns=T0,
        end_ns=T0 + 10 * HOUR,
        format=fmt,
        compression="NONE",
        output_dir=tmp_path / "out",
        filename_stem="job",
        options=options,
        sources=sources,
    )
    return run_export(task, on_progress)


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def _rows(times: list[int], label: str) -> Iterator[Rows]:
    for time in times:
        yield Rows(pa.table({"v": [f"{label}{time}"]}), pa.array([time], pa.int64()))


def test_merge_is_in_time_order_and_keeps_the_streams_order_for_equal_times() -> None:
    merged = list(merge_rows([_rows([1, 3, 5, 5], "a"), _rows([2, 3, 4, 6], "b")]))
    values = [v for part in merged for v in part.table.column("v").to_pylist()]
    assert values == ["a1", "b2", "a3", "b3", "b4", "a5", "a5", "b6"]
    times = [t for part in merged for t in part.time.to_pylist()]
    assert times == sorted(times)


def test_merge_reads_each_stream_a_batch_at_a_time() -> None:
    """Bounded memory: the first rows come out after one batch of each stream was read."""
    pulled: list[str] = []

    def counted(label: str, times: list[int]) -> Iterator[Rows]:
        for rows in _rows(times, label):
            pulled.append(label)
            yield rows

    merged = merge_rows([counted("a", list(range(0, 1000, 2))), counted("b", [1, 3, 999])])
    first = next(merged)
    assert first.time.to_pylist() == [0]  # up to the frontier: b's first batch ends at 1
    assert pulled.count("a") <= 2 and pulled.count("b") <= 2
    rest = [t for part in merged for t in part.time.to_pylist()]
    assert len(rest) == 500 + 3 - 1 and rest == sorted(rest)


def test_streams_merge_by_time_with_columns_that_say_which_stream(tmp_path: Path) -> None:
    a = _source(tmp_path, A, [(T0 + 10, "1.00"), (T0 + 30, "3.00"), (T0 + 50, "5.00")])
    b = _source(tmp_path, B, [(T0 + 20, "2.00"), (T0 + 40, "4.00")])
    [artifact] = _export(tmp_path, [a, b])
    rows = _csv(artifact.path)
    assert [r["price"] for r in rows] == ["1.00", "2.00", "3.00", "4.00", "5.00"]
    assert list(rows[0]) == ["datastream_id", "exchange", "symbol", "ts", "price"]
    assert [r["symbol"] for r in rows] == ["BTCUSDT", "ETHUSDT", "BTCUSDT", "ETHUSDT", "BTCUSDT"]
    assert {r["datastream_id"] for r in rows} == {"101", "102"}


def test_filter_limit_and_decimation_apply_per_stream_then_across(tmp_path: Path) -> None:
    a = _source(tmp_path, A, [(T0 + i, f"{i}.00") for i in range(10)])
    b = _source(tmp_path, B, [(T0 + HOUR + i, f"{100 + i}.00") for i in range(10)])
    [artifact] = _export(
        tmp_path,
        [a, b],
        filter={"column": "price", "op": "gte", "value": "5"},
        decimation={"interval": "1h", "aggregations": [{"column": "price", "fn": "min"}]},
    )
    rows = _csv(artifact.path)
    assert [(r["datastream_id"], r["price_min"]) for r in rows] == [
        ("101", "5.00"),
        ("102", "100.00"),
    ]
    (tmp_path / "out" / artifact.filename).unlink()
    [limited] = _export(tmp_path, [a, b], limit=12)
    assert [r["datastream_id"] for r in _csv(limited.path)] == ["101"] * 10 + ["102"] * 2


def test_files_per_datastream_combine_with_periods_and_are_in_the_manifest(
    tmp_path: Path,
) -> None:
    a = _source(tmp_path, A, [(T0 + 1, "1.00"), (T0 + HOUR + 1, "2.00")])
    b = _source(tmp_path, B, [(T0 + 2, "3.00")])
    artifacts = _export(tmp_path, [a, b], split={"perDatastream": True, "by": "HOUR"})
    files = {x.filename: x for x in artifacts}
    assert sorted(files) == [
        "101_20240115T080000Z_20240115T090000Z.csv",
        "101_20240115T090000Z_20240115T100000Z.csv",
        "102_20240115T080000Z_20240115T090000Z.csv",
        "job.manifest.json",
    ]
    only_b = _csv(files["102_20240115T080000Z_20240115T090000Z.csv"].path)
    assert [(r["symbol"], r["price"]) for r in only_b] == [("ETHUSDT", "3.00")]
    manifest = json.loads(files["job.manifest.json"].path.read_text())
    assert manifest["datastreamIds"] == [101, 102]
    assert [f["datastreamId"] for f in manifest["files"]] == [101, 101, 102]


def test_wide_has_a_row_per_bucket_and_a_column_per_stream(tmp_path: Path) -> None:
    a = _source(tmp_path, A, [(T0 + 1, "1.00"), (T0 + 2, "3.00"), (T0 + HOUR, "7.00")])
    b = _source(tmp_path, B, [(T0 + 5, "10.00"), (T0 + 2 * HOUR, "20.00")])
    [artifact] = _export(
        tmp_path,
        [a, b],
        "PARQUET",
        layout="WIDE",
        decimation={"interval": "1h", "aggregations": [{"column": "price", "fn": "max"}]},
        stream_labels=[{"datastreamId": 102, "label": "eth"}],
    )
    table = pq.read_table(artifact.path)
    assert table.column_names == ["bucket_start", "101_price_max", "eth_price_max"]
    rows = table.to_pylist()
    assert [(str(r["101_price_max"]), str(r["eth_price_max"])) for r in rows] == [
        ("3.00", "10.00"),
        ("7.00", "None"),
        ("None", "20.00"),
    ]


def test_wide_needs_a_decimation_and_labels_name_known_streams() -> None:
    _, issues = resolve_options(
        OptionsRequest(layout="WIDE", stream_labels=[{"datastreamId": 9, "label": "x"}]),
        "CSV",
        [],
        10,
        HOUR,
        [101, 102],
    )
    assert {".".join(i.path) for i in issues} == {"layout", "streamLabels.0.datastreamId"}


def test_columns_are_relabelled_and_iso_times_shown_in_the_zone(tmp_path: Path) -> None:
    a = _source(tmp_path, A, [(T0 + 1_500_000_000, "1.00")])
    [artifact] = _export(
        tmp_path,
        [a],
        format_options={"timestampFormat": "iso"},
        column_labels=[{"name": "ts", "label": "Time"}, {"name": "price", "label": "Price"}],
        timezone="Europe/Paris",
    )
    assert _csv(artifact.path) == [{"Time": "2024-01-15T09:00:01.500000000+01:00", "Price": "1.00"}]


@pytest.mark.parametrize(
    ("requested", "path"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"column_labels": [{"name": "nope", "label": "x"}]}, "columnLabels.0.name"),
        ({"column_labels": [{"name": "ts", "label": "price"}]}, "columnLabels"),
    ],
)
def test_bad_labels_and_zones_are_issues_with_their_path(
    requested: dict[str, Any], path: str
) -> None:
    from engine.export_schema import compile_schema

    fields = compile_schema(SPEC, A).fields
    _, issues = resolve_options(OptionsRequest(**requested), "CSV", fields, 10, HOUR, [101])
    assert [".".join(i.path) for i in issues] == [path]


def test_a_merge_of_many_streams_holds_no_file_open_between_batches(tmp_path: Path) -> None:
    """Thousands of streams wait in the merge at once: none may keep its file descriptor."""
    import os

    sources = [
        _source(
            tmp_path,
            SourceContext("binance", f"S{i}", 1_000 + i, "spot"),
            [(T0 + i, "1.00"), (T0 + 1_000 + i, "2.00")],
        )
        for i in range(50)
    ]
    before = len(os.listdir("/proc/self/fd"))
    merged = merge_rows([_scanned(s) for s in sources])
    assert next(merged).num_rows >= 1  # every stream has been read from by now
    assert len(os.listdir("/proc/self/fd")) - before < 10
    [artifact] = _export(tmp_path, sources)
    assert len(_csv(artifact.path)) == 100


def _scanned(source: ExportSource) -> Iterator[Rows]:
    from engine.segments import scan

    for table in scan(source.segments, T0, T0 + HOUR):
        yield Rows(table.select(["data"]), table.column("collection_timestamp_ns").combine_chunks())


def test_filled_buckets_are_counted_for_every_stream() -> None:
    from engine.export_schema import compile_schema

    fields = compile_schema(SPEC, A).fields
    decimation = {
        "interval": "1h",
        "fill": "previous",
        "aggregations": [{"column": "price", "fn": "max"}],
    }
    one, issues = resolve_options(
        OptionsRequest(decimation=decimation), "CSV", fields, 10, 10 * HOUR, [101]
    )
    assert one is not None and not issues  # 10 buckets: allowed
    _, issues = resolve_options(
        OptionsRequest(decimation=decimation), "CSV", fields, 10, 10 * HOUR, [101, 102]
    )
    assert [".".join(i.path) for i in issues] == ["decimation.interval"]


def test_wide_works_for_a_single_stream_too(tmp_path: Path) -> None:
    a = _source(tmp_path, A, [(T0 + 1, "1.00"), (T0 + HOUR, "7.00")])
    [artifact] = _export(
        tmp_path,
        [a],
        layout="WIDE",
        decimation={"interval": "1h", "aggregations": [{"column": "price", "fn": "max"}]},
    )
    assert [r["101_price_max"] for r in _csv(artifact.path)] == ["1.00", "7.00"]


def test_a_merge_whose_batches_keep_no_rows_still_reports_progress(tmp_path: Path) -> None:
    """Progress is the heartbeat and where the time limit is checked: batches the filter
    empties must report it while the merge waits for rows."""
    a = _source(tmp_path, A, [(T0 + i, f"{i}.00") for i in range(10)])
    b = _source(tmp_path, B, [(T0 + HOUR + i, f"{100 + i}.00") for i in range(10)])
    reports: list[int] = []
    nothing = {"column": "price", "op": "gt", "value": "1000"}
    _export(tmp_path, [a, b], on_progress=lambda p: reports.append(p.rows_written), filter=nothing)
    assert reports[:-1] == [0, 0]  # one per source batch, then the final report
