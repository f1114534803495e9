"""The same export three ways: the engine, a naive per-row Python script, and DuckDB.

Each `prepare_*` does its imports and set-up and returns a callable that performs the export
of `[start_ns, end_ns)` of the dataset with the built-in `normalized` schema into `path` and
returns the number of rows it wrote; only that callable is measured.

The baselines hard-code the `normalized` mapping for Binance trades (the engine reads it from
`app/domain/builtin_schemas/normalized.json`); `check.py` compares what they wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.dataset import Dataset
from engine.writers import file_suffix

# Export "kinds" measured: (format, compression) as the engine spells them.
KINDS: dict[str, tuple[str, str]] = {
    "CSV+GZIP": ("CSV", "GZIP"),
    "JSONL+GZIP": ("JSONL", "GZIP"),
    "PARQUET": ("PARQUET", "NONE"),
    "CSV": ("CSV", "NONE"),
    "JSONL": ("JSONL", "NONE"),
}
NORMALIZED_COLUMNS = [
    "collection_timestamp_ns",
    "exchange_timestamp_ns",
    "exchange",
    "symbol",
    "trade_id",
    "side",
    "price",
    "amount",
]
NS_PER_MS = 1_000_000

Export = Callable[[], int]


def output_name(impl: str, kind: str) -> str:
    fmt, compression = KINDS[kind]
    return f"{impl}.{file_suffix(fmt, compression)}"


def prepare(impl: str, dataset: Dataset, kind: str, rows: int, path: Path) -> Export:
    start_ns, end_ns = dataset.ranges[rows]
    fmt, compression = KINDS[kind]
    preparers = {"engine": prepare_engine, "naive": prepare_naive, "duckdb": prepare_duckdb}
    return preparers[impl](dataset, fmt, compression, start_ns, end_ns, path)


def prepare_engine(
    dataset: Dataset, fmt: str, compression: str, start_ns: int, end_ns: int, path: Path
) -> Export:
    from app.domain.export_schemas import builtin_for
    from engine.export import ExportTask, run_export
    from engine.logical import SourceContext
    from engine.options import ExportOptions

    schema = builtin_for("normalized", "trades")
    if schema is None:
        raise RuntimeError("the built-in normalized schema for trades is missing")
    task = ExportTask(
        schema_spec=schema.snapshot(),  # what a job stores and a worker hands to the engine
        context=SourceContext(
            exchange=dataset.exchange,
            symbol=dataset.symbol,
            datastream_id=dataset.datastream_id,
            market=dataset.market,
        ),
        segments=dataset.segments,
        start_ns=start_ns,
        end_ns=end_ns,
        format=fmt,
        compression=compression,
        output_dir=path.parent,
        filename_stem=path.name.split(".", 1)[0],
        options=ExportOptions.defaults(fmt),
    )

    def export() -> int:
        [artifact] = run_export(task, lambda _progress: None)
        if artifact.path != path:
            raise RuntimeError(f"engine wrote {artifact.path}, expected {path}")
        return artifact.row_count

    return export


def prepare_naive(
    dataset: Dataset, fmt: str, compression: str, start_ns: int, end_ns: int, path: Path
) -> Export:
    """What one would write without the engine: json.loads and a Python row per record."""
    import csv
    import decimal
    import gzip
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    gzip_level = 6  # Python's zlib at the level most tools use (the engine: zlib-ng level 2)

    exchange = dataset.exchange
    segments = sorted(
        (s for s in dataset.segments if s.max_ts >= start_ns and s.min_ts < end_ns),
        key=lambda s: s.min_ts,
    )

    def rows() -> Iterator[tuple[Any, ...]]:
        for segment in segments:
            parquet = pq.ParquetFile(segment.path)
            for batch in parquet.iter_batches(columns=["collection_timestamp_ns", "data"]):
                for ts, raw in zip(
                    batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True
                ):
                    if not start_ns <= ts < end_ns:
                        continue
                    trade = json.loads(raw)["data"]
                    maker = trade.get("m")
                    yield (
                        ts,
                        trade["T"] * NS_PER_MS,
                        exchange,
                        trade["s"],
                        str(trade["t"]),
                        None if maker is None else ("sell" if maker else "buy"),
                        trade["p"],
                        trade["q"],
                    )

    def open_text() -> Any:
        if compression == "GZIP":
            return gzip.open(path, "wt", compresslevel=gzip_level, encoding="utf-8", newline="")
        return open(path, "w", encoding="utf-8", newline="")

    def export_csv() -> int:
        count = 0
        with open_text() as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(NORMALIZED_COLUMNS)
            for row in rows():
                writer.writerow(row)
                count += 1
        return count

    def export_jsonl() -> int:
        count = 0
        with open_text() as handle:
            for row in rows():
                record = dict(zip(NORMALIZED_COLUMNS, row, strict=True))
                handle.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False))
                handle.write("\n")
                count += 1
        return count

    timestamp = pa.timestamp("ns", tz="UTC")
    price = pa.decimal128(38, 18)
    schema = pa.schema(
        [
            ("collection_timestamp_ns", timestamp),
            ("exchange_timestamp_ns", timestamp),
            ("exchange", pa.string()),
            ("symbol", pa.string()),
            ("trade_id", pa.string()),
            ("side", pa.string()),
            ("price", price),
            ("amount", price),
        ]
    )

    def export_parquet() -> int:
        count = 0
        columns: list[list[Any]] = [[] for _ in NORMALIZED_COLUMNS]
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:

            def flush() -> None:
                arrays = [
                    pa.array(values, pa.int64()).cast(field.type)
                    if field.type == timestamp
                    else pa.array(
                        [decimal.Decimal(v) for v in values] if field.type == price else values,
                        field.type,
                    )
                    for field, values in zip(schema, columns, strict=True)
                ]
                writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
                for values in columns:
                    values.clear()

            for row in rows():
                for values, value in zip(columns, row, strict=True):
                    values.append(value)
                count += 1
                if len(columns[0]) == 65_536:
                    flush()
            if columns[0]:
                flush()
        return count

    return {"CSV": export_csv, "JSONL": export_jsonl, "PARQUET": export_parquet}[fmt]


def prepare_duckdb(
    dataset: Dataset, fmt: str, compression: str, start_ns: int, end_ns: int, path: Path
) -> Export:
    """DuckDB reading the same segment files, extracting with its JSON functions."""
    import duckdb

    connection = duckdb.connect()  # in memory, one thread per core
    files = [
        s.path
        for s in sorted(dataset.segments, key=lambda s: s.min_ts)
        if s.max_ts >= start_ns and s.min_ts < end_ns
    ]
    timestamp = "make_timestamp_ns({})" if fmt == "PARQUET" else "{}"
    decimal = "CAST({} AS DECIMAL(38, 18))" if fmt == "PARQUET" else "{}"
    options = {
        "CSV": "FORMAT CSV, HEADER true",
        "JSONL": "FORMAT JSON",
        "PARQUET": "FORMAT PARQUET, COMPRESSION ZSTD",
    }[fmt]
    if compression == "GZIP":
        options += ", COMPRESSION GZIP"
    # One JSON parse per record: json_extract_string with a list of paths (from_json would be
    # simpler but DuckDB's struct keys are case-insensitive, and Binance has both "t" and "T").
    sql = f"""
        COPY (
            WITH records AS (
                SELECT
                    collection_timestamp_ns AS ts,
                    json_extract_string(
                        data,
                        ['$.data.T', '$.data.s', '$.data.t', '$.data.m', '$.data.p', '$.data.q']
                    ) AS v
                FROM read_parquet([{", ".join(_literal(f) for f in files)}])
                WHERE collection_timestamp_ns >= {int(start_ns)}
                  AND collection_timestamp_ns < {int(end_ns)}
            )
            SELECT
                {timestamp.format("ts")} AS collection_timestamp_ns,
                {timestamp.format("CAST(v[1] AS BIGINT) * " + str(NS_PER_MS))}
                    AS exchange_timestamp_ns,
                {_literal(dataset.exchange)} AS exchange,
                v[2] AS symbol,
                CAST(CAST(v[3] AS BIGINT) AS VARCHAR) AS trade_id,
                CASE WHEN CAST(v[4] AS BOOLEAN) THEN 'sell'
                     WHEN NOT CAST(v[4] AS BOOLEAN) THEN 'buy' END AS side,
                {decimal.format("v[5]")} AS price,
                {decimal.format("v[6]")} AS amount
            FROM records
            ORDER BY ts
        ) TO {_literal(str(path))} ({options})
    """

    def export() -> int:
        result = connection.execute(sql).fetchone()
        connection.close()
        return int(result[0]) if result else 0

    return export


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
