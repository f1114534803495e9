"""Resolve a request's options: every default filled in, every value checked against the
columns the schema produces, every problem reported with its path in the request."""

from __future__ import annotations

import decimal
import math
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from engine.logical import LogicalType
from engine.options.formats import FORMAT_OPTIONS, FormatOptions, knows_option, option_keys
from engine.options.model import (
    AGGREGATES,
    FILLS,
    FILTER_OPS,
    LAYOUTS,
    MIN_BYTES_PER_FILE,
    SPLIT_PERIODS,
    Aggregation,
    Decimation,
    ExportOptions,
    OptionIssue,
    Split,
    decimated_fields,
    interval_ns,
    numeric,
    orderable,
    stream_fields,
    wide_fields,
)
from engine.timestamps import parse_timestamp

# Bounds of what one request may ask for: each is a typed problem, checked before the work.
MAX_COLUMNS = 256
MAX_AGGREGATIONS = 64
MAX_FILTER_CONDITIONS = 256
MAX_FILTER_DEPTH = 16
MAX_IN_VALUES = 1_000
MAX_TEXT_VALUE = 1_000
MAX_LABEL = 100


@dataclass
class OptionsRequest:
    """The options as a client sent them (GraphQL inputs unwrapped into plain values)."""

    format_options: dict[str, Any] | None = None
    columns: list[str] | None = None
    limit: int | None = None
    filter: dict[str, Any] | None = None
    decimation: dict[str, Any] | None = None
    split: dict[str, Any] | None = None
    layout: str | None = None  # LONG (default) or WIDE
    stream_labels: list[dict[str, Any]] | None = None  # [{datastreamId, label}]
    column_labels: list[dict[str, Any]] | None = None  # [{name, label}]
    timezone: str | None = None


@dataclass
class _Check:
    issues: list[OptionIssue] = field(default_factory=list)

    def fail(self, where: str, message: str) -> None:
        self.issues.append(OptionIssue(tuple(where.split(".")), message))


def resolve_options(
    request: OptionsRequest,
    fmt: str,
    fields: list[tuple[str, LogicalType]] | None,
    max_rows: int,
    span_ns: int,
    datastream_ids: Sequence[int] = (),
) -> tuple[ExportOptions | None, list[OptionIssue]]:
    """The options with every default, checked against the columns the schema produces
    (`fields`); None and every issue when any is wrong. `span_ns` is the length of the time
    range (it bounds the buckets a fill may create). Without `fields` (the schema could not
    be bound) the checks that need no columns still run: every problem is reported at once.
    `datastream_ids` are the export's datastreams (more than one: a many-stream export)."""
    check = _Check()
    format_options = _format_options(check, fmt, request.format_options)
    layout = request.layout or "LONG"
    if layout not in LAYOUTS:
        check.fail("layout", f"layout is one of {', '.join(LAYOUTS)}")
    elif layout == "WIDE" and request.decimation is None:
        check.fail(
            "layout",
            "WIDE puts one row per time bucket: it needs a decimation (use LONG without one)",
        )
    labels = _stream_labels(check, request.stream_labels, datastream_ids, layout)
    timezone = _timezone(check, request.timezone)
    filter_tree, decimation, columns = None, None, None
    column_labels: tuple[tuple[str, str], ...] = ()
    many = len(datastream_ids) > 1
    if fields is not None:
        filter_tree, decimation, columns, column_labels = _column_options(
            check, request, fields, max_rows, span_ns, many, layout, labels
        )
    limit = None
    if request.limit is not None:
        if request.limit < 1:
            check.fail("limit", "limit must be at least 1")
        limit = max(1, min(request.limit, max_rows))
    split = _split(check, request.split) if request.split is not None else None
    if split is not None and split.per_datastream and layout == "WIDE":
        check.fail("split.perDatastream", "a WIDE row holds every stream: it cannot be split")
    if check.issues or format_options is None or fields is None:
        return None, check.issues
    options = ExportOptions(
        format_options,
        filter_tree,
        decimation,
        columns,
        limit,
        split,
        stream_columns=many and layout == "LONG",
        layout=layout,
        stream_labels=labels if layout == "WIDE" else (),
        column_labels=column_labels,
        timezone=timezone,
    )
    return options, []


