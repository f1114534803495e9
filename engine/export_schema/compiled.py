"""A compiled export schema: a function over record batches (see `binder.py` for how a spec
becomes one, `spec.py` for the language).

A record batch has `collection_timestamp_ns` (int64) and `data` (the raw JSON text). The
compiled schema decodes only the JSON paths its columns need, in one pyarrow.json call per
batch with an explicit schema, unfolds arrays, applies transforms, and returns a table of
output columns in their *logical* representation (see `LogicalType`), which the writers
render per format.

Two paths are per record in Python, on purpose: `json` columns (pyarrow cannot hand back a
sub-document as text), and a batch whose values do not have the declared JSON types (the
strict reader rejects it; the lenient decoder converts what it can and names the first value
it cannot, with its column, source and record).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from engine.export_schema.decode_tree import Leaf, ListNode, Struct, arrow_type, get_path, walk
from engine.export_schema.errors import DecodeError
from engine.export_schema.lenient import (
    CannotCoerce,
    as_list,
    coerce,
    contiguous,
    fits_decimal,
    json_text,
    parse_documents,
    parse_exactly,
    shown,
    type_label,
)
from engine.export_schema.spec import DECIMAL_RE, TIMESTAMP_UNITS, Path
from engine.logical import LogicalType, SourceContext, render_time
from engine.transforms import Transform

# A segment may store, beside the raw messages, a column of them already decoded (see
# `engine.shred`): the struct `decode` gives, under this name, with the decode key of the
# schema that produced it in the file's metadata.
DECODED_COLUMN = "decoded"
# Bump when decoding changes what it gives for the same messages and decode tree: stored
# columns with an older key are then ignored (the messages are decoded again).
DECODE_VERSION = 1
# Beside the key: the decimal values (see `CompiledSchema.checked_decimals`) that are valid in
# every record of the segment, so an export need not check them again.
CHECKED_METADATA = b"decoded.checked"

# Records read before a column that is null in every one of them fails the export.
SHAPE_SAMPLE = 100
_DECIMAL_TEXT = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


@dataclass
class Value:
    """A value read from the message: the column's own or a transform input."""

    tokens: Path  # from the message, or from the unfolded element when `element`
    element: bool
    type_name: str


@dataclass
class DataColumn:
    name: str
    source: str
    value: Value
    transform: Transform | None
    inputs: dict[str, Value]
    logical: LogicalType
    null_on_error: bool
    path: str = ""  # as written in the schema, for errors


@dataclass
class MetaColumn:
    name: str
    meta: str
    format: str | None
    logical: LogicalType


@dataclass
class Unfold:
    tokens: Path
    tag: str | None


@dataclass
class _Batch:
    """One batch during `apply`: the decoded messages and, when unfolding, the elements."""

    timestamps: pa.Array
    raw: pa.Array  # the messages as stored (meta column `data`)
    decoded: Any
    text: pa.Array | None = None  # the messages as decoded: bare ones wrapped in the envelope
    parents: pa.Array | None = None
    elements: Any = None
    tags: pa.Array | None = None
    messages: list[Any] | None = None  # parsed in Python, only for json columns
    # Decimal values known to be valid (see `CompiledSchema.checked_decimals`): not checked.
    checked: frozenset[str] = frozenset()

    def row_timestamp(self, row: int) -> int:
        message = row if self.parents is None else self.parents[row].as_py()
        return int(self.timestamps[message].as_py())


