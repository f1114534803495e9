"""The correctness cross-check: read every output back with an independent reader, count its
rows and compare its values with the engine's, column by column."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.json as pj
import pyarrow.parquet as pq

from bench.exports import KINDS, NORMALIZED_COLUMNS


@dataclass
class Check:
    kind: str
    expected_rows: int
    rows: dict[str, int | None] = field(default_factory=dict)  # impl -> rows read back
    reported: dict[str, int] = field(default_factory=dict)  # impl -> rows it said it wrote
    differing: dict[str, list[str]] = field(default_factory=dict)  # impl -> columns != engine
    errors: dict[str, str] = field(default_factory=dict)  # impl -> why it could not be read

    @property
    def counts_agree(self) -> bool:
        return all(n == self.expected_rows for n in self.rows.values()) and all(
            n == self.expected_rows for n in self.reported.values()
        )

    @property
    def values_agree(self) -> bool:
        return not self.errors and not any(self.differing.values())


def read_back(path: Path, kind: str) -> pa.Table:
    fmt, _compression = KINDS[kind]
    if fmt == "CSV":  # every column as text: compares what a CSV reader would see
        return pcsv.read_csv(
            path,
            convert_options=pcsv.ConvertOptions(
                column_types={name: pa.string() for name in NORMALIZED_COLUMNS},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    if fmt == "JSONL":
        return pj.read_json(path)
    return pq.read_table(path)


def cross_check(
    kind: str, expected_rows: int, outputs: dict[str, Path], reported: dict[str, int]
) -> Check:
    """`outputs` maps an implementation to its file; "engine" is the reference."""
    check = Check(kind, expected_rows, reported=dict(reported))
    reference: pa.Table | None = None
    for impl, path in outputs.items():
        try:
            table = read_back(path, kind)
        except (pa.ArrowInvalid, OSError) as exc:
            check.rows[impl] = None
            check.errors[impl] = str(exc).splitlines()[0]
            continue
        check.rows[impl] = table.num_rows
        if impl == "engine":
            reference = table
            if table.column_names != NORMALIZED_COLUMNS:
                check.errors[impl] = f"columns {table.column_names}"
        elif reference is not None:
            check.differing[impl] = _differing_columns(reference, table)
    return check


def _differing_columns(reference: pa.Table, other: pa.Table) -> list[str]:
    if other.column_names != reference.column_names:
        return [f"column names {other.column_names}"]
    if other.num_rows != reference.num_rows:
        return ["row count"]
    differing = []
    for name, expected in zip(reference.column_names, reference.columns, strict=True):
        actual = other.column(name)
        try:
            if actual.type != expected.type:
                actual = actual.cast(expected.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            differing.append(f"{name} ({actual.type}, engine {expected.type})")
            continue
        if not actual.equals(expected):
            differing.append(name)
    return differing
