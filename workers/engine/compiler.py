"""Compile an export schema (the JSON schema language) into a function over record batches.

A record batch has `collection_timestamp_ns` (int64) and `data` (the raw JSON text). The
compiled schema decodes only the JSON paths its columns need, in one pyarrow.json call per
batch with an explicit schema, unfolds arrays, applies transforms, and returns a table of
output columns in their *logical* representation (see `LogicalType`), which the writers
render per format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from workers.engine.transforms import Compiled, TransformError, compile_transform

META_FIELDS = ("collection_timestamp_ns", "data", "exchange", "symbol", "datastream_id")


class SchemaError(ValueError):
    """The schema cannot be applied to this datastream."""


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
    """Facts about the datastream that `meta` columns can refer to."""

    exchange: str
    symbol: str
    datastream_id: int


_DECIMAL_RE = re.compile(r"^decimal\((\d{1,2})\)$")
_TIMESTAMP_UNITS = {
    "timestamp_s": 1_000_000_000,
    "timestamp_ms": 1_000_000,
    "timestamp_us": 1_000,
    "timestamp_ns": 1,
}


def json_type(type_name: str) -> pa.DataType:
    """How a value of this schema type is read from JSON."""
    if type_name in _TIMESTAMP_UNITS or type_name == "int":
        return pa.int64()
    if type_name in ("string",) or _DECIMAL_RE.match(type_name):
        return pa.string()
    if type_name == "float":
        return pa.float64()
    if type_name == "bool":
        return pa.bool_()
    raise SchemaError(f"unknown type {type_name!r}")


def logical_type(type_name: str) -> LogicalType:
    if type_name in _TIMESTAMP_UNITS:
        return LogicalType("timestamp")
    if match := _DECIMAL_RE.match(type_name):
        scale = int(match.group(1))
        if scale > 30:
            raise SchemaError(f"{type_name}: scale must be at most 30")
        return LogicalType("decimal", scale)
    json_type(type_name)
    return LogicalType(type_name)


def _logical_from_arrow(arrow_type: pa.DataType, before: LogicalType) -> LogicalType:
    if pa.types.is_decimal(arrow_type):
        return LogicalType("decimal", arrow_type.scale)
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return before if before.kind == "decimal" else LogicalType("string")
    if pa.types.is_integer(arrow_type):
        return before if before.kind == "timestamp" else LogicalType("int")
    if pa.types.is_floating(arrow_type):
        return LogicalType("float")
    if pa.types.is_boolean(arrow_type):
        return LogicalType("bool")
    if pa.types.is_null(arrow_type):
        return LogicalType("string")
    raise SchemaError(f"transform produces an unsupported type {arrow_type}")


@dataclass
class _DataColumn:
    name: str
    path: tuple[str, ...]
    type_name: str
    transform: Compiled | None
    logical: LogicalType


@dataclass
class _MetaColumn:
    name: str
    meta: str
    logical: LogicalType


@dataclass
class CompiledSchema:
    name: str
    columns: list[_DataColumn | _MetaColumn]
    unfold: tuple[str, ...] | None
    decode_schema: pa.Schema | None
    context: SourceContext
    fields: list[tuple[str, LogicalType]] = field(default_factory=list)

    def apply(self, batch: pa.RecordBatch | pa.Table) -> pa.Table:
        timestamps = batch.column("collection_timestamp_ns")
        raw = batch.column("data")
        decoded = self._decode(raw) if self.decode_schema is not None else None
        parents = None
        if self.unfold is not None and decoded is not None:
            unfolded = _get_path(decoded, self.unfold)
            parents = pc.list_parent_indices(unfolded)
            elements = pc.list_flatten(unfolded)
        arrays = []
        for column in self.columns:
            if isinstance(column, _MetaColumn):
                values = self._meta(column.meta, timestamps, raw)
                if parents is not None:
                    values = values.take(parents)
            else:
                assert decoded is not None
                values = self._data(
                    column, decoded, elements if self._under_unfold(column) else None, parents
                )
            arrays.append(values)
        return pa.Table.from_arrays(arrays, names=[c.name for c in self.columns])

    def _under_unfold(self, column: _DataColumn) -> bool:
        return self.unfold is not None and column.path[: len(self.unfold)] == self.unfold

    def _decode(self, raw: Any) -> pa.StructArray:
        assert self.decode_schema is not None
        if isinstance(raw, pa.ChunkedArray):
            raw = raw.combine_chunks()
        if len(raw) == 0:
            return pa.array([], type=pa.struct(list(self.decode_schema)))
        lines = pc.binary_join_element_wise(raw, "", "\n")
        # A freshly computed array starts at offset 0: its value buffer is the NDJSON text.
        buffer = lines.buffers()[2][: pc.sum(pc.binary_length(lines)).as_py()]
        longest = pc.max(pc.binary_length(raw)).as_py() or 0
        try:
            table = pj.read_json(
                pa.BufferReader(buffer),
                read_options=pj.ReadOptions(block_size=max(1 << 22, 2 * longest + 2)),
                parse_options=pj.ParseOptions(
                    explicit_schema=self.decode_schema, unexpected_field_behavior="ignore"
                ),
            )
        except pa.ArrowInvalid as exc:
            raise DecodeError(
                f"schema {self.name!r}: records do not match the schema: {exc}"
            ) from None
        if table.num_rows != len(raw):
            raise DecodeError(
                f"schema {self.name!r}: {len(raw)} records decoded to {table.num_rows} rows"
            )
        return table.to_struct_array().combine_chunks()

    def _meta(self, meta: str, timestamps: Any, raw: Any) -> pa.Array:
        n = len(timestamps)
        if meta == "collection_timestamp_ns":
            return _contiguous(timestamps)
        if meta == "data":
            return _contiguous(raw)
        if meta == "exchange":
            return pa.repeat(pa.scalar(self.context.exchange), n)
        if meta == "symbol":
            return pa.repeat(pa.scalar(self.context.symbol), n)
        return pa.repeat(pa.scalar(self.context.datastream_id, pa.int64()), n)

    def _data(
        self, column: _DataColumn, decoded: pa.StructArray, elements: Any, parents: Any
    ) -> Any:
        if elements is not None:
            values = _get_path(elements, column.path[len(self.unfold or ()) :])
        else:
            values = _get_path(decoded, column.path)
            if parents is not None:
                values = values.take(parents)
        unit = _TIMESTAMP_UNITS.get(column.type_name)
        if unit is not None and unit != 1:
            values = pc.multiply_checked(values, pa.scalar(unit, pa.int64()))
        elif column.logical.kind == "decimal" and column.transform is None:
            _check_decimal_text(column, values)
        if column.transform is not None:
            try:
                values = column.transform(values)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
                raise DecodeError(f"column {column.name!r}: transform failed: {exc}") from None
            if column.logical.kind == "decimal" and pa.types.is_decimal(values.type):
                values = pc.cast(values, pa.decimal128(38, column.logical.scale))
        return values


def _contiguous(values: Any) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _check_decimal_text(column: _DataColumn, values: pa.Array) -> None:
    try:
        pc.cast(values, pa.decimal128(38, column.logical.scale))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise DecodeError(
            f"column {column.name!r}: value is not a {column.type_name}: {exc}"
        ) from None


def _get_path(struct: Any, path: tuple[str, ...]) -> Any:
    values = struct
    for part in path:
        values = pc.struct_field(values, part)
    return values


def parse_path(path: str) -> tuple[str, ...]:
    parts = tuple(path.split("."))
    if not path or any(not p or "[" in p for p in parts):
        raise SchemaError(f"unsupported path {path!r}: use dotted field names such as data.p")
    return parts


def compile_schema(spec: dict[str, Any], context: SourceContext) -> CompiledSchema:
    """Bind a schema to one datastream's source (its exchange code)."""
    sources = spec.get("sources") or {}
    source_spec = sources.get(context.exchange, {})
    unfold = parse_path(source_spec["unfold"]) if source_spec.get("unfold") else None
    columns: list[_DataColumn | _MetaColumn] = []
    leaves: dict[tuple[str, ...], pa.DataType] = {}
    for column in spec["columns"]:
        name = column["outputColumn"]
        if "meta" in column:
            meta = column["meta"]
            if meta not in META_FIELDS:
                raise SchemaError(f"column {name!r}: unknown meta field {meta!r}")
            kinds = {
                "collection_timestamp_ns": LogicalType("timestamp"),
                "data": LogicalType("json"),
                "datastream_id": LogicalType("int"),
            }
            columns.append(_MetaColumn(name, meta, kinds.get(meta, LogicalType("string"))))
            continue
        mapping = column.get("data", {}).get(context.exchange)
        if mapping is None:
            raise SchemaError(
                f"schema {spec['name']!r} has no mapping for exchange {context.exchange!r} "
                f"(column {name!r})"
            )
        path = parse_path(mapping["path"])
        arrow_type = json_type(mapping["type"])
        if leaves.setdefault(path, arrow_type) != arrow_type:
            raise SchemaError(f"path {mapping['path']!r} is read with two different types")
        transform = None
        logical = logical_type(mapping["type"])
        if mapping.get("transform"):
            try:
                transform = compile_transform(mapping["transform"])
                logical = _logical_from_arrow(_probe(transform, arrow_type), logical)
            except TransformError as exc:
                raise SchemaError(f"column {name!r}: {exc}") from None
        columns.append(_DataColumn(name, path, mapping["type"], transform, logical))
    compiled = CompiledSchema(
        name=spec["name"],
        columns=columns,
        unfold=unfold,
        decode_schema=_decode_schema(leaves, unfold) if leaves else None,
        context=context,
    )
    compiled.fields = [(c.name, c.logical) for c in columns]
    return compiled


def _probe(transform: Compiled, arrow_type: pa.DataType) -> pa.DataType:
    """The output type of a transform, found by running it on an empty array."""
    try:
        return transform(pa.array([], type=arrow_type)).type
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise TransformError(f"transform cannot apply to {arrow_type}: {exc}") from None


def _decode_schema(
    leaves: dict[tuple[str, ...], pa.DataType], unfold: tuple[str, ...] | None
) -> pa.Schema:
    tree: dict[str, Any] = {}
    for path, arrow_type in leaves.items():
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise SchemaError(f"path {'.'.join(path)!r} goes through a leaf value")
        if isinstance(node.get(path[-1]), dict):
            raise SchemaError(f"path {'.'.join(path)!r} is both a value and an object")
        node[path[-1]] = arrow_type

    def build(node: dict[str, Any], prefix: tuple[str, ...]) -> list[pa.Field]:
        fields = []
        for name, child in node.items():
            here = (*prefix, name)
            arrow_type = pa.struct(build(child, here)) if isinstance(child, dict) else child
            if unfold is not None and here == unfold:
                arrow_type = pa.list_(arrow_type)
            fields.append(pa.field(name, arrow_type))
        return fields

    return pa.schema(build(tree, ()))
