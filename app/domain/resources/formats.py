"""Resource files: CSV with a header row, or JSON (an array of objects). Reading names the
line of every record; writing puts JSON values (schema definitions) as JSON text in CSV
cells. Problems of the file as a whole (not UTF-8, not JSON, not an array, too many rows)
are INVALID_ARGUMENT or PAYLOAD_TOO_LARGE naming the input field that carried the file."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from app.domain.errors import ErrorCode, user_error
from app.domain.resources.model import MAX_ROWS, Record, Rejection, Row


class ResourceFormat(str, Enum):
    CSV = "CSV"
    JSON = "JSON"

    @property
    def suffix(self) -> str:
        return f".{self.value.lower()}"

    @property
    def content_type(self) -> str:
        return "text/csv; charset=utf-8" if self is ResourceFormat.CSV else "application/json"


def format_of(filename: str, given: ResourceFormat | None, field: str) -> ResourceFormat:
    """The format given, else the one the file's name ends with (.csv, .json)."""
    if given is not None:
        return given
    for candidate in ResourceFormat:
        if filename.lower().endswith(candidate.suffix):
            return candidate
    raise user_error(
        ErrorCode.INVALID_ARGUMENT,
        field,
        f"{filename[:80]!r} does not end with .csv or .json: give the format",
    )


@dataclass(frozen=True)
class ReadFile:
    columns: tuple[str, ...] | None  # a CSV file's header; None for JSON (keys per object)
    records: list[Record]
    rejections: list[Rejection]  # rows that are not rows at all (a JSON item not an object)


def read(content: bytes, format: ResourceFormat, field: str) -> ReadFile:
    try:
        text = content.decode("utf-8-sig")  # spreadsheets often start their CSV with a BOM
    except UnicodeDecodeError as exc:
        raise user_error(
            ErrorCode.INVALID_ARGUMENT, field, f"the file is not UTF-8 text (byte {exc.start:,})"
        ) from None
    return _read_csv(text, field) if format is ResourceFormat.CSV else _read_json(text, field)


def _read_csv(text: str, field: str) -> ReadFile:
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    records: list[Record] = []
    while True:
        line = reader.line_num + 1  # where the next row starts
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise user_error(
                ErrorCode.INVALID_ARGUMENT, field, f"line {reader.line_num}: not CSV: {exc}"
            ) from None
        if not row:
            continue  # a blank line
        if header is None:
            header = row
            continue
        _check_count(len(records), field)
        # Cells past the header's are ignored; missing ones are empty.
        cells = (row + [""] * len(header))[: len(header)]
        records.append(Record(line, dict(zip(header, cells, strict=True))))
    if header is None:
        raise user_error(
            ErrorCode.INVALID_ARGUMENT, field, "the file is empty: a CSV file starts with a header"
        )
    return ReadFile(tuple(header), records, [])


def _read_json(text: str, field: str) -> ReadFile:
    try:
        items = json.loads(text)
    except RecursionError:
        raise user_error(ErrorCode.INVALID_ARGUMENT, field, "the JSON nests too deeply") from None
    except ValueError as exc:
        raise user_error(ErrorCode.INVALID_ARGUMENT, field, f"not JSON: {exc}") from None
    if not isinstance(items, list):
        raise user_error(
            ErrorCode.INVALID_ARGUMENT,
            field,
            f"a JSON import is an array of objects, not a JSON {_json_kind(items)}",
        )
    _check_count(len(items) - 1, field)
    records, rejections = [], []
    for index, item in enumerate(items):
        if isinstance(item, dict):
            records.append(Record(index + 1, item))
        else:
            reason = f"item {index + 1} is a JSON {_json_kind(item)}, not an object"
            rejections.append(Rejection(index + 1, None, reason))
    return ReadFile(None, records, rejections)


def _check_count(rows_before: int, field: str) -> None:
    if rows_before >= MAX_ROWS:
        raise user_error(
            ErrorCode.PAYLOAD_TOO_LARGE, field, f"the file has more than {MAX_ROWS:,} rows"
        )


def _json_kind(value: object) -> str:
    kinds = ((dict, "object"), (list, "array"), (str, "string"), (bool, "boolean"))
    for kind, name in kinds:
        if isinstance(value, kind):
            return name
    return "null" if value is None else "number"


def write(format: ResourceFormat, columns: Sequence[str], rows: Sequence[Row]) -> str:
    if format is ResourceFormat.JSON:
        return json.dumps(list(rows), ensure_ascii=False, indent=2) + "\n"
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_csv_cell(row.get(column)) for column in columns] for row in rows)
    return out.getvalue()


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)
