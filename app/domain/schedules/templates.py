"""A schedule's export template: the domain's `ExportRequest` without its times, stored as
JSON. Written and read by walking the dataclass's own fields, so a field added to the request
(or to a dataclass nested in it) is kept by schedules without a change here; a stored key the
request no longer has is ignored, and a field the stored JSON lacks gets its default."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from app.domain.errors import DomainError, Problem
from app.domain.exports.requests import ExportRequest

# Given per run, never part of a template.
PER_RUN_FIELDS = frozenset({"start_time", "end_time", "idempotency_key"})


def template_json(request: ExportRequest) -> dict[str, Any]:
    data = dataclasses.asdict(request)
    return {k: v for k, v in data.items() if k not in PER_RUN_FIELDS}


def request_from_template(
    template: dict[str, Any], start_ns: int, end_ns: int, idempotency_key: str | None
) -> ExportRequest:
    values: ExportRequest = _from_plain(ExportRequest, template)
    return dataclasses.replace(
        values, start_time=start_ns, end_time=end_ns, idempotency_key=idempotency_key
    )


def _from_plain(cls: type[Any], data: dict[str, Any]) -> Any:
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            kwargs[f.name] = _value(hints[f.name], data[f.name])
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            kwargs[f.name] = None  # a per-run field, or one an older template lacks
    return cls(**kwargs)


def _value(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    options = typing.get_args(hint) if _is_union(hint) else (hint,)
    for option in options:
        if dataclasses.is_dataclass(option) and isinstance(value, dict):
            return _from_plain(typing.cast(type[Any], option), value)
    return value


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def under_export(error: DomainError) -> DomainError:
    """The problems createExport reports under `input.X`, moved to `input.export.X`."""
    return DomainError(
        [
            dataclasses.replace(p, field=("input", "export", *p.field[1:]))
            if p.field[:1] == ("input",)
            else p
            for p in error.errors
        ]
    )


def first_problem_text(errors: list[Problem]) -> str:
    return "; ".join(f"{'.'.join(p.field)}: {p.message}" for p in errors)[:2000]
