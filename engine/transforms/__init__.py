"""Compile a column transform (a small SQL scalar expression) to pyarrow.compute.

`{v}` is the column's extracted value; `{path}` (e.g. `{data.m}`, `{type}`) is another value of
the same message, read with JSON types. The expression is parsed with sqlglot and only the node
kinds in `nodes._COMPILERS` (and the functions in `functions.FUNCTIONS`) are accepted; anything
else is rejected with its position in the text. Nothing is ever evaluated as Python or sent to a
database: the result is a chain of pyarrow.compute calls, one per node, per batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

from engine.transforms.arrays import VALUE, Compiled, broadcast
from engine.transforms.errors import TransformError
from engine.transforms.functions import FUNCTIONS
from engine.transforms.nodes import Compiler
from engine.transforms.positions import substitute_placeholders, text_offset

__all__ = ["FUNCTIONS", "Transform", "TransformError", "compile_transform"]


@dataclass(frozen=True)
class Transform:
    text: str
    inputs: tuple[str, ...]  # the paths referenced besides {v}, in order of appearance
    _build: Compiled

    def __call__(self, value: pa.Array, inputs: Mapping[str, pa.Array] | None = None) -> Any:
        result = self._build({VALUE: value, **(inputs or {})})
        return broadcast(result, len(value))


MAX_LENGTH = 2000
MAX_DEPTH = 48  # nodes from the root to the deepest leaf; `((((1))))` is 5


def compile_transform(text: str) -> Transform:
    """Parse `text` once; the result maps the extracted value array to the output array."""
    if len(text) > MAX_LENGTH:
        raise TransformError(f"a transform is at most {MAX_LENGTH:,} characters")
    sql, names = substitute_placeholders(text)
    try:
        tree = sqlglot.parse_one(sql)
    except sqlglot.errors.ParseError as exc:
        error = exc.errors[0] if exc.errors else {}
        column = error.get("col")
        position = text_offset(sql, error.get("line") or 1, column) if column else None
        raise TransformError(
            f"cannot parse transform: {error.get('description', exc)}", position
        ) from None
    except sqlglot.errors.TokenError as exc:  # e.g. an unterminated string; no position known
        raise TransformError(f"cannot parse transform: {exc}") from None
    except RecursionError:
        raise TransformError(_TOO_DEEP) from None
    if not isinstance(tree, exp.Expression):
        raise TransformError("empty transform")
    if _depth(tree) > MAX_DEPTH:
        raise TransformError(_TOO_DEEP)
    compiler = Compiler(names, sql)
    build = compiler.compile(tree)
    inputs = tuple(dict.fromkeys(n for n in names.values() if n != VALUE))
    return Transform(text, inputs, build)


_TOO_DEEP = f"the transform is nested too deeply (at most {MAX_DEPTH} levels)"


def _depth(tree: exp.Expression) -> int:
    """Without recursion: the compiler recurses, so a tree too deep must be refused first."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.iter_expressions())
    return deepest
