"""GraphQL inputs of export options (filters, decimation, splitting) and their conversion to
the plain structures the domain validates."""

from __future__ import annotations

from enum import Enum
from typing import Any, Optional

import strawberry
from strawberry.scalars import JSON

from app.domain.export_options import OptionsRequest
from app.graphql.scalars import Long


@strawberry.enum(description="How a filter condition compares a column with its value.")
class FilterOp(Enum):
    EQ = strawberry.enum_value("eq", name="eq", description="Equal.")
    NE = strawberry.enum_value("ne", name="ne", description="Not equal (nulls never match).")
    LT = strawberry.enum_value("lt", name="lt", description="Less than.")
    LTE = strawberry.enum_value("lte", name="lte", description="Less than or equal.")
    GT = strawberry.enum_value("gt", name="gt", description="Greater than.")
    GTE = strawberry.enum_value("gte", name="gte", description="Greater than or equal.")
    IN = strawberry.enum_value("in", name="in", description="One of a list of values.")
    NOT_IN = strawberry.enum_value(
        "notIn", name="notIn", description="None of a list of values (nulls never match)."
    )
    IS_NULL = strawberry.enum_value(
        "isNull", name="isNull", description="Is null (value true or absent) or not (false)."
    )
    CONTAINS = strawberry.enum_value(
        "contains", name="contains", description="String column contains the text."
    )
    STARTS_WITH = strawberry.enum_value(
        "startsWith", name="startsWith", description="String column starts with the text."
    )


@strawberry.input(
    description="A filter on output columns: exactly one of and, or, not, or column+op(+value)."
)
class ExportFilterInput:
    and_: list[ExportFilterInput] | None = strawberry.field(
        name="and", default=None, description="All of these hold."
    )
    or_: list[ExportFilterInput] | None = strawberry.field(
        name="or", default=None, description="At least one of these holds."
    )
    not_: Optional[ExportFilterInput] = strawberry.field(  # noqa: UP045 - a forward reference
        name="not", default=None, description="This does not hold."
    )
    column: str | None = strawberry.field(default=None, description="Output column compared.")
    op: FilterOp | None = strawberry.field(default=None, description="Comparison.")
    value: JSON | None = strawberry.field(
        default=None,
        description="A value of the column's type (timestamps as ISO-8601 or nanoseconds, "
        "decimals as string or number); a list for in/notIn.",
    )


@strawberry.enum(description="How a decimation summarises a column per bucket.")
class AggregateFunction(Enum):
    FIRST = strawberry.enum_value("first", description="First value in the bucket.")
    LAST = strawberry.enum_value("last", description="Last value in the bucket.")
    MIN = strawberry.enum_value("min", description="Smallest value.")
    MAX = strawberry.enum_value("max", description="Largest value.")
    AVG = strawberry.enum_value("avg", description="Mean (exact for decimals).")
    SUM = strawberry.enum_value("sum", description="Sum.")
    COUNT = strawberry.enum_value("count", description="Number of non-null values.")
    OHLC = strawberry.enum_value(
        "ohlc", description="Shorthand for first/max/min/last as <column>_open/high/low/close."
    )


@strawberry.enum(description="What to do with buckets that have no rows.")
class DecimationFill(Enum):
    NONE = strawberry.enum_value("none", description="Leave them out.")
    PREVIOUS = strawberry.enum_value(
        "previous", description="Repeat the previous bucket's values (counts and sums 0)."
    )
    NULL = strawberry.enum_value("null", description="Emit them with null values.")


@strawberry.enum(description="A transformation of an aggregated column.")
class ColumnTransform(Enum):
    DELTA = strawberry.enum_value("delta", description="Difference from the previous row.")


@strawberry.input(description="One aggregated output column.")
class AggregationInput:
    column: str = strawberry.field(description="Schema output column to aggregate.")
    fn: AggregateFunction = strawberry.field(description="Aggregate function.")
    transform: ColumnTransform | None = strawberry.field(
        default=None, description="Optional transformation of the result."
    )


@strawberry.input(
    description="Time buckets aligned to the epoch over the collection timestamp; output "
    "columns are bucket_start and <column>_<fn> per aggregation."
)
class DecimationInput:
    interval: str = strawberry.field(description="Bucket width: 500ms, 1s, 15m, 4h, 1d ...")
    aggregations: list[AggregationInput] = strawberry.field(description="Columns to produce.")
    fill: DecimationFill = strawberry.field(
        default=DecimationFill.NONE, description="Empty buckets."
    )


@strawberry.enum(description="Calendar period per file (UTC; weeks start on Monday).")
class SplitPeriod(Enum):
    HOUR = strawberry.enum_value("HOUR", description="One file per hour.")
    DAY = strawberry.enum_value("DAY", description="One file per day.")
    WEEK = strawberry.enum_value("WEEK", description="One file per ISO week.")
    MONTH = strawberry.enum_value("MONTH", description="One file per month.")


@strawberry.input(description="Many files instead of one, plus a JSON manifest listing them.")
class SplitInput:
    by: SplitPeriod | None = strawberry.field(default=None, description="Period per file.")
    max_rows_per_file: int | None = strawberry.field(
        default=None, description="Start a new file after this many rows."
    )
    max_bytes_per_file: Long | None = strawberry.field(
        default=None,
        description="Start a new file once this size is reached (a file passes it by less "
        "than one row; Parquet adds its footer).",
    )


def options_request(
    format_options: Any,
    columns: list[str] | None,
    limit: int | None,
    filter: ExportFilterInput | None,
    decimation: DecimationInput | None,
    split: SplitInput | None,
) -> OptionsRequest:
    return OptionsRequest(
        format_options=format_options,
        columns=columns,
        limit=limit,
        filter=_filter(filter) if filter is not None else None,
        decimation=(
            {
                "interval": decimation.interval,
                "fill": decimation.fill.value,
                "aggregations": [
                    {
                        "column": a.column,
                        "fn": a.fn.value,
                        "transform": a.transform.value if a.transform else None,
                    }
                    for a in decimation.aggregations
                ],
            }
            if decimation is not None
            else None
        ),
        split=(
            {
                "by": split.by.value if split.by else None,
                "maxRowsPerFile": split.max_rows_per_file,
                "maxBytesPerFile": split.max_bytes_per_file,
            }
            if split is not None
            else None
        ),
    )


def _filter(node: ExportFilterInput) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if node.and_ is not None:
        result["and"] = [_filter(c) for c in node.and_]
    if node.or_ is not None:
        result["or"] = [_filter(c) for c in node.or_]
    if node.not_ is not None:
        result["not"] = _filter(node.not_)
    if node.column is not None:
        result.update(column=node.column, op=node.op.value if node.op else None, value=node.value)
    return result
