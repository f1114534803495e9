"""Compile an export schema (see `schema_spec.py`) into a function over record batches.

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

import decimal
import json
import re
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from workers.engine.schema_spec import (
    DECIMAL_RE,
    ELEMENT,
    TIMESTAMP_UNITS,
    DataMapping,
    Path,
    SchemaError,
    SchemaSpec,
    SpecInvalid,
    input_type,
    json_type,
    load_spec,
    lookup_source,
    parse_path,
    probe_transform,
)
from workers.engine.transforms import Transform, TransformError, compile_transform

__all__ = [
    "CompiledSchema",
    "DecodeError",
    "LogicalType",
    "MissingMapping",
    "SchemaError",
    "SourceContext",
]

_DECIMAL_TEXT = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


class MissingMapping(SchemaError):
    """The schema has no mapping for this source (checked per export, not per schema)."""


class DecodeError(ValueError):
    """Records that do not match what the schema expects (a permanent job failure)."""


@dataclass(frozen=True)
class LogicalType:
    """What a column *is*; the writers decide how each format stores it.

    kind: timestamp (int64 ns in memory), string, int, float, bool, decimal (exact text in
    memory while untransformed, decimal128 otherwise), json (raw JSON text).
    """

    kind: str
    scale: int = 0

    def describe(self) -> str:
        return f"decimal({self.scale})" if self.kind == "decimal" else self.kind


@dataclass(frozen=True)
class SourceContext:
    """Facts about the datastream that source keys and `meta` columns refer to."""

    exchange: str
    symbol: str
    datastream_id: int
    market: str = ""


_TIME_DIVISORS = {"ns": 1, "us": 1_000, "ms": 1_000_000}


def render_time(nanos: Any, unit: str) -> Any:
    """Nanoseconds since the epoch as `ns`/`us`/`ms` integers or `iso` text (nine digits);
    shared by meta column formats and the writers' timestamp options."""
    nanos = pc.cast(nanos, pa.int64())
    if unit == "iso":
        return pc.strftime(nanos.cast(pa.timestamp("ns", "UTC")), "%Y-%m-%dT%H:%M:%SZ")
    return pc.divide(nanos, _TIME_DIVISORS[unit]) if unit != "ns" else nanos


def logical_type(type_name: str) -> LogicalType:
    if type_name in TIMESTAMP_UNITS:
        return LogicalType("timestamp")
    if match := DECIMAL_RE.match(type_name):
        return LogicalType("decimal", int(match.group(1)))
    return LogicalType(type_name)


def _logical_from_arrow(arrow_type: pa.DataType, before: LogicalType) -> LogicalType:
    if pa.types.is_decimal(arrow_type):
        return LogicalType("decimal", before.scale if before.kind == "decimal" else 18)
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return before if before.kind == "json" else LogicalType("string")
    if pa.types.is_integer(arrow_type):
        return before if before.kind == "timestamp" else LogicalType("int")
    if pa.types.is_floating(arrow_type):
        return LogicalType("float")
    if pa.types.is_boolean(arrow_type):
        return LogicalType("bool")
    if pa.types.is_null(arrow_type):
        return LogicalType("string")
    raise SchemaError(f"transform produces an unsupported type {arrow_type}")


# The decode tree: which JSON paths to read, with which types (structs, lists, leaves).
@dataclass
class _Leaf:
    arrow_type: pa.DataType
    owners: list[str]  # output columns reading it, for error messages
    null_on_error: bool


@dataclass
class _Struct:
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class _List:
    item: Any = None


