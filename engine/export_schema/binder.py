"""Bind a checked export schema to one datastream's source: pick each column's mapping by
source key, build the decode tree, compile transforms, and derive the output columns' types."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from engine.export_schema.compiled import (
    CompiledSchema,
    DataColumn,
    MetaColumn,
    Unfold,
    Value,
)
from engine.export_schema.decode_tree import (
    Leaf,
    ListNode,
    Struct,
    arrow_type,
    copy_leaf,
    insert,
    node_at,
)
from engine.export_schema.errors import MissingMapping, SchemaError
from engine.export_schema.spec import (
    DECIMAL_RE,
    ELEMENT,
    TIMESTAMP_UNITS,
    DataMapping,
    Path,
    SchemaSpec,
    SpecInvalid,
    input_type,
    json_type,
    load_spec,
    lookup_source,
    parse_path,
    probe_transform,
)
from engine.logical import LogicalType, SourceContext
from engine.transforms import TransformError, compile_transform


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
            Unfold(parse_path(u.path), u.tag) for u in (options.unfold_paths() if options else [])
        ]
        self.envelope = options.envelope if options else None
        self.tree = Struct()

    def bind(self) -> CompiledSchema:
        columns: list[DataColumn | MetaColumn] = []
        for column in self.spec.columns:
            if column.meta is not None:
                columns.append(meta_column(column.output_column, column.meta, column.format))
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
        compiled.envelope = self.envelope
        compiled.fields = [(c.name, c.logical) for c in columns]
        return compiled

    def _data_column(self, name: str, mapping: DataMapping) -> DataColumn:
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
        return DataColumn(
            name, self.source or "", value, transform, inputs, logical, null_on_error, mapping.path
        )

    def _value(self, text: str, type_name: str, owner: str, null_on_error: bool) -> Value:
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
            leaf = Leaf(json_type(type_name), [owner], null_on_error)
            if element:
                for unfold in self.unfolds:
                    # Any index stands for "each element" in the decode tree.
                    full = (*unfold.tokens, 0, *relative)
                    self.tree = insert(self.tree, full, copy_leaf(leaf), text)
            else:
                self.tree = insert(self.tree, relative, leaf, text)
        return Value(relative, element, type_name)

    def _ensure_unfold_arrays(self) -> None:
        for unfold in self.unfolds:
            node: Any = self.tree
            for token in unfold.tokens:
                if not isinstance(node, Struct) or isinstance(token, int):
                    raise SchemaError("an unfold path must go through objects only")
                node = node.fields.setdefault(token, Struct())
            if isinstance(node, Struct) and not node.fields:
                self._replace(unfold.tokens, ListNode())
            elif not isinstance(node, ListNode):
                raise SchemaError(
                    f"unfold path {'.'.join(map(str, unfold.tokens))!r} is read as a value"
                )
        element_types = {str(arrow_type(node_at(self.tree, u.tokens))) for u in self.unfolds}
        if len(element_types) > 1:
            raise SchemaError("the unfolded arrays must have elements of the same shape")

    def _replace(self, tokens: Path, node: Any) -> None:
        parent = node_at(self.tree, tokens[:-1])
        parent.fields[tokens[-1]] = node


def meta_column(name: str, meta: str, time_format: str | None) -> MetaColumn:
    if meta == "collection_timestamp_ns":
        kinds = {"ns": "int", "us": "int", "ms": "int", "iso": "string"}
        return MetaColumn(
            name, meta, time_format, LogicalType(kinds.get(time_format or "", "timestamp"))
        )
    kind = {"data": "json", "datastream_id": "int"}.get(meta, "string")
    return MetaColumn(name, meta, None, LogicalType(kind))
