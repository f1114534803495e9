"""Export schemas: the built-in ones are data files in the schema language, loaded here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

BUILTIN_DIR = Path(__file__).parent / "builtin_schemas"


@dataclass(frozen=True)
class ExportSchemaDef:
    name: str
    description: str
    stream_category: str
    spec: dict[str, Any]
    builtin: bool = True

    def column_names(self) -> list[str]:
        return [c["outputColumn"] for c in self.spec["columns"]]

    def supports(self, exchange: str) -> bool:
        return all("meta" in c or exchange in c.get("data", {}) for c in self.spec["columns"])


@lru_cache
def builtin_schemas() -> dict[str, ExportSchemaDef]:
    schemas = {}
    for path in sorted(BUILTIN_DIR.glob("*.json")):
        spec = json.loads(path.read_text())
        schemas[spec["name"]] = ExportSchemaDef(
            spec["name"], spec["description"], spec["streamCategory"], spec
        )
    return schemas


def resolve_schema(name: str) -> ExportSchemaDef | None:
    return builtin_schemas().get(name)
