"""The decode tree of a bound export schema: which JSON paths to read, with which types
(objects, arrays, leaves), and how to follow a path through decoded arrays or Python values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from engine.export_schema.errors import SchemaError
from engine.export_schema.spec import Path


# Which JSON paths to read, with which types: objects, arrays and leaves.
@dataclass
class Leaf:
    arrow_type: pa.DataType
    owners: list[str]  # output columns reading it, for error messages
    null_on_error: bool


@dataclass
class Struct:
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class ListNode:
    item: Any = None


def insert(node: Any, tokens: Path, leaf: Leaf, text: str) -> Any:
    if not tokens:
        if node is None:
            return leaf
        if isinstance(node, Leaf) and node.arrow_type == leaf.arrow_type:
            node.owners.extend(leaf.owners)
            node.null_on_error = node.null_on_error and leaf.null_on_error
            return node
        raise SchemaError(f"path {text!r} is read as two different things")
    head, rest = tokens[0], tokens[1:]
    if isinstance(head, int):
        node = ListNode() if node is None else node
        if not isinstance(node, ListNode):
            raise SchemaError(f"path {text!r} indexes something that is not an array")
        node.item = insert(node.item, rest, leaf, text)
        return node
    node = Struct() if node is None else node
    if not isinstance(node, Struct):
        raise SchemaError(f"path {text!r} goes through a value that is not an object")
    node.fields[head] = insert(node.fields.get(head), rest, leaf, text)
    return node


def arrow_type(node: Any) -> pa.DataType:
    if isinstance(node, Leaf):
        return node.arrow_type
    if isinstance(node, ListNode):
        return pa.list_(arrow_type(node.item) if node.item is not None else pa.struct([]))
    return pa.struct([pa.field(k, arrow_type(v)) for k, v in node.fields.items()])


def get_path(values: Any, tokens: Path) -> Any:
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


def walk(value: Any, tokens: Path) -> Any:
    for token in tokens:
        if isinstance(token, int):
            value = value[token] if isinstance(value, list) and token < len(value) else None
        else:
            value = value.get(token) if isinstance(value, dict) else None
    return value


def node_at(tree: Struct, tokens: Path) -> Any:
    node: Any = tree
    for token in tokens:
        node = node.fields[token]
    return node


def copy_leaf(leaf: Leaf) -> Leaf:
    return Leaf(leaf.arrow_type, list(leaf.owners), leaf.null_on_error)