def _insert(node: Any, tokens: Path, leaf: _Leaf, text: str) -> Any:
    if not tokens:
        if node is None:
            return leaf
        if isinstance(node, _Leaf) and node.arrow_type == leaf.arrow_type:
            node.owners.extend(leaf.owners)
            node.null_on_error = node.null_on_error and leaf.null_on_error
            return node
        raise SchemaError(f"path {text!r} is read as two different things")
    head, rest = tokens[0], tokens[1:]
    if isinstance(head, int):
        node = _List() if node is None else node
        if not isinstance(node, _List):
            raise SchemaError(f"path {text!r} indexes something that is not an array")
        node.item = _insert(node.item, rest, leaf, text)
        return node
    node = _Struct() if node is None else node
    if not isinstance(node, _Struct):
        raise SchemaError(f"path {text!r} goes through a value that is not an object")
    node.fields[head] = _insert(node.fields.get(head), rest, leaf, text)
    return node


def _arrow_type(node: Any) -> pa.DataType:
    if isinstance(node, _Leaf):
        return node.arrow_type
    if isinstance(node, _List):
        return pa.list_(_arrow_type(node.item) if node.item is not None else pa.struct([]))
    return pa.struct([pa.field(k, _arrow_type(v)) for k, v in node.fields.items()])


def _get(values: Any, tokens: Path) -> Any:
    """Follow a path through decoded arrays; a missing field or index gives nulls."""
    for token in tokens:
        if isinstance(token, int):
            too_short = pc.fill_null(pc.less_equal(pc.list_value_length(values), token), True)
            values = pc.list_element(
                pc.if_else(too_short, pa.scalar(None, values.type), values), token
            )
        else:
            values = pc.struct_field(values, token)
    return values


def _walk(value: Any, tokens: Path) -> Any:
    for token in tokens:
        if isinstance(token, int):
            value = value[token] if isinstance(value, list) and token < len(value) else None
        else:
            value = value.get(token) if isinstance(value, dict) else None
    return value


@dataclass
class _Value:
    """A value read from the message: the column's own or a transform input."""

    tokens: Path  # from the message, or from the unfolded element when `element`
    element: bool
    type_name: str


@dataclass
class _DataColumn:
    name: str
    source: str
    value: _Value
    transform: Transform | None
    inputs: dict[str, _Value]
    logical: LogicalType
    null_on_error: bool


@dataclass
class _MetaColumn:
    name: str
    meta: str
    format: str | None
    logical: LogicalType


@dataclass
class _Unfold:
    tokens: Path
    tag: str | None


@dataclass
class _Batch:
    """One batch during `apply`: the decoded messages and, when unfolding, the elements."""

    timestamps: pa.Array
    raw: pa.Array
    decoded: Any
    parents: pa.Array | None = None
    elements: Any = None
    tags: pa.Array | None = None
    messages: list[Any] | None = None  # parsed in Python, only for json columns

    def row_timestamp(self, row: int) -> int:
        message = row if self.parents is None else self.parents[row].as_py()
        return int(self.timestamps[message].as_py())


