"""The export schema language: its structure (pydantic) and the checks that run when a schema
is created, before any job uses it. `binder.py` turns a checked spec into a batch function.

A spec is JSON shaped like:

    {"name": "trades", "streamCategory": "trade",
     "sources": {"bybit": {"unfold": "data"}},
     "columns": [
       {"outputColumn": "ts", "meta": "collection_timestamp_ns", "format": "timestamp"},
       {"outputColumn": "side", "data": {
          "binance": {"path": "data.m", "type": "bool",
                      "transform": "CASE WHEN {v} = false THEN 'buy' ELSE 'sell' END"},
          "bybit_linear": {"path": "data.S", "type": "string", "transform": "lower({v})"}}}]}

Source keys are an exchange code (`binance`) or exchange and market (`bybit_linear`); the more
specific key wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.export_schema.errors import SchemaError
from engine.transforms import Transform, TransformError, compile_transform

META_FIELDS = (
    "collection_timestamp_ns",
    "data",
    "exchange",
    "market",
    "symbol",
    "datastream_id",
    "unfold_tag",
)
TIME_FORMATS = ("timestamp", "ns", "us", "ms", "iso")
SCALAR_TYPES = ("string", "bool", "int", "float", "json")
TIMESTAMP_UNITS = {
    "timestamp_s": 10**9,
    "timestamp_ms": 10**6,
    "timestamp_us": 10**3,
    "timestamp_ns": 1,
}
DECIMAL_RE = re.compile(r"^decimal\((\d{1,2})\)$")
MAX_DECIMAL_SCALE = 30
TYPE_NAMES = (*SCALAR_TYPES, "decimal(S)", *TIMESTAMP_UNITS)

_PATH_RE = re.compile(
    r"(?:\$|[A-Za-z_][A-Za-z0-9_\-]*)(?:\.[A-Za-z_][A-Za-z0-9_\-]*|\[[0-9]{1,9}\])*", re.ASCII
)
_TOKEN_RE = re.compile(r"\$|[A-Za-z_][A-Za-z0-9_\-]*|\[([0-9]{1,9})\]", re.ASCII)
MAX_PATH_LENGTH = 256
MAX_PATH_SEGMENTS = 32
MAX_INDEX = 1_000_000
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

Path = tuple[str | int, ...]  # field names and list indices; "$" first = the unfolded element
ELEMENT = "$"


class SpecModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# Bounds of a definition (each a problem naming its place): sizes no real schema reaches.
SHORT_TEXT = 200
LONG_TEXT = 2_000


class UnfoldPath(SpecModel):
    path: str = Field(max_length=MAX_PATH_LENGTH)
    tag: str | None = Field(
        default=None, max_length=SHORT_TEXT, description="Value of meta unfold_tag for its rows."
    )


class SourceOptions(SpecModel):
    unfold: str | list[UnfoldPath] | None = Field(default=None, max_length=16)
    # Messages may come wrapped, {"<envelope>": payload, ...} (Binance's combined streams), or
    # bare (the payload alone): paths are written for the wrapped form, and a bare message is
    # read as if it were wrapped.
    envelope: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

    def unfold_paths(self) -> list[UnfoldPath]:
        if self.unfold is None:
            return []
        if isinstance(self.unfold, str):
            return [UnfoldPath(path=self.unfold)]
        return self.unfold


class DataMapping(SpecModel):
    path: str = Field(max_length=MAX_PATH_LENGTH)
    type: str = Field(max_length=SHORT_TEXT)
    transform: str | None = Field(default=None, max_length=LONG_TEXT)
    on_error: Literal["fail", "null"] = Field(default="fail", alias="onError")


class ColumnSpec(SpecModel):
    output_column: str = Field(alias="outputColumn", max_length=SHORT_TEXT)
    description: str | None = Field(default=None, max_length=LONG_TEXT)
    meta: str | None = Field(default=None, max_length=SHORT_TEXT)
    format: str | None = Field(default=None, max_length=SHORT_TEXT)
    data: dict[str, DataMapping] | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _one_kind(self) -> ColumnSpec:
        if (self.meta is None) == (self.data is None):
            raise ValueError("a column has exactly one of meta or data")
        if self.format is not None and self.meta != "collection_timestamp_ns":
            raise ValueError("format applies to meta collection_timestamp_ns only")
        return self


class SchemaSpec(SpecModel):
    name: str = Field(max_length=SHORT_TEXT)
    description: str = Field(default="", max_length=LONG_TEXT)
    stream_category: str = Field(alias="streamCategory", max_length=SHORT_TEXT)
    sources: dict[str, SourceOptions] = Field(default_factory=dict, max_length=64)
    columns: list[ColumnSpec] = Field(min_length=1, max_length=500)

    def source_keys(self) -> set[str]:
        return {k for c in self.columns for k in (c.data or {})} | set(self.sources)

    def source_key(self, exchange: str, market: str) -> str | None:
        """The most specific key of this schema that names the source, if any."""
        keys = self.source_keys()
        for key in (f"{exchange}_{market}", exchange):
            if key in keys:
                return key
        return None

    def supports(self, exchange: str, market: str) -> bool:
        return all(
            c.data is None or lookup_source(c.data, exchange, market) is not None
            for c in self.columns
        )

    def dump(self) -> dict[str, Any]:
        """The canonical JSON form, with every default spelled out."""
        return self.model_dump(by_alias=True, exclude_none=True)


def lookup_source(mapping: dict[str, Any], exchange: str, market: str) -> Any:
    """The entry for `exchange_market` if there is one, else for `exchange`."""
    return mapping.get(f"{exchange}_{market}", mapping.get(exchange))


@dataclass(frozen=True)
class SpecIssue:
    field: str  # where in the spec, e.g. columns[2].data.binance.transform
    code: str  # INVALID_SCHEMA | INVALID_PATH | INVALID_TYPE | INVALID_TRANSFORM
    message: str


class SpecInvalid(ValueError):
    def __init__(self, issues: list[SpecIssue]) -> None:
        super().__init__("; ".join(f"{i.field}: {i.message}" for i in issues))
        self.issues = issues


def parse_path(text: str) -> Path:
    if len(text) > MAX_PATH_LENGTH:
        raise SchemaError(f"path {text[:40]!r}... is longer than {MAX_PATH_LENGTH} characters")
    if not _PATH_RE.fullmatch(text):
        raise SchemaError(
            f"unsupported path {text!r}: use field names and indices, e.g. data.p or data.b[0][1]"
        )
    tokens = tuple(
        int(m.group(1)) if m.group(1) is not None else m.group(0) for m in _TOKEN_RE.finditer(text)
    )
    if len(tokens) > MAX_PATH_SEGMENTS:
        raise SchemaError(f"path {text!r} has more than {MAX_PATH_SEGMENTS} parts")
    if any(isinstance(token, int) and token > MAX_INDEX for token in tokens):
        raise SchemaError(f"path {text!r}: an index is at most {MAX_INDEX:,}")
    return tokens


def check_type(type_name: str) -> None:
    if type_name in SCALAR_TYPES or type_name in TIMESTAMP_UNITS:
        return
    match = DECIMAL_RE.match(type_name)
    if match and int(match.group(1)) <= MAX_DECIMAL_SCALE:
        return
    raise SchemaError(
        f"unknown type {type_name!r}; use one of {', '.join(TYPE_NAMES)} "
        f"(decimal scale S at most {MAX_DECIMAL_SCALE})"
    )


def json_type(type_name: str) -> pa.DataType:
    """How a value of this schema type is read from the JSON message."""
    if type_name in TIMESTAMP_UNITS or type_name == "int":
        return pa.int64()
    if type_name == "float":
        return pa.float64()
    if type_name == "bool":
        return pa.bool_()
    return pa.string()  # string, decimal(S) (exact text), json (re-serialised sub-document)


def input_type(reference: str) -> tuple[str, str]:
    """A transform's `{path}` or `{path:type}` reference -> (path, type); string by default."""
    path, _, type_name = reference.partition(":")
    return path.strip(), (type_name.strip() or "string")


