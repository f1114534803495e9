"""Options of each file format: pydantic models with every default, the only place they are
defined. A request's `formatOptions` is validated here; writers receive the model."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CsvOptions(_Options):
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    header: bool = True
    quoting: Literal["needed", "all", "none"] = "needed"
    null_string: str = Field(default="", alias="nullString", max_length=32)
    line_terminator: Literal["\n", "\r\n"] = Field(default="\n", alias="lineTerminator")
    timestamp_format: Literal["ns", "us", "ms", "iso"] = Field(
        default="ns", alias="timestampFormat"
    )

    @model_validator(mode="after")
    def _delimiter(self) -> CsvOptions:
        if not (self.delimiter == "\t" or " " <= self.delimiter <= "~") or self.delimiter == '"':
            raise ValueError("delimiter is one printable ASCII character (or tab), not a quote")
        if any(c in self.null_string for c in ('"', "\n", "\r", self.delimiter)):
            raise ValueError("nullString cannot contain a quote, a line break or the delimiter")
        return self


class ParquetOptions(_Options):
    compression: Literal["zstd", "snappy", "gzip", "lz4", "none"] = "zstd"
    compression_level: int | None = Field(default=None, alias="compressionLevel")
    # Rows are held until a row group is full: this bounds the writer's memory.
    row_group_size: int = Field(default=131_072, ge=1_000, le=1_048_576, alias="rowGroupSize")
    dictionary: bool = True
    statistics: bool = True
    data_page_size: int = Field(default=1 << 20, ge=1 << 12, le=1 << 30, alias="dataPageSize")

    @model_validator(mode="after")
    def _level(self) -> ParquetOptions:
        levels = {"zstd": (1, 22, 3), "gzip": (1, 9, 6)}
        if self.compression not in levels:
            if self.compression_level is not None:
                raise ValueError(f"{self.compression} has no compression level")
            return self
        low, high, default = levels[self.compression]
        if self.compression_level is None:
            self.compression_level = default
        elif not low <= self.compression_level <= high:
            raise ValueError(f"compressionLevel for {self.compression} is {low} to {high}")
        return self


class JsonLinesOptions(_Options):
    timestamp_format: Literal["ns", "us", "ms", "iso"] = Field(
        default="ns", alias="timestampFormat"
    )
    decimals: Literal["string", "number"] = "string"


FormatOptions = CsvOptions | ParquetOptions | JsonLinesOptions
FORMAT_OPTIONS: dict[str, type[_Options]] = {
    "CSV": CsvOptions,
    "PARQUET": ParquetOptions,
    "JSONL": JsonLinesOptions,
}


def option_keys(model: type[_Options]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def knows_option(model: type[_Options], key: str) -> bool:
    return key in option_keys(model)