@dataclass
class CompiledSchema:
    name: str
    source: str | None
    columns: list[DataColumn | MetaColumn]
    unfolds: list[Unfold]
    decode_tree: Struct
    context: SourceContext
    fields: list[tuple[str, LogicalType]] = field(default_factory=list)
    envelope: str | None = None
    sampled: int = 0  # records seen while looking for columns that are never there
    present: dict[str, int] = field(default_factory=dict)

    def apply(self, batch: pa.RecordBatch | pa.Table) -> pa.Table:
        return self.apply_with_times(batch)[0]

    def decode_key(self) -> str | None:
        """What the decoded messages depend on besides their text: the decode tree (paths,
        types, which leaves become null on error) and the envelope. Two schemas with the same
        key decode the same messages to the same struct, so a decoded column stored under
        this key can stand in for decoding. None when the schema decodes nothing."""
        if not self.decode_tree.fields:
            return None
        return json.dumps(
            {"v": DECODE_VERSION, "envelope": self.envelope, "tree": _describe(self.decode_tree)},
            sort_keys=True,
            separators=(",", ":"),
        )

    def needs_raw(self) -> bool:
        """Whether output reads the message text itself (meta `data`, `json` columns)."""
        for column in self.columns:
            if isinstance(column, MetaColumn):
                if column.meta == "data":
                    return True
            elif column.value.type_name == "json" or any(
                v.type_name == "json" for v in column.inputs.values()
            ):
                return True
        return False

    def decode(self, batch: pa.RecordBatch | pa.Table) -> Any:
        """The messages of `batch` decoded to the decode tree's struct, one row per message
        (what `apply` reads its columns from). Raises DecodeError as `apply` would."""
        raw = contiguous(batch.column("data"))
        state = _Batch(contiguous(batch.column("collection_timestamp_ns")), raw, None, text=raw)
        state.decoded = self._decode(state)
        self._wrap_bare_messages(state)
        return state.decoded

    def checked_decimals(self, batch: pa.RecordBatch | pa.Table, decoded: Any) -> set[str]:
        """The decimal values this schema reads (by path and type) that are valid decimal
        text of their scale in every record of `batch`, given its decoded messages."""
        timestamps = contiguous(batch.column("collection_timestamp_ns"))
        state = _Batch(timestamps, pa.nulls(len(timestamps), pa.string()), decoded)
        if self.unfolds:
            self._unfold(state)
        valid = set()
        for column in self.columns:
            if not isinstance(column, DataColumn):
                continue
            type_name = column.value.type_name
            if not DECIMAL_RE.match(type_name):
                continue
            values = self._read(column.value, state)
            if not pc.any(_bad_decimals(values, type_name)).as_py():
                valid.add(_checked_name(column.value))
        return valid

    def apply_with_times(self, batch: pa.RecordBatch | pa.Table) -> tuple[pa.Table, pa.Array]:
        """The output rows and each row's collection timestamp (ns).

        A batch with a `DECODED_COLUMN` (read from segments stored with this schema's decode
        key) is not decoded again: that column is what decoding its messages gives."""
        timestamps = contiguous(batch.column("collection_timestamp_ns"))
        names = batch.schema.names
        stored = DECODED_COLUMN in names and self.decode_tree.fields
        if "data" in names:
            raw = contiguous(batch.column("data"))
        elif stored and not self.needs_raw():
            raw = pa.nulls(len(timestamps), pa.string())  # never read: only its length
        else:
            raise DecodeError("the records have no message text")
        state = _Batch(timestamps, raw, None, text=raw)
        if stored:
            state.decoded = contiguous(batch.column(DECODED_COLUMN))
            if not state.decoded.type.equals(arrow_type(self.decode_tree)):
                raise DecodeError("the stored decoded messages do not have this schema's shape")
            checked = (batch.schema.metadata or {}).get(CHECKED_METADATA)
            state.checked = frozenset(json.loads(checked) if checked else ())
        elif self.decode_tree.fields:
            state.decoded = self._decode(state)
            self._wrap_bare_messages(state)
        if self.unfolds:
            self._unfold(state)
        arrays = [
            self._meta(column, state)
            if isinstance(column, MetaColumn)
            else self._data(column, state)
            for column in self.columns
        ]
        times = state.timestamps if state.parents is None else state.timestamps.take(state.parents)
        if self.sampled < SHAPE_SAMPLE:
            self._check_shape(len(raw), arrays)
        return pa.Table.from_arrays(arrays, names=[c.name for c in self.columns]), times

    def _wrap_bare_messages(self, state: _Batch) -> None:
        """With an envelope, a message without it is the payload alone: decode it wrapped."""
        envelope = self.envelope
        if envelope is None or envelope not in self.decode_tree.fields or not len(state.raw):
            return
        bare = pc.is_null(pc.struct_field(state.decoded, envelope))
        if pc.any(bare).as_py():
            wrapped = pc.binary_join_element_wise(f'{{"{envelope}":', state.raw, "}", "")
            state.text = contiguous(pc.if_else(bare, wrapped, state.raw))
            state.decoded = self._decode(state)

    def _check_shape(self, records: int, arrays: list[Any]) -> None:
        """A column the messages never fill (in the first SHAPE_SAMPLE records) means they do
        not have the shape the schema reads: fail early, naming the path and wire format,
        rather than write a file of nulls."""
        self.sampled += records
        for column, values in zip(self.columns, arrays, strict=True):
            if isinstance(column, DataColumn) and not column.null_on_error:
                filled = len(values) - values.null_count
                self.present[column.name] = self.present.get(column.name, 0) + filled
        if self.sampled >= SHAPE_SAMPLE and (problem := self.shape_problem()) is not None:
            raise DecodeError(problem)

    def shape_problem(self) -> str | None:
        """A column none of the records applied so far filled, described; else None."""
        missing = [
            c
            for c in self.columns
            if isinstance(c, DataColumn) and not c.null_on_error and not self.present.get(c.name)
        ]
        if not missing or not self.sampled:
            return None
        column = missing[0]
        wire = self.context.wire_format or "unknown"
        return (
            f"column {column.name!r} (path {column.path!r}, source {column.source!r}) is "
            f"null in every one of the first {self.sampled:,} records: the messages do "
            f"not have the shape this schema reads (wire format {wire!r}); check the "
            "datastream's wire format, or set onError: null on a column that may be absent"
        )

    # -- decoding -------------------------------------------------------------------------
    def _decode(self, state: _Batch) -> Any:
        raw = state.text if state.text is not None else state.raw
        struct_type = arrow_type(self.decode_tree)
        if len(raw) == 0:
            return pa.array([], type=struct_type)
        lines = pc.binary_join_element_wise(raw, "", "\n")
        # A freshly computed array starts at offset 0: its value buffer is the NDJSON text.
        buffer = lines.buffers()[2][: pc.sum(pc.binary_length(lines)).as_py()]
        longest = pc.max(pc.binary_length(raw)).as_py() or 0
        try:
            table = pj.read_json(
                pa.BufferReader(buffer),
                read_options=pj.ReadOptions(block_size=max(1 << 22, 2 * longest + 2)),
                parse_options=pj.ParseOptions(
                    explicit_schema=pa.schema(list(struct_type)),
                    unexpected_field_behavior="ignore",
                ),
            )
        except pa.ArrowInvalid:
            return self._decode_leniently(state, struct_type)
        if table.num_rows != len(raw):
            raise DecodeError(f"{len(raw)} records decoded to {table.num_rows} rows")
        return table.to_struct_array().combine_chunks()

    def _decode_leniently(self, state: _Batch, struct_type: pa.DataType) -> Any:
        rows = []
        text = state.text if state.text is not None else state.raw
        for index, message in enumerate(parse_exactly(text, state.timestamps)):
            try:
                rows.append(coerce(self.decode_tree, message))
            except CannotCoerce as exc:
                raise DecodeError(
                    f"column {exc.leaf.owners[0]!r} (source {self.source!r}): "
                    f"{shown(exc.value)} is not a {type_label(exc.leaf.arrow_type)}, "
                    "first in the record at "
                    f"collection_timestamp_ns={state.timestamps[index]}"
                ) from None
        return pa.array(rows, type=struct_type)

    def _unfold(self, state: _Batch) -> None:
        parents, elements, tags = [], [], []
        for unfold in self.unfolds:
            lists = get_path(state.decoded, unfold.tokens)
            parents.append(pc.list_parent_indices(lists).cast(pa.int64()))
            elements.append(pc.list_flatten(lists))
            tags.append(pa.repeat(pa.scalar(unfold.tag, pa.string()), len(elements[-1])))
        if len(self.unfolds) == 1:
            state.parents, state.elements, state.tags = parents[0], elements[0], tags[0]
            return
        # Rows of several arrays are interleaved back into message order (a stable sort).
        all_parents = pa.concat_arrays(parents)
        order = pc.sort_indices(all_parents)
        state.parents = all_parents.take(order)
        state.elements = pa.concat_arrays(elements).take(order)
        state.tags = pa.concat_arrays(tags).take(order)

    # -- columns --------------------------------------------------------------------------
    def _meta(self, column: MetaColumn, state: _Batch) -> Any:
        if column.meta == "unfold_tag":
            rows = len(state.raw) if state.parents is None else len(state.parents)
            return state.tags if state.tags is not None else pa.nulls(rows, pa.string())
        values = self._meta_values(column.meta, state.timestamps, state.raw)
        if state.parents is not None:
            values = values.take(state.parents)
        if column.meta != "collection_timestamp_ns" or column.format in (None, "timestamp"):
            return values
        return render_time(values, column.format)

    def _meta_values(self, meta: str, timestamps: Any, raw: Any) -> pa.Array:
        n = len(timestamps)
        constants = {
            "exchange": self.context.exchange,
            "market": self.context.market,
            "symbol": self.context.symbol,
        }
        if meta == "collection_timestamp_ns":
            return timestamps
        if meta == "data":
            return raw
        if meta in constants:
            return pa.repeat(pa.scalar(constants[meta], pa.string()), n)
        return pa.repeat(pa.scalar(self.context.datastream_id, pa.int64()), n)

    def _read(self, value: Value, state: _Batch) -> Any:
        if value.type_name == "json":
            return self._json_values(value, state)
        if value.element:
            return get_path(state.elements, value.tokens)
        values = get_path(state.decoded, value.tokens)
        return values.take(state.parents) if state.parents is not None else values

    def _json_values(self, value: Value, state: _Batch) -> pa.Array:
        if state.messages is None:
            text = state.text if state.text is not None else state.raw
            state.messages = parse_documents(text, state.timestamps)
        messages = state.messages
        if value.element:
            # Message-major, unfold paths in order: the order of the vectorised unfold.
            found = [
                walk(element, value.tokens)
                for message in messages
                for unfold in self.unfolds
                for element in as_list(walk(message, unfold.tokens))
            ]
        else:
            found = [walk(message, value.tokens) for message in messages]
        texts = pa.array([json_text(v) for v in found], pa.string())
        if not value.element and state.parents is not None:
            texts = texts.take(state.parents)
        return texts

    def _data(self, column: DataColumn, state: _Batch) -> Any:
        values = self._read(column.value, state)
        type_name = column.value.type_name
        unit = TIMESTAMP_UNITS.get(type_name)
        if unit is not None and unit != 1:
            values = self._scaled_time(column, values, state, unit)
        elif column.logical.kind == "decimal" or DECIMAL_RE.match(type_name):
            values = self._decimal_text(column, values, state, type_name)
        if column.transform is not None:
            inputs = {ref: self._read(v, state) for ref, v in column.inputs.items()}
            try:
                values = column.transform(values, inputs)
            except (pa.ArrowException, ValueError, OverflowError) as exc:
                raise DecodeError(
                    f"column {column.name!r} (source {column.source!r}): transform failed: {exc}"
                ) from None
            if column.logical.kind == "decimal" and pa.types.is_decimal(values.type):
                scale = column.logical.scale
                # Division and the like give more digits than the column keeps: round them.
                values = pc.cast(pc.round(values, ndigits=scale), pa.decimal128(38, scale))
        return values

    def _scaled_time(self, column: DataColumn, values: Any, state: _Batch, unit: int) -> Any:
        limit = (2**63 - 1) // unit
        bad = pc.fill_null(pc.greater(pc.abs(values), limit), False)
        if pc.any(bad).as_py():
            if not column.null_on_error:
                row = pc.index(bad, True).as_py()
                raise DecodeError(
                    f"column {column.name!r} (source {column.source!r}): "
                    f"{values[row].as_py()} is out of range for {column.value.type_name}, first "
                    f"in the record at collection_timestamp_ns={state.row_timestamp(row)}"
                )
            values = pc.if_else(bad, pa.scalar(None, values.type), values)
        return pc.multiply(values, pa.scalar(unit, pa.int64()))

    def _decimal_text(self, column: DataColumn, values: Any, state: _Batch, type_name: str) -> Any:
        """Decimals stay the exact text the source sent; check it is a decimal that fits."""
        if _checked_name(column.value) in state.checked:
            return values
        bad = _bad_decimals(values, type_name)
        if not pc.any(bad).as_py():
            return values
        if column.null_on_error:
            return pc.if_else(bad, pa.scalar(None, values.type), values)
        row = pc.index(bad, True).as_py()
        raise DecodeError(
            f"column {column.name!r} (source {column.source!r}): {values[row].as_py()!r} is "
            f"not a {type_name}, first in the record at "
            f"collection_timestamp_ns={state.row_timestamp(row)}"
        )


def _describe(node: Any) -> Any:
    """A decode tree as plain data, for its key."""
    if isinstance(node, Leaf):
        return [str(node.arrow_type), node.null_on_error]
    if isinstance(node, ListNode):
        return {"[]": _describe(node.item) if node.item is not None else None}
    # In order: the struct's fields are, and their order is part of its type.
    return [[name, _describe(child)] for name, child in node.fields.items()]


def _checked_name(value: Value) -> str:
    return json.dumps([value.element, list(value.tokens), value.type_name])


def _bad_decimals(values: Any, type_name: str) -> Any:
    """True where a value is not decimal text that fits decimal(38, scale); null stays null-
    free (False)."""
    scale = int(DECIMAL_RE.match(type_name).group(1))  # type: ignore[union-attr]
    valid = pc.match_substring_regex(values, _DECIMAL_TEXT)
    try:
        pc.cast(pc.if_else(valid, values, None), pa.decimal128(38, scale))
        fits = valid
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        exact = pa.array([fits_decimal(v, scale) for v in values.to_pylist()], pa.bool_())
        fits = pc.and_(valid, exact)
    return pc.and_(pc.is_valid(values), pc.invert(pc.fill_null(fits, False)))
