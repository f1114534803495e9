"""Decode once, export many times: a segment of a known wire format stores, beside the raw
`data` column, the messages already decoded by the built-in normalized schema of that wire
format (its decode tree: the JSON paths it reads, typed), and which of its decimal values are
valid. A normalized export of such a segment reads that column and skips JSON parsing (and the
decimal checks); everything else (unfolding, transforms, meta columns) runs as it always
does, so the two paths give the same rows.

The raw messages stay the source of truth: the decoded column can always be rebuilt from them,
a segment without it (older, a custom wire format, or messages the schema cannot decode)
exports by decoding, and the column is only used by a schema with the same decode key (the
same paths, types, envelope and decoder version: see `CompiledSchema.decode_key`); any other
schema decodes the messages as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from engine.export_schema import CompiledSchema, DecodeError
from engine.export_schema.compiled import CHECKED_METADATA, DECODED_COLUMN

# The file metadata entry holding the decode key of the stored column.
KEY_METADATA = b"decoded.key"
# Messages decoded at a time while writing: one row group's worth, for bounded memory.
SHRED_ROWS = 32_768


@dataclass(frozen=True)
class Shredder:
    """Decodes records with one compiled schema (the built-in one of a wire format)."""

    compiled: CompiledSchema

    @property
    def key(self) -> str:
        key = self.compiled.decode_key()
        assert key is not None, "a schema that decodes nothing has nothing to store"
        return key

    def decoded(self, table: pa.Table) -> tuple[pa.ChunkedArray, set[str]] | None:
        """The decoded column for `table`'s records (sorted as they will be stored) and the
        decimal values valid in all of them; None when some records cannot be decoded: the
        segment is then stored raw only, and an export decodes it (and reports the same
        problem) as it would have anyway."""
        chunks = []
        checked: set[str] | None = None
        try:
            for offset in range(0, max(table.num_rows, 1), SHRED_ROWS):
                chunk = table.slice(offset, SHRED_ROWS)
                decoded = self.compiled.decode(chunk)
                valid = self.compiled.checked_decimals(chunk, decoded)
                checked = valid if checked is None else checked & valid
                chunks.append(decoded)
        except (DecodeError, pa.ArrowException, ValueError, TypeError, OverflowError):
            return None  # storing the messages must never fail because they do not decode
        return pa.chunked_array(chunks, type=chunks[0].type), checked or set()


def shredder_for(compiled: CompiledSchema) -> Shredder | None:
    """A shredder over a compiled schema, unless it decodes nothing."""
    return Shredder(compiled) if compiled.decode_key() is not None else None


def metadata(key: str, checked: Iterable[str]) -> dict[bytes, bytes]:
    return {KEY_METADATA: key.encode(), CHECKED_METADATA: json.dumps(sorted(checked)).encode()}


def with_decoded(table: pa.Table, shredder: Shredder | None) -> pa.Table:
    """`table` (the record schema) with the decoded column and its metadata, when it decodes."""
    if shredder is None:
        return table
    found = shredder.decoded(table)
    if found is None:
        return table
    decoded, checked = found
    table = table.append_column(pa.field(DECODED_COLUMN, decoded.type), decoded)
    return table.replace_schema_metadata(metadata(shredder.key, checked))


def stored_key(schema: pa.Schema) -> str | None:
    """The decode key of a segment's decoded column, None without one."""
    if DECODED_COLUMN not in schema.names or not schema.metadata:
        return None
    key = schema.metadata.get(KEY_METADATA)
    return key.decode() if key is not None else None


def stored_checked(schema: pa.Schema) -> set[str]:
    """The decimal values a segment's decoded column holds valid in every record."""
    found = (schema.metadata or {}).get(CHECKED_METADATA)
    return set(json.loads(found)) if found else set()