@dataclass
class CompiledSchema:
    name: str
    source: str | None
    columns: list[_DataColumn | _MetaColumn]
    unfolds: list[_Unfold]
    decode_tree: _Struct
    context: SourceContext
    fields: list[tuple[str, LogicalType]] = field(default_factory=list)

    def apply(self, batch: pa.RecordBatch | pa.Table) -> pa.Table:
        return self.apply_with_times(batch)[0]

    def apply_with_times(self, batch: pa.RecordBatch | pa.Table) -> tuple[pa.Table, pa.Array]:
        """The output rows and each row's collection timestamp (ns)."""
        raw = _contiguous(batch.column("data"))
        state = _Batch(_contiguous(batch.column("collection_timestamp_ns")), raw, None)
        if self.decode_tree.fields:
            state.decoded = self._decode(state)
        if self.unfolds:
            self._unfold(state)
        arrays = [
            self._meta(column, state)
            if isinstance(column, _MetaColumn)
            else self._data(column, state)
            for column in self.columns
        ]
        times = state.timestamps if state.parents is None else state.timestamps.take(state.parents)
        return pa.Table.from_arrays(arrays, names=[c.name for c in self.columns]), times

    # -- decoding -------------------------------------------------------------------------
    def _decode(self, state: _Batch) -> Any:
        raw = state.raw
        struct_type = _arrow_type(self.decode_tree)
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
        for index, message in enumerate(_parse_exactly(state)):
            try:
                rows.append(_coerce(self.decode_tree, message))
            except _CannotCoerce as exc:
                raise DecodeError(
                    f"column {exc.leaf.owners[0]!r} (source {self.source!r}): "
                    f"{_shown(exc.value)} is not a {_type_label(exc.leaf.arrow_type)}, "
                    "first in the record at "
                    f"collection_timestamp_ns={state.timestamps[index]}"
                ) from None
        return pa.array(rows, type=struct_type)

    def _unfold(self, state: _Batch) -> None:
        parents, elements, tags = [], [], []
        for unfold in self.unfolds:
            lists = _get(state.decoded, unfold.tokens)
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
    def _meta(self, column: _MetaColumn, state: _Batch) -> Any:
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

    def _read(self, value: _Value, state: _Batch) -> Any:
        if value.type_name == "json":
            return self._json_values(value, state)
        if value.element:
            return _get(state.elements, value.tokens)
        values = _get(state.decoded, value.tokens)
        return values.take(state.parents) if state.parents is not None else values

    def _json_values(self, value: _Value, state: _Batch) -> pa.Array:
        if state.messages is None:
            state.messages = _parse_documents(state)
        messages = state.messages
        if value.element:
            # Message-major, unfold paths in order: the order of the vectorised unfold.
            found = [
                _walk(element, value.tokens)
                for message in messages
                for unfold in self.unfolds
                for element in _as_list(_walk(message, unfold.tokens))
            ]
        else:
            found = [_walk(message, value.tokens) for message in messages]
        texts = pa.array([_json_text(v) for v in found], pa.string())
        if not value.element and state.parents is not None:
            texts = texts.take(state.parents)
        return texts

    def _data(self, column: _DataColumn, state: _Batch) -> Any:
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
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
                raise DecodeError(
                    f"column {column.name!r} (source {column.source!r}): transform failed: {exc}"
                ) from None
            if column.logical.kind == "decimal" and pa.types.is_decimal(values.type):
                scale = column.logical.scale
                # Division and the like give more digits than the column keeps: round them.
                values = pc.cast(pc.round(values, ndigits=scale), pa.decimal128(38, scale))
        return values

    def _scaled_time(self, column: _DataColumn, values: Any, state: _Batch, unit: int) -> Any:
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

    def _decimal_text(self, column: _DataColumn, values: Any, state: _Batch, type_name: str) -> Any:
        """Decimals stay the exact text the source sent; check it is a decimal that fits."""
        scale = int(DECIMAL_RE.match(type_name).group(1))  # type: ignore[union-attr]
        valid = pc.match_substring_regex(values, _DECIMAL_TEXT)
        try:
            pc.cast(pc.if_else(valid, values, None), pa.decimal128(38, scale))
            fits = valid
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            exact = pa.array([_fits(v, scale) for v in values.to_pylist()], pa.bool_())
            fits = pc.and_(valid, exact)
        bad = pc.and_(pc.is_valid(values), pc.invert(pc.fill_null(fits, False)))
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


class _NumberText(str):
    """A JSON number kept as its exact text (the lenient decoder never goes through float)."""


def _parse_exactly(state: _Batch) -> list[Any]:
    messages = []
    for index, text in enumerate(state.raw.to_pylist()):
        try:
            messages.append(json.loads(text, parse_float=_NumberText))
        except (json.JSONDecodeError, TypeError) as exc:
            raise DecodeError(
                f"the record at collection_timestamp_ns={state.timestamps[index]} "
                f"is not valid JSON: {exc}"
            ) from None
    return messages


def _parse_documents(state: _Batch) -> list[Any]:
    messages = []
    for index, text in enumerate(state.raw.to_pylist()):
        try:
            messages.append(orjson.loads(text))
        except orjson.JSONDecodeError as exc:
            raise DecodeError(
                f"the record at collection_timestamp_ns={state.timestamps[index]} "
                f"is not valid JSON: {exc}"
            ) from None
    return messages


