"""Relay building blocks every feature's lists use: Node, connections, opaque cursors, and the
`first`/`after` arguments with their limits."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from strawberry.types.nodes import SelectedField

from app.graphql.context import Info
from app.graphql.errors import ApiError
from app.graphql.scalars import Long
from app.ids import id_prefix

T = TypeVar("T")
R = TypeVar("R")  # a row of a listing


@strawberry.interface(description="An object with a globally unique, prefixed, opaque ID.")
class Node:
    id: strawberry.ID = strawberry.field(description="Prefixed opaque ID, e.g. exp_<32 hex>.")


@strawberry.type(description="Relay pagination information.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more items follow the last edge.")
    has_previous_page: bool = strawberry.field(description="Whether items precede the first edge.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last edge; pass as `after`."
    )


@strawberry.type(description="An item and its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list (Relay connection).")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page, with cursors.")
    page_info: PageInfo = strawberry.field(description="Where this page is in the whole list.")
    total_count: Long = strawberry.field(
        description="Number of items in the whole list (all pages)."
    )


def selects_total(info: Info) -> bool:
    """Whether the connection being resolved is asked for its `totalCount` (directly, through
    an alias or a fragment), so a page without it costs no count."""
    return any(_selects(field.selections, "totalCount") for field in info.selected_fields)


def _selects(selections: Sequence[Any], name: str) -> bool:
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == name:
                return True
        elif _selects(selection.selections, name):  # a fragment or an inline fragment
            return True
    return False


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


MAX_CURSOR = 200  # cursors this API hands out are under 100 characters


def decode_cursor(cursor: str) -> str | None:
    """The position a cursor stands for; None for anything this API did not hand out."""
    if not 0 < len(cursor) <= MAX_CURSOR or not cursor.isascii():
        return None
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded if decoded.isascii() and decoded.isprintable() else None


def make_connection(
    nodes: list[T], keys: list[str], total: int, has_next: bool, has_previous: bool
) -> Connection[T]:
    cursors = [encode_cursor(k) for k in keys]
    return Connection(
        edges=[Edge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)],
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        total_count=total,
    )


def page_connection(
    rows: Sequence[R],
    limit: int,
    after: str | None,
    total: int,
    node: Callable[[R], T],
    key: Callable[[R], str],
) -> Connection[T]:
    """The connection of a page read as `limit + 1` rows: the extra one only says that a next
    page exists."""
    page = rows[:limit]
    return make_connection(
        [node(r) for r in page],
        [key(r) for r in page],
        total,
        has_next=len(rows) > limit,
        has_previous=after is not None,
    )


DEFAULT_PAGE_SIZE = 20
First = Annotated[int | None, strawberry.argument(description="Page size (default 20).")]


After = Annotated[str | None, strawberry.argument(description="Cursor to continue after.")]


def page_size(info: Info, first: int | None) -> int:
    limit = info.context.settings.max_page_size
    if first is None:
        return min(DEFAULT_PAGE_SIZE, limit)
    if not 0 <= first <= limit:
        raise ApiError(f"first must be between 0 and {limit}", "INVALID_ARGUMENT", field="first")
    return first


def cursor_value(after: str | None) -> str | None:
    if after is None:
        return None
    value = decode_cursor(after)
    if value is None:
        raise ApiError("after is not a cursor from this API", "INVALID_ARGUMENT", field="after")
    return value


def id_cursor(after: str | None, prefix: str) -> str | None:
    """The id a list of `prefix_...` objects was left at; another list's cursor is refused."""
    after_id = cursor_value(after)
    if after_id is not None and id_prefix(after_id) != prefix:
        raise ApiError("after is not a cursor of this list", "INVALID_ARGUMENT", field="after")
    return after_id