def _stream_labels(
    check: _Check,
    given: list[dict[str, Any]] | None,
    datastream_ids: Sequence[int],
    layout: str,
) -> tuple[tuple[int, str], ...]:
    """Every stream's label, in the request's order: the one given, else its id."""
    if given is None:
        return tuple((i, str(i)) for i in datastream_ids)
    if layout != "WIDE":
        check.fail("streamLabels", "streamLabels name the columns of layout WIDE only")
        return ()
    chosen: dict[int, str] = {}
    for index, entry in enumerate(given):
        where = f"streamLabels.{index}"
        stream, label = entry.get("datastreamId"), entry.get("label")
        if stream not in datastream_ids:
            check.fail(f"{where}.datastreamId", f"{stream} is not one of the exported datastreams")
        elif stream in chosen:
            check.fail(f"{where}.datastreamId", f"datastream {stream} is labelled twice")
        if not isinstance(label, str) or not 1 <= len(label) <= MAX_LABEL:
            check.fail(f"{where}.label", f"a label is 1 to {MAX_LABEL} characters")
        elif isinstance(stream, int) and stream in datastream_ids and stream not in chosen:
            chosen[stream] = label
    labels = tuple((i, chosen.get(i, str(i))) for i in datastream_ids)
    names = [label for _, label in labels]
    if len(set(names)) != len(names):
        check.fail("streamLabels", "two streams have the same label")
    return labels


