"""A schedule's export template: the domain's `ExportRequest` without its times, stored as
JSON. Written and read by walking the dataclass's own fields, so a field added to the request
(or to a dataclass nested in it) is kept by schedules without a change here; a stored key the
request no longer has is ignored, and a field the stored JSON lacks gets its default."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from app.domain.errors import DomainError, ErrorCode, Problem
from app.domain.exports.requests import ExportRequest, OptionsRequest

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


# -- the template as the API shows it (and as a resource file holds it) -----------------------

# The createExport input's names of a request's fields, and of its options' (flattened into it).
_VIEW_FIELDS = {
    "datastreamId": "datastream_id",
    "schema": "schema",
    "inlineSchema": "inline_schema",
    "format": "format",
    "compression": "compression",
    "keepPartial": "keep_partial",
}
_VIEW_OPTIONS = {
    "formatOptions": "format_options",
    "columns": "columns",
    "limit": "limit",
    "filter": "filter",
    "decimation": "decimation",
    "split": "split",
}
# What each value must be (the GraphQL input guarantees it; a file does not).
_VIEW_TYPES: dict[str, tuple[type, ...]] = {
    "datastreamId": (str, int),
    "schema": (str,),
    "inlineSchema": (dict,),
    "format": (str,),
    "compression": (str,),
    "keepPartial": (bool,),
    "formatOptions": (dict,),
    "columns": (list,),
    "limit": (int,),
    "filter": (dict,),
    "decimation": (dict,),
    "split": (dict,),
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def template_view(template: dict[str, Any]) -> dict[str, Any]:
    """The stored template in the createExport input's names: options flattened into it."""
    view = {_camel(k): v for k, v in template.items() if k != "options" and v is not None}
    options = template.get("options") or {}
    view.update({_camel(k): v for k, v in options.items() if v is not None})
    return view


def request_from_view(view: dict[str, Any], field: tuple[str, ...]) -> ExportRequest:
    """The request (without times) a template as `template_view` shows it stands for: the
    inverse of `template_view`. Raises a DomainError naming `field` and the key at fault for
    keys the createExport input does not have and values of the wrong kind; everything else
    is for `validate_export` to check."""
    problems: list[Problem] = []
    fields: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for key, value in view.items():
        name = _VIEW_FIELDS.get(key) or _VIEW_OPTIONS.get(key)
        if name is None:
            known = ", ".join([*_VIEW_FIELDS, *_VIEW_OPTIONS])
            problems.append(
                Problem(
                    ErrorCode.INVALID_ARGUMENT,
                    (*field, key),
                    f"{key!r} is not a field of an export template; known: {known}",
                )
            )
            continue
        if value is None:
            continue
        kinds = _VIEW_TYPES[key]
        wrong = not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds)
        if key == "columns" and not wrong:
            wrong = not all(isinstance(c, str) for c in value)
        if wrong:
            what = {str: "text", int: "an integer", bool: "true or false", dict: "an object"}
            expected = " or ".join(what.get(k, "a list of names") for k in kinds)
            problems.append(
                Problem(ErrorCode.INVALID_ARGUMENT, (*field, key), f"{key} is {expected}")
            )
            continue
        (fields if key in _VIEW_FIELDS else options)[name] = value
    if "datastreamId" not in view:
        problems.append(
            Problem(
                ErrorCode.INVALID_ARGUMENT, (*field, "datastreamId"), "datastreamId is required"
            )
        )
    if problems:
        raise DomainError(problems)
    fields.setdefault("datastream_id", None)
    return ExportRequest(
        start_time=None,
        end_time=None,
        options=OptionsRequest(**options),
        **fields,
    )