def probe_transform(transform: Transform, type_name: str) -> pa.DataType:
    """The output type of a transform on this column type, found on empty arrays."""
    inputs = {r: pa.array([], json_type(input_type(r)[1])) for r in transform.inputs}
    try:
        return transform(pa.array([], json_type(type_name)), inputs).type
    except (pa.ArrowException, ValueError, OverflowError) as exc:
        raise TransformError(f"cannot apply to a {type_name} value: {exc}") from None


def load_spec(raw: dict[str, Any]) -> SchemaSpec:
    """Structure and every semantic check; raises SpecInvalid listing all problems."""
    try:
        spec = SchemaSpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecInvalid(
            [SpecIssue(_location(e["loc"]), "INVALID_SCHEMA", e["msg"]) for e in exc.errors()]
        ) from None
    issues = list(_semantic_issues(spec))
    if issues:
        raise SpecInvalid(issues)
    return spec


def _location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not str(part).startswith(("function-", "list[", "str", "literal")):
            text += ("." if text else "") + str(part)
    return text


def _semantic_issues(spec: SchemaSpec) -> list[SpecIssue]:
    issues: list[SpecIssue] = []
    if not _NAME_RE.match(spec.name):
        issues.append(SpecIssue("name", "INVALID_SCHEMA", "use letters, digits and _ (max 63)"))
    for key, options in spec.sources.items():
        for index, unfold in enumerate(options.unfold_paths()):
            where = f"sources.{key}.unfold" + (
                f"[{index}].path" if isinstance(options.unfold, list) else ""
            )
            try:
                if ELEMENT in parse_path(unfold.path):
                    raise SchemaError("an unfold path starts at the message, not at $")
            except SchemaError as exc:
                issues.append(SpecIssue(where, "INVALID_PATH", str(exc)))
    seen: set[str] = set()
    for index, column in enumerate(spec.columns):
        where = f"columns[{index}]"
        if column.output_column in seen:
            issues.append(SpecIssue(f"{where}.outputColumn", "INVALID_SCHEMA", "duplicate name"))
        seen.add(column.output_column)
        if not column.output_column.strip():
            issues.append(SpecIssue(f"{where}.outputColumn", "INVALID_SCHEMA", "empty name"))
        if column.meta is not None and column.meta not in META_FIELDS:
            issues.append(
                SpecIssue(
                    f"{where}.meta",
                    "INVALID_SCHEMA",
                    f"unknown meta field {column.meta!r}; use one of {', '.join(META_FIELDS)}",
                )
            )
        if column.format is not None and column.format not in TIME_FORMATS:
            issues.append(
                SpecIssue(
                    f"{where}.format",
                    "INVALID_SCHEMA",
                    f"unknown format {column.format!r}; use one of {', '.join(TIME_FORMATS)}",
                )
            )
        for source, mapping in (column.data or {}).items():
            issues.extend(_mapping_issues(f"{where}.data.{source}", mapping))
    return issues


def _mapping_issues(where: str, mapping: DataMapping) -> list[SpecIssue]:
    issues = []
    checks: tuple[tuple[str, Callable[[], object], str], ...] = (
        ("path", lambda: parse_path(mapping.path), "INVALID_PATH"),
        ("type", lambda: check_type(mapping.type), "INVALID_TYPE"),
    )
    for field, check, code in checks:
        try:
            check()
        except SchemaError as exc:
            issues.append(SpecIssue(f"{where}.{field}", code, str(exc)))
    if mapping.transform is not None and not issues:
        try:
            transform = compile_transform(mapping.transform)
            for reference in transform.inputs:
                path, type_name = input_type(reference)
                parse_path(path)
                check_type(type_name)
            probe_transform(transform, mapping.type)
        except (TransformError, SchemaError) as exc:
            issues.append(SpecIssue(f"{where}.transform", "INVALID_TRANSFORM", str(exc)))
    return issues