def _timezone(check: _Check, name: str | None) -> str:
    if name is None or name == "UTC":
        return "UTC"
    try:
        if len(name) > MAX_LABEL or name != name.strip():
            raise ValueError(name)
        zoneinfo.ZoneInfo(name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        check.fail("timezone", f"{_shown(name)} is not an IANA time zone (e.g. UTC, Europe/Paris)")
        return "UTC"
    return name


def _column_labels(
    check: _Check, given: list[dict[str, Any]], names: list[str]
) -> tuple[tuple[str, str], ...]:
    """(output column, file name) pairs; every name in the files stays unique."""
    renamed: dict[str, str] = {}
    for index, entry in enumerate(given):
        where = f"columnLabels.{index}"
        name, label = entry.get("name"), entry.get("label")
        if name not in names:
            check.fail(f"{where}.name", f"unknown column {name!r}; valid: {', '.join(names)}")
        elif name in renamed:
            check.fail(f"{where}.name", f"column {name!r} is relabelled twice")
        if not isinstance(label, str) or not 1 <= len(label) <= MAX_LABEL:
            check.fail(f"{where}.label", f"a label is 1 to {MAX_LABEL} characters")
        elif name in names and name not in renamed:
            renamed[name] = label
    final = [renamed.get(n, n) for n in names]
    if len(set(final)) != len(final):
        check.fail("columnLabels", "two columns of the files would have the same name")
    return tuple(renamed.items())


def _column_options(
    check: _Check,
    request: OptionsRequest,
    fields: list[tuple[str, LogicalType]],
    max_rows: int,
    span_ns: int,
    many: bool = False,
    layout: str = "LONG",
    labels: tuple[tuple[int, str], ...] = (),
) -> tuple[
    dict[str, Any] | None, Decimation | None, tuple[str, ...] | None, tuple[tuple[str, str], ...]
]:
    """The options that refer to the schema's columns: filter, decimation, column selection
    and labels."""
    types = dict(fields)
    filter_tree = None
    if request.filter is not None and _filter_is_bounded(check, request.filter):
        filter_tree = _filter(check, request.filter, types, "filter")
    output = fields
    decimation = None
    if request.decimation is not None:
        decimation = _decimation(check, request.decimation, types)
        if decimation is not None and decimation.fill != "none":
            buckets = -(-span_ns // decimation.interval_ns)
            if many and layout == "LONG":  # each stream fills its own buckets
                buckets *= len(labels)
            if buckets > max_rows:
                check.fail(
                    "decimation.interval",
                    f"filling empty buckets would write {buckets:,} rows, more than the "
                    f"{max_rows:,} allowed: use a wider interval or a shorter range",
                )
        if decimation is not None:
            output = decimated_fields(decimation.aggregations, fields)
    if layout == "WIDE" and decimation is not None:
        output = wide_fields(output, [label for _, label in labels])
    elif many and layout == "LONG":
        output = stream_fields(output) + output
    columns = None
    names = [n for n, _ in output]
    if request.columns is not None:
        columns = _columns(check, request.columns, names)
        names = [n for n in columns if n in names]
    column_labels: tuple[tuple[str, str], ...] = ()
    if request.column_labels:
        column_labels = _column_labels(check, request.column_labels, names)
    return filter_tree, decimation, columns, column_labels


def _format_options(check: _Check, fmt: str, given: dict[str, Any] | None) -> FormatOptions | None:
    """Every default filled in; keys of another format or unknown keys are issues."""
    model = FORMAT_OPTIONS[fmt]
    try:
        return model.model_validate(given or {})  # type: ignore[return-value]
    except ValidationError as exc:
        for error in exc.errors():
            key = ".".join(str(p) for p in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                owner = next(
                    (f for f, m in FORMAT_OPTIONS.items() if f != fmt and knows_option(m, key)),
                    None,
                )
                message = (
                    f"{key!r} is a {owner} option, not a {fmt} one"
                    if owner
                    else f"unknown {fmt} option {key!r}; known: {', '.join(option_keys(model))}"
                )
            check.fail(".".join(filter(None, ("formatOptions", key))), message)
        return None


def _columns(check: _Check, names: list[str], valid: list[str]) -> tuple[str, ...]:
    if len(names) > MAX_COLUMNS:
        check.fail("columns", f"select at most {MAX_COLUMNS} columns")
        return ()
    unknown = [n for n in names if n not in valid]
    if unknown:
        check.fail(
            "columns",
            f"unknown column(s) {', '.join(map(repr, unknown))}; valid: {', '.join(valid)}",
        )
    if len(set(names)) != len(names):
        check.fail("columns", "a column is selected twice")
    if not names:
        check.fail("columns", "select at least one column")
    return tuple(names)


def _split(check: _Check, split: dict[str, Any]) -> Split:
    by, rows, size = split.get("by"), split.get("maxRowsPerFile"), split.get("maxBytesPerFile")
    per_datastream = bool(split.get("perDatastream"))
    if by is None and rows is None and size is None and not per_datastream:
        check.fail("split", "give by, maxRowsPerFile, maxBytesPerFile or perDatastream")
    if by is not None and by not in SPLIT_PERIODS:
        check.fail("split.by", f"by is one of {', '.join(SPLIT_PERIODS)}")
    if rows is not None and rows < 1:
        check.fail("split.maxRowsPerFile", "maxRowsPerFile must be at least 1")
    if size is not None and size < MIN_BYTES_PER_FILE:
        check.fail(
            "split.maxBytesPerFile", f"maxBytesPerFile must be at least {MIN_BYTES_PER_FILE}"
        )
    return Split(by, rows, size, per_datastream)


def _decimation(
    check: _Check, decimation: dict[str, Any], types: dict[str, LogicalType]
) -> Decimation | None:
    before = len(check.issues)
    interval = interval_ns(str(decimation.get("interval", "")))
    if interval is None:
        check.fail(
            "decimation.interval",
            "interval is a positive number and a unit: ms, s, m, h or d (e.g. 15m), at most 366d",
        )
    fill = decimation.get("fill") or "none"
    if fill not in FILLS:
        check.fail("decimation.fill", f"fill is one of {', '.join(FILLS)}")
    aggregations = decimation.get("aggregations") or []
    if not aggregations:
        check.fail("decimation.aggregations", "give at least one aggregation")
    if len(aggregations) > MAX_AGGREGATIONS:
        check.fail("decimation.aggregations", f"give at most {MAX_AGGREGATIONS} aggregations")
        return None
    resolved = []
    for index, aggregation in enumerate(aggregations):
        where = f"decimation.aggregations.{index}"
        column, fn = aggregation.get("column"), aggregation.get("fn")
        transform = aggregation.get("transform")
        if column not in types:
            check.fail(f"{where}.column", f"unknown column {column!r}; valid: {', '.join(types)}")
            continue
        if fn not in AGGREGATES:
            check.fail(f"{where}.fn", f"fn is one of {', '.join(AGGREGATES)}")
            continue
        kind = types[column].describe()
        if fn in ("avg", "sum", "ohlc") and not numeric(types[column]):
            check.fail(f"{where}.fn", f"{fn} needs a numeric column; {column} is {kind}")
        if fn in ("min", "max") and not orderable(types[column]):
            check.fail(f"{where}.fn", f"{fn} needs a number or a time; {column} is {kind}")
        if transform not in (None, "delta"):
            check.fail(f"{where}.transform", "transform is delta or absent")
        if transform == "delta" and (fn == "count" or not numeric(types[column])):
            check.fail(f"{where}.transform", "delta needs a numeric aggregate")
        resolved.append(Aggregation(column, fn, transform))
    names = [n for n, _ in decimated_fields(resolved, list(types.items()))]
    if len(set(names)) != len(names):
        check.fail("decimation.aggregations", "two aggregations produce the same column")
    if len(check.issues) > before:
        return None
    assert interval is not None
    return Decimation(decimation["interval"], interval, fill, tuple(resolved))


def _filter_is_bounded(check: _Check, tree: dict[str, Any]) -> bool:
    """Counted without recursion, before anything else looks at the tree."""
    conditions, deepest, stack = 0, 0, [(tree, 1)]
    while stack and conditions <= MAX_FILTER_CONDITIONS and deepest <= MAX_FILTER_DEPTH:
        node, depth = stack.pop()
        conditions, deepest = conditions + 1, max(deepest, depth)
        if isinstance(node, dict):
            children = [*(node.get("and") or []), *(node.get("or") or [])]
            if isinstance(node.get("not"), dict):
                children.append(node["not"])
            stack.extend((child, depth + 1) for child in children)
    if conditions > MAX_FILTER_CONDITIONS:
        check.fail("filter", f"a filter has at most {MAX_FILTER_CONDITIONS} conditions")
    elif deepest > MAX_FILTER_DEPTH:
        check.fail("filter", f"a filter nests at most {MAX_FILTER_DEPTH} levels deep")
    else:
        return True
    return False


def _filter(
    check: _Check, node: dict[str, Any], types: dict[str, LogicalType], where: str
) -> dict[str, Any]:
    kinds = [k for k in ("and", "or", "not", "column") if node.get(k) is not None]
    if len(kinds) != 1:
        check.fail(where, "a filter is exactly one of and, or, not, or a {column, op, value}")
        return {}
    kind = kinds[0]
    if kind in ("and", "or"):
        children = node[kind]
        if not children:
            check.fail(f"{where}.{kind}", f"{kind} needs at least one condition")
        return {
            kind: [_filter(check, c, types, f"{where}.{kind}.{i}") for i, c in enumerate(children)]
        }
    if kind == "not":
        return {"not": _filter(check, node["not"], types, f"{where}.not")}
    column, op = node["column"], node.get("op")
    if column not in types:
        check.fail(f"{where}.column", f"unknown column {column!r}; valid: {', '.join(types)}")
        return {}
    if op not in FILTER_OPS:
        check.fail(f"{where}.op", f"op is one of {', '.join(FILTER_OPS)}")
        return {}
    value = _filter_value(check, types[column], op, node.get("value"), f"{where}.value")
    return {"column": column, "op": op, "value": value}


def _filter_value(check: _Check, logical: LogicalType, op: str, value: Any, where: str) -> Any:
    kind = logical.describe()
    if op == "isNull":
        if value not in (None, True, False):
            check.fail(where, "isNull takes true (is null), false (is not null) or nothing")
        return value is not False
    if op in ("contains", "startsWith") and logical.kind not in ("string", "json"):
        check.fail(where, f"{op} applies to string columns; this one is {kind}")
        return None
    if logical.kind in ("bool",) and op not in ("eq", "ne", "in", "notIn"):
        check.fail(where, f"{op} does not apply to a bool column")
        return None
    if op in ("in", "notIn"):
        if not isinstance(value, list) or not value:
            check.fail(where, f"{op} takes a non-empty list")
            return None
        if len(value) > MAX_IN_VALUES:
            check.fail(where, f"{op} takes at most {MAX_IN_VALUES:,} values")
            return None
        return [_scalar(check, logical, v, f"{where}.{i}") for i, v in enumerate(value)]
    return _scalar(check, logical, value, where)


def _scalar(check: _Check, logical: LogicalType, value: Any, where: str) -> Any:
    """The value as the column's type: timestamps as ns, decimals as exact text."""
    kind = logical.describe()
    wrong = f"{_shown(value)} is not a {kind} value"
    if isinstance(value, str) and len(value) > MAX_TEXT_VALUE:
        check.fail(where, f"a value is at most {MAX_TEXT_VALUE:,} characters")
        return None
    if logical.kind == "timestamp":
        try:
            return parse_timestamp(value)
        except (TypeError, ValueError):
            check.fail(where, f"{wrong} (ISO-8601 or nanoseconds since the epoch)")
            return None
    if logical.kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            check.fail(where, wrong)
            return None
        try:
            number = decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            check.fail(where, wrong)
            return None
        if not number.is_finite():
            check.fail(where, wrong)
            return None
        _sign, digits, exponent = number.as_tuple()
        if -int(exponent) > 37 or len(digits) + int(exponent) > 38:
            check.fail(where, f"{wrong} (at most 38 digits, 37 after the point)")
            return None
        return str(value)
    expected: tuple[type, ...] = {
        "int": (int,),
        "float": (int, float),
        "bool": (bool,),
    }.get(logical.kind, (str,))
    if not isinstance(value, expected) or (
        logical.kind in ("int", "float") and isinstance(value, bool)
    ):
        check.fail(where, wrong)
        return None
    checked: Any = value  # an int or a float by now
    if logical.kind == "int" and not -(2**63) <= checked < 2**63:
        check.fail(where, f"{wrong} (outside 64-bit integers)")
        return None
    if logical.kind == "float" and not math.isfinite(float(checked)):
        check.fail(where, f"{wrong} (not finite)")
        return None
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
