"""What happens to each batch between the schema and the files: filter, decimate, limit,
select columns. Every step is a few pyarrow.compute calls per batch.

Rows travel with their collection timestamp (`Rows.time`, int64 ns, ascending), which
decimation buckets and splitting periods are computed from, whatever columns are selected.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from engine.export_schema.lenient import contiguous
from engine.logical import LogicalType
from engine.options.model import OHLC, Aggregation, Decimation, decimated_fields

Fields = list[tuple[str, LogicalType]]
Mask = Callable[[pa.Table], Any]


@dataclass
class Rows:
    table: pa.Table
    time: pa.Array  # collection timestamp of each row (ns), ascending

    def take(self, selection: Any) -> Rows:
        """A boolean mask or an index array, applied to rows and times alike."""
        if isinstance(selection, pa.ChunkedArray):
            selection = selection.combine_chunks()
        if pa.types.is_boolean(selection.type):
            return Rows(self.table.filter(selection), self.time.filter(selection))
        return Rows(self.table.take(selection), self.time.take(selection))

    def slice(self, start: int, length: int | None = None) -> Rows:
        return Rows(self.table.slice(start, length), self.time.slice(start, length))

    @property
    def num_rows(self) -> int:
        return int(self.table.num_rows)


def numeric_values(values: Any, logical: LogicalType) -> Any:
    """Decimals are exact text in memory until something computes with them (or a Parquet
    file stores them)."""
    if logical.kind == "decimal" and not pa.types.is_decimal(values.type):
        return decimals_from_text(contiguous(values), pa.decimal128(38, logical.scale))
    return values


# Values of a batch that tell whether its decimal text repeats.
REPEAT_SAMPLE = 4_096


def decimals_from_text(text: pa.Array, target: pa.DataType) -> pa.Array:
    """Decimal text parsed into `target`: Arrow's cast takes about 70 ns per value. Sizes
    and prices repeat within a batch (round lots, trades at the same price), so when the
    first values of the batch do, each distinct text is parsed once and the numbers are
    picked by index: about 25 ns per value for trade sizes. The same numbers either way,
    and the same error for text that is not a decimal that fits (the first such text, in
    row order, is also the first among the distinct ones)."""
    sample = text.slice(0, REPEAT_SAMPLE)
    if pc.count_distinct(sample, mode="all").as_py() * 2 > len(sample):
        return pc.cast(text, target)
    encoded = pc.dictionary_encode(text)
    return pc.cast(encoded.dictionary, target).take(encoded.indices)


# -- filters ------------------------------------------------------------------------------


def compile_filter(node: dict[str, Any], types: dict[str, LogicalType]) -> Mask:
    """A resolved filter tree -> table -> boolean mask (SQL semantics: null is not true)."""
    build = _condition(node, types)
    return lambda table: pc.fill_null(build(table), False)


def _condition(node: dict[str, Any], types: dict[str, LogicalType]) -> Mask:
    if "and" in node or "or" in node:
        kind = "and" if "and" in node else "or"
        parts = [_condition(child, types) for child in node[kind]]
        combine = pc.and_kleene if kind == "and" else pc.or_kleene

        def both(table: pa.Table) -> Any:
            result = parts[0](table)
            for part in parts[1:]:
                result = combine(result, part(table))
            return result

        return both
    if "not" in node:
        inner = _condition(node["not"], types)
        return lambda table: pc.invert(inner(table))
    return _comparison(node["column"], node["op"], node["value"], types[node["column"]])


def _comparison(column: str, op: str, value: Any, logical: LogicalType) -> Mask:
    if op == "isNull":
        return lambda table: (pc.is_null if value else pc.is_valid)(table.column(column))
    if op == "contains":
        return lambda table: pc.match_substring(table.column(column), value)
    if op == "startsWith":
        return lambda table: pc.starts_with(table.column(column), value)
    prepare, literal = _comparable(logical, value if isinstance(value, list) else [value])
    if op in ("in", "notIn"):
        value_set = pa.array(literal)

        def member(table: pa.Table) -> Any:
            values = prepare(table.column(column))
            found = pc.is_in(values, value_set=value_set.cast(values.type))
            found = pc.if_else(pc.is_null(values), pa.scalar(None, pa.bool_()), found)
            return found if op == "in" else pc.invert(found)

        return member
    function = {
        "eq": "equal",
        "ne": "not_equal",
        "lt": "less",
        "lte": "less_equal",
        "gt": "greater",
        "gte": "greater_equal",
    }[op]
    scalar = literal[0]
    return lambda table: pc.call_function(function, [prepare(table.column(column)), scalar])


def _comparable(logical: LogicalType, values: list[Any]) -> tuple[Callable[[Any], Any], list[Any]]:
    """How to read the column and the literal(s) so that they compare exactly."""
    if logical.kind == "decimal":
        numbers = [decimal.Decimal(str(v)) for v in values]
        exponents = [n.as_tuple().exponent for n in numbers]
        scale = max([logical.scale, *(-e for e in exponents if isinstance(e, int))])
        target = pa.decimal128(38, min(scale, 37))
        literal = [pa.scalar(n, target) for n in numbers]
        return lambda column: pc.cast(numeric_values(column, logical), target), literal
    if logical.kind == "timestamp":
        return lambda column: column, [pa.scalar(v, pa.int64()) for v in values]
    if logical.kind == "float":
        return lambda column: column, [pa.scalar(float(v), pa.float64()) for v in values]
    return lambda column: column, [pa.scalar(v) for v in values]


# -- decimation ---------------------------------------------------------------------------


class Decimator:
    """Buckets aligned to the epoch over the collection time.

    Each batch is reduced to one partial row per bucket (first, last, min, max, sum, count as
    needed). Rows arrive in time order, so only the last bucket of a batch can continue in
    the next one: its partial row is carried and merged, and memory stays one row per bucket
    of a batch however wide the buckets are."""

    def __init__(self, decimation: Decimation, fields: Fields) -> None:
        self.interval = decimation.interval_ns
        self.fill = decimation.fill
        self.aggregations = decimation.aggregations
        self.types = dict(fields)
        self.fields = decimated_fields(self.aggregations, fields)
        self.parts = _needed_parts(self.aggregations)
        # An empty bucket filled from the previous one has no rows: nothing counted or summed.
        self.zero_when_empty = [
            _output_name(a.column, a.fn, a.fn)
            for a in self.aggregations
            if a.fn in ("count", "sum")
        ]
        self.carry: pa.Table | None = None  # partial row of the bucket still open
        self.last_row: dict[str, Any] | None = None  # previous output row, for fill and delta

    def push(self, rows: Rows) -> Rows:
        if rows.num_rows == 0:
            return self._empty()
        partial = self._partials(rows)
        if self.carry is not None:
            if self.carry.column("bucket_start")[0] == partial.column("bucket_start")[0]:
                merged = _merge_rows(self.carry, partial.slice(0, 1))
                partial = pa.concat_tables([merged, partial.slice(1)])
            else:
                partial = pa.concat_tables([self.carry, partial])
        self.carry = partial.slice(partial.num_rows - 1)
        return self._complete(partial.slice(0, partial.num_rows - 1))

    def finish(self) -> Rows:
        carry, self.carry = self.carry, None
        return self._complete(carry) if carry is not None else self._empty()

    def _buckets(self, time: pa.Array) -> pa.Array:
        start = pc.multiply(pc.divide(time, self.interval), self.interval)
        # Integer division truncates toward zero; before 1970 that is one bucket too late.
        return pc.if_else(pc.greater(start, time), pc.subtract(start, self.interval), start)

    def _empty(self) -> Rows:
        return Rows(
            pa.table({n: pa.array([], _memory_type(t)) for n, t in self.fields}),
            pa.array([], pa.int64()),
        )

    def _partials(self, rows: Rows) -> pa.Table:
        buckets = self._buckets(rows.time)
        ends = pc.run_end_encode(buckets).run_ends.cast(pa.int64())
        starts = pa.concat_arrays([pa.array([0], pa.int64()), ends.slice(0, len(ends) - 1)])
        picks = {"first": starts, "last": pc.subtract(ends, 1)}
        hashed = [(c, _HASH[p]) for c, p in self.parts if p not in picks]
        columns = {c: numeric_values(rows.table.column(c), self.types[c]) for c, _ in self.parts}
        grouped = None
        if hashed:
            keyed = pa.table({"__bucket": buckets, **{c: columns[c] for c, _ in hashed}})
            # use_threads=False keeps groups in order of appearance: ascending buckets here.
            grouped = keyed.group_by("__bucket", use_threads=False).aggregate(hashed)
        result: dict[str, Any] = {"bucket_start": buckets.take(starts)}
        for column, part in self.parts:
            if part in picks:
                result[_part_name(column, part)] = columns[column].take(picks[part])
            else:
                assert grouped is not None
                result[_part_name(column, part)] = grouped.column(f"{column}_{_HASH[part]}")
        return pa.table(result)

    def _complete(self, partial: pa.Table) -> Rows:
        if partial.num_rows == 0:
            return self._empty()
        columns: dict[str, Any] = {"bucket_start": partial.column("bucket_start")}
        for aggregation in self.aggregations:
            column, fn = aggregation.column, aggregation.fn
            for name, part in OHLC if fn == "ohlc" else ((fn, fn),):
                if part == "avg":
                    value = _mean(
                        partial.column(_part_name(column, "sum")),
                        partial.column(_part_name(column, "count")),
                        self.types[column],
                    )
                else:
                    value = partial.column(_part_name(column, part))
                columns[_output_name(column, fn, name)] = value
        table = self._filled(pa.table(columns))
        previous = self.last_row
        # Kept before deltas: fill repeats values and the next delta subtracts values.
        self.last_row = {n: table.column(n)[-1] for n in table.column_names}
        table = self._deltas(table, previous)
        return Rows(table, table.column("bucket_start").combine_chunks())

    def _filled(self, table: pa.Table) -> pa.Table:
        if self.fill == "none":
            return table
        previous = self.last_row
        starts = table.column("bucket_start")
        first = (
            previous["bucket_start"].as_py() + self.interval
            if previous is not None
            else starts[0].as_py()
        )
        count = (starts[-1].as_py() - first) // self.interval + 1
        if count == table.num_rows:
            return table
        steps = pc.cumulative_sum(pa.repeat(pa.scalar(self.interval, pa.int64()), count))
        wanted = pc.add(steps, first - self.interval)  # first, first + interval, ...
        # Each wanted bucket takes its own row when it has one, else the row before it (fill
        # previous) or nulls (fill null); the row "before" the first may be the last output.
        found = pc.index_in(wanted, value_set=starts)
        source = table
        if previous is not None:
            source = pa.concat_tables(
                [pa.table({n: pa.array([v.as_py()], v.type) for n, v in previous.items()}), table]
            )
            found = pc.add(found, 1)
        if self.fill == "previous":
            index = pc.fill_null_forward(found)
            filled = source.take(pc.fill_null(index, 0))
            for name in self.zero_when_empty:
                position = filled.column_names.index(name)
                zero = pa.scalar(0).cast(filled.schema.field(name).type)
                filled = filled.set_column(
                    position, name, pc.if_else(pc.is_null(found), zero, filled.column(name))
                )
        else:
            filled = source.take(found)
        return filled.set_column(0, "bucket_start", wanted)

    def _deltas(self, table: pa.Table, previous: dict[str, Any] | None) -> pa.Table:
        for aggregation in self.aggregations:
            if aggregation.transform != "delta":
                continue
            for name, _ in OHLC if aggregation.fn == "ohlc" else ((aggregation.fn, None),):
                output = _output_name(aggregation.column, aggregation.fn, name)
                values = table.column(output).combine_chunks()
                before = previous[output] if previous is not None else None
                shifted = pa.concat_arrays(
                    [
                        pa.array([before.as_py() if before is not None else None], values.type),
                        values.slice(0, len(values) - 1),
                    ]
                )
                position = table.column_names.index(output)
                table = table.set_column(position, output, _difference(values, shifted))
        return table


def _difference(values: pa.Array, previous: pa.Array) -> pa.Array:
    if pa.types.is_decimal(values.type):
        # decimal128(38, s) - decimal128(38, s) needs precision 39: compute wider, narrow back.
        wide = pa.decimal256(38, values.type.scale)
        result = pc.subtract(values.cast(wide), previous.cast(wide))
        return result.cast(values.type)
    return pc.subtract(values, previous)


_HASH = {"min": "min", "max": "max", "sum": "sum", "count": "count"}


def _output_name(column: str, fn: str, part: str) -> str:
    return f"{column}_{part}" if fn == "ohlc" else f"{column}_{fn}"


def _needed_parts(aggregations: Sequence[Aggregation]) -> list[tuple[str, str]]:
    """(column, part) pairs the partial rows must keep; avg is sum and count."""
    expand = {"ohlc": ("first", "max", "min", "last"), "avg": ("sum", "count")}
    parts: list[tuple[str, str]] = []
    for aggregation in aggregations:
        for part in expand.get(aggregation.fn, (aggregation.fn,)):
            parts.append((aggregation.column, part))
    return list(dict.fromkeys(parts))


def _part_name(column: str, part: str) -> str:
    return f"{column}\x00{part}"


def _merge_rows(before: pa.Table, after: pa.Table) -> pa.Table:
    """Two partial rows of the same bucket as one (a single row: plain Python is fine)."""
    merged = {}
    for name in before.column_names:
        a, b = before.column(name)[0].as_py(), after.column(name)[0].as_py()
        part = name.rsplit("\x00", 1)[-1]
        present = [v for v in (a, b) if v is not None]
        if name == "bucket_start" or part == "first":
            value = a
        elif part == "last":
            value = b
        elif part == "min":
            value = min(present) if present else None
        elif part == "max":
            value = max(present) if present else None
        else:  # sum, count
            value = sum(present) if present else None
        merged[name] = pa.array([value], before.schema.field(name).type)
    return pa.table(merged)


def _mean(total: Any, count: Any, logical: LogicalType) -> Any:
    divisor = pc.if_else(pc.equal(count, 0), pa.scalar(None, pa.int64()), count)
    if logical.kind == "decimal":
        # Arrow widens a decimal quotient by the divisor's digits: keep both narrow enough.
        wide = pc.divide(
            total.cast(pa.decimal256(40, logical.scale)), divisor.cast(pa.decimal256(19, 0))
        )
        exact = pc.round(wide, ndigits=logical.scale, round_mode="half_towards_infinity")
        return exact.cast(pa.decimal128(38, logical.scale))
    return pc.divide(pc.cast(total, pa.float64()), pc.cast(divisor, pa.float64()))


def _memory_type(logical: LogicalType) -> pa.DataType:
    return {
        "timestamp": pa.int64(),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "decimal": pa.decimal128(38, logical.scale),
    }.get(logical.kind, pa.string())