def _fits(text: str | None, scale: int) -> bool:
    if text is None:
        return True
    try:
        number = decimal.Decimal(text)
    except decimal.InvalidOperation:
        return False
    if not number.is_finite():
        return False
    # Trailing zeros beyond the scale are fine ("1.120" is a decimal(2)), like pyarrow's cast.
    with decimal.localcontext(decimal.Context(prec=100)):
        exact = number == number.quantize(decimal.Decimal(1).scaleb(-scale), decimal.ROUND_DOWN)
    return exact and (number.is_zero() or number.adjusted() < 38 - scale)


def _shown(value: Any) -> str:
    return str(value) if isinstance(value, _NumberText) else repr(value)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _json_text(value: Any) -> str | None:
    """Compact JSON of a sub-document (numbers as doubles: orjson's shortest round trip)."""
    return None if value is None else orjson.dumps(value).decode()


class _CannotCoerce(Exception):
    def __init__(self, leaf: _Leaf, value: Any) -> None:
        self.leaf, self.value = leaf, value


def _coerce(node: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(node, _Struct):
        if not isinstance(value, dict):
            return None  # the path is not there: nulls, like a missing field
        return {k: _coerce(child, value.get(k)) for k, child in node.fields.items()}
    if isinstance(node, _List):
        if not isinstance(value, list):
            return None
        return (
            [_coerce(node.item, v) for v in value] if node.item is not None else [{}] * len(value)
        )
    try:
        return _coerce_scalar(node.arrow_type, value)
    except (ValueError, TypeError):
        if node.null_on_error:
            return None
        raise _CannotCoerce(node, value) from None


_INT64 = range(-(2**63), 2**63)


def _coerce_scalar(arrow_type: pa.DataType, value: Any) -> Any:
    if pa.types.is_string(arrow_type):
        if isinstance(value, str):
            return str(value)
        if isinstance(value, bool | int):
            return orjson.dumps(value).decode()
    elif pa.types.is_int64(arrow_type):
        number = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and re.fullmatch(
            r"[+-]?\d+(\.0*)?([eE]\+?\d+)?", value.strip()
        ):
            exact = decimal.Decimal(value)
            number = int(exact) if exact == exact.to_integral_value() else None
        if number is not None and number in _INT64:
            return number
    elif pa.types.is_float64(arrow_type):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            return float(value)
    elif pa.types.is_boolean(arrow_type):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    raise ValueError(value)


def _type_label(arrow_type: pa.DataType) -> str:
    return {"int64": "int", "double": "float"}.get(str(arrow_type), str(arrow_type))


def _contiguous(values: Any) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def compile_schema(spec: dict[str, Any] | SchemaSpec, context: SourceContext) -> CompiledSchema:
    """Bind a schema to one datastream's source (its exchange, or exchange and market)."""
    try:
        checked = spec if isinstance(spec, SchemaSpec) else load_spec(spec)
    except SpecInvalid as exc:
        raise SchemaError(str(exc)) from None
    return _Binder(checked, context).bind()


class _Binder:
    def __init__(self, spec: SchemaSpec, context: SourceContext) -> None:
        self.spec = spec
        self.context = context
        self.source = spec.source_key(context.exchange, context.market)
        options = lookup_source(spec.sources, context.exchange, context.market)
        self.unfolds = [
            _Unfold(parse_path(u.path), u.tag) for u in (options.unfold_paths() if options else [])
        ]
        self.tree = _Struct()

    def bind(self) -> CompiledSchema:
        columns: list[_DataColumn | _MetaColumn] = []
        for column in self.spec.columns:
            if column.meta is not None:
                columns.append(_meta_column(column.output_column, column.meta, column.format))
                continue
            mapping = lookup_source(column.data or {}, self.context.exchange, self.context.market)
            if mapping is None:
                raise MissingMapping(
                    f"schema {self.spec.name!r} has no mapping for {self.context.exchange!r} "
                    f"(column {column.output_column!r})"
                )
            columns.append(self._data_column(column.output_column, mapping))
        if self.unfolds:
            self._ensure_unfold_arrays()
        compiled = CompiledSchema(
            self.spec.name, self.source, columns, self.unfolds, self.tree, self.context
        )
        compiled.fields = [(c.name, c.logical) for c in columns]
        return compiled

    def _data_column(self, name: str, mapping: DataMapping) -> _DataColumn:
        null_on_error = mapping.on_error == "null"
        value = self._value(mapping.path, mapping.type, name, null_on_error)
        logical = logical_type(mapping.type)
        transform, inputs = None, {}
        if mapping.transform:
            try:
                transform = compile_transform(mapping.transform)
                logical = _logical_from_arrow(probe_transform(transform, mapping.type), logical)
            except TransformError as exc:
                raise SchemaError(f"column {name!r}: {exc}") from None
            for reference in transform.inputs:
                path, type_name = input_type(reference)
                inputs[reference] = self._value(path, type_name, name, null_on_error)
        return _DataColumn(
            name, self.source or "", value, transform, inputs, logical, null_on_error
        )

    def _value(self, text: str, type_name: str, owner: str, null_on_error: bool) -> _Value:
        tokens = parse_path(text)
        element = tokens[0] == ELEMENT
        if not element and len(self.unfolds) == 1:
            prefix = self.unfolds[0].tokens
            below = tokens[len(prefix)] if len(tokens) > len(prefix) else None
            if tokens[: len(prefix)] == prefix and isinstance(below, str):
                tokens, element = (ELEMENT, *tokens[len(prefix) :]), True
        if element and not self.unfolds:
            raise SchemaError(f"path {text!r} starts at $, but this source does not unfold")
        relative = tokens[1:] if element else tokens
        if type_name != "json":
            leaf = _Leaf(json_type(type_name), [owner], null_on_error)
            if element:
                for unfold in self.unfolds:
                    # Any index stands for "each element" in the decode tree.
                    full = (*unfold.tokens, 0, *relative)
                    self.tree = _insert(self.tree, full, _copy(leaf), text)
            else:
                self.tree = _insert(self.tree, relative, leaf, text)
        return _Value(relative, element, type_name)

    def _ensure_unfold_arrays(self) -> None:
        for unfold in self.unfolds:
            node: Any = self.tree
            for token in unfold.tokens:
                if not isinstance(node, _Struct) or isinstance(token, int):
                    raise SchemaError("an unfold path must go through objects only")
                node = node.fields.setdefault(token, _Struct())
            if isinstance(node, _Struct) and not node.fields:
                self._replace(unfold.tokens, _List())
            elif not isinstance(node, _List):
                raise SchemaError(
                    f"unfold path {'.'.join(map(str, unfold.tokens))!r} is read as a value"
                )
        element_types = {str(_arrow_type(_node_at(self.tree, u.tokens))) for u in self.unfolds}
        if len(element_types) > 1:
            raise SchemaError("the unfolded arrays must have elements of the same shape")

    def _replace(self, tokens: Path, node: Any) -> None:
        parent = _node_at(self.tree, tokens[:-1])
        parent.fields[tokens[-1]] = node


def _node_at(tree: _Struct, tokens: Path) -> Any:
    node: Any = tree
    for token in tokens:
        node = node.fields[token]
    return node


def _copy(leaf: _Leaf) -> _Leaf:
    return _Leaf(leaf.arrow_type, list(leaf.owners), leaf.null_on_error)


def _meta_column(name: str, meta: str, time_format: str | None) -> _MetaColumn:
    if meta == "collection_timestamp_ns":
        kinds = {"ns": "int", "us": "int", "ms": "int", "iso": "string"}
        return _MetaColumn(
            name, meta, time_format, LogicalType(kinds.get(time_format or "", "timestamp"))
        )
    kind = {"data": "json", "datastream_id": "int"}.get(meta, "string")
    return _MetaColumn(name, meta, None, LogicalType(kind))
