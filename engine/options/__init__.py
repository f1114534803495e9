"""Export options, defined once: their types, defaults and checks (`resolve`), the resolved
form the engine runs with and a job stores (`model`), and each format's options (`formats`).
The gateway only maps an `OptionIssue`'s path to its input field."""

from engine.options.formats import CsvOptions, FormatOptions, JsonLinesOptions, ParquetOptions
from engine.options.model import (
    Aggregation,
    Decimation,
    ExportOptions,
    OptionIssue,
    Split,
    decimated_fields,
)
from engine.options.resolve import OptionsRequest, resolve_options

__all__ = [
    "Aggregation",
    "CsvOptions",
    "Decimation",
    "ExportOptions",
    "FormatOptions",
    "JsonLinesOptions",
    "OptionIssue",
    "OptionsRequest",
    "ParquetOptions",
    "Split",
    "decimated_fields",
    "resolve_options",
]
