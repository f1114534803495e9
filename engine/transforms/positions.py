"""Positions in the user's transform text: `{path}` placeholders are replaced by identifiers
of the same length, so that sqlglot's positions (and the errors that quote them) point into the
text the user wrote."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlglot import exp

# A string literal (kept as it is: braces in it are text) or a `{path}` placeholder.
_PLACEHOLDER_RE = re.compile(r"'(?:[^']|'')*'|\{([^{}]+)\}")


def substitute_placeholders(text: str) -> tuple[str, dict[str, str]]:
    """Replace each `{...}` by an identifier of the same length (when it fits), so sqlglot's
    positions are positions in the user's text."""
    names: dict[str, str] = {}
    by_path: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)
        path = match.group(1).strip()
        if path not in by_path:
            stem = f"_{len(by_path)}_"
            by_path[path] = stem + "_" * max(0, len(match.group(0)) - len(stem))
            names[by_path[path].lower()] = path
        return by_path[path]

    return _PLACEHOLDER_RE.sub(replace, text), names


# Nodes whose first token carries no position in sqlglot: found by looking back from the
# first position inside them.
_LEADING = {exp.Subquery: "(", exp.Paren: "(", exp.Select: "SELECT", exp.Exists: "EXISTS"}


def node_start(node: exp.Expression, text: str) -> int | None:
    """0-based offset of the node's first character in the (substituted) text."""
    starts: list[int] = [int(node.meta["start"])] if "start" in node.meta else []
    starts += [s for c in node.iter_expressions() if (s := node_start(c, text)) is not None]
    if not starts:
        return None
    first = min(starts)
    leading = _LEADING.get(type(node))
    if leading is None and isinstance(node, exp.Func) and not isinstance(node, exp.Anonymous):
        leading = node.sql_name()
    if leading is not None:
        found = text.upper().rfind(leading, 0, first)
        if found >= 0:
            first = found
    return first


def text_offset(text: str, line: int, column: int) -> int:
    """sqlglot counts columns per line; positions here count characters of the text."""
    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[: max(0, line - 1)]) + column


def describe(node: exp.Expression, names: Mapping[str, str]) -> str:
    sql = node.sql()
    for identifier, path in names.items():
        sql = re.sub(re.escape(identifier), "{" + path + "}", sql, flags=re.IGNORECASE)
    return sql
