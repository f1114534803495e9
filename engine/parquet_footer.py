"""Parquet files assembled from row groups encoded apart (each as a file of its own, on its
own core): their column chunks back to back, and one footer listing every row group.

A footer is Parquet's `FileMetaData`, written in Thrift's compact protocol. pyarrow reads and
writes footers but cannot move a row group to another offset, and no small library decodes
and encodes the protocol, so it is done here: a lossless decoding into nested lists (fields
keep their ids, types and order, so encoding gives back the same bytes) and the few fields a
merge rewrites: the row count, the row groups, their offsets and ordinals.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

MAGIC = b"PAR1"

# Compact protocol types.
_TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(1, 13)
_INTEGERS = (_I16, _I32, _I64)

# Field ids (parquet.thrift) of what a merge rewrites.
_FILE_NUM_ROWS, _FILE_ROW_GROUPS = 3, 4
_GROUP_COLUMNS, _GROUP_NUM_ROWS, _GROUP_FILE_OFFSET, _GROUP_ORDINAL = 1, 3, 5, 7
_CHUNK_FILE_OFFSET, _CHUNK_META, _CHUNK_OFFSET_INDEX, _CHUNK_COLUMN_INDEX = 2, 3, 4, 6
# ColumnMetaData: data, index and dictionary page offsets, bloom filter offset.
_META_OFFSETS = (9, 10, 11, 14)


class FooterError(ValueError):
    """Bytes that are not a Parquet footer this module can read."""


@dataclass
class Field:
    id: int
    type: int
    value: Any  # int, float, bytes, bool, list[Field] (struct), _Collection


@dataclass
class _Collection:
    kind: int  # _LIST, _SET or _MAP
    types: tuple[int, ...]  # element type, or key and value types
    items: list[Any]  # values, or (key, value) pairs


def split_file(data: Any) -> tuple[memoryview, bytes]:
    """A whole Parquet file's column chunks (the bytes between the leading magic and the
    footer, not copied) and its footer. `data`: bytes or a buffer (a pyarrow Buffer)."""
    view = memoryview(data)
    if len(view) < 12 or view[:4] != MAGIC or view[-4:] != MAGIC:
        raise FooterError("not a Parquet file")
    (length,) = struct.unpack("<I", view[-8:-4])
    footer_start = len(view) - 8 - length
    if footer_start < 4:
        raise FooterError("footer length out of range")
    return view[4:footer_start], bytes(view[footer_start:-8])


class MergedFooter:
    """The footer of a file holding the row groups of every footer added, in order: the
    first footer's schema and metadata, each footer's row groups moved `shift` bytes later
    in the file, numbered in order, and their rows counted. Every footer must describe the
    same schema (files written with the same options). Footers come decoded, so closing the
    file encodes one footer, whatever the number of row groups."""

    def __init__(self) -> None:
        self._first: list[Field] | None = None
        self._groups: list[Any] = []

    def add(self, decoded: list[Field], shift: int) -> None:
        """A footer decoded by `decode_struct` (on the thread that encoded its file)."""
        for group in _field(decoded, _FILE_ROW_GROUPS).value.items:
            self._groups.append(_moved_group(group, shift, len(self._groups)))
        if self._first is None:
            self._first = decoded

    @property
    def empty(self) -> bool:
        return self._first is None

    def encode(self) -> bytes:
        if self._first is None:
            raise FooterError("no footer to merge")
        _field(self._first, _FILE_ROW_GROUPS).value.items = self._groups
        rows = sum(_field(group, _GROUP_NUM_ROWS).value for group in self._groups)
        _field(self._first, _FILE_NUM_ROWS).value = rows
        return encode_struct(self._first)


def closing(footer: bytes) -> bytes:
    """What ends a file after its column chunks: the footer, its length and the magic."""
    return footer + struct.pack("<I", len(footer)) + MAGIC


def _moved_group(group: list[Field], shift: int, ordinal: int) -> list[Field]:
    _shift(group, _GROUP_FILE_OFFSET, shift)
    for field in group:
        if field.id == _GROUP_ORDINAL:
            field.value = (ordinal + 2**15) % 2**16 - 2**15  # an i16, wrapped as Arrow does
    for chunk in _field(group, _GROUP_COLUMNS).value.items:
        for field_id in (_CHUNK_FILE_OFFSET, _CHUNK_OFFSET_INDEX, _CHUNK_COLUMN_INDEX):
            _shift(chunk, field_id, shift)
        meta = next((f.value for f in chunk if f.id == _CHUNK_META), None)
        if meta is not None:
            for field_id in _META_OFFSETS:
                _shift(meta, field_id, shift)
    return group


def _shift(fields: list[Field], field_id: int, shift: int) -> None:
    """Move an offset; 0 is none (every real one is past the leading magic): Arrow writes
    the deprecated ColumnChunk.file_offset as 0."""
    for field in fields:
        if field.id == field_id and field.type in _INTEGERS and field.value:
            field.value += shift


def _field(fields: list[Field], field_id: int) -> Field:
    for field in fields:
        if field.id == field_id:
            return field
    raise FooterError(f"field {field_id} is missing")


# -- the compact protocol -----------------------------------------------------------------
def decode_struct(data: bytes) -> list[Field]:
    reader = _Reader(data)
    fields = reader.struct()
    if reader.position != len(data):
        raise FooterError("bytes after the footer's end")
    return fields


def encode_struct(fields: list[Field]) -> bytes:
    out = bytearray()
    _write_struct(out, fields)
    return bytes(out)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def byte(self) -> int:
        if self.position >= len(self.data):
            raise FooterError("footer ends early")
        value = self.data[self.position]
        self.position += 1
        return value

    def varint(self) -> int:
        result = shift = 0
        while True:
            byte = self.byte()
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7
            if shift > 70:
                raise FooterError("varint too long")

    def zigzag(self) -> int:
        value = self.varint()
        return (value >> 1) ^ -(value & 1)

    def take(self, count: int) -> bytes:
        end = self.position + count
        if end > len(self.data):
            raise FooterError("footer ends early")
        chunk = self.data[self.position : end]
        self.position = end
        return chunk

    def struct(self) -> list[Field]:
        fields: list[Field] = []
        last_id = 0
        while True:
            header = self.byte()
            if header == 0:
                return fields
            kind, delta = header & 0x0F, header >> 4
            field_id = last_id + delta if delta else self.zigzag()
            if kind in (_TRUE, _FALSE):
                fields.append(Field(field_id, kind, kind == _TRUE))
            else:
                fields.append(Field(field_id, kind, self.value(kind)))
            last_id = field_id

    def value(self, kind: int) -> Any:
        if kind in (_TRUE, _FALSE):  # a bool inside a collection: a byte of its own
            return self.byte() == _TRUE
        if kind == _BYTE:
            return self.byte()
        if kind in _INTEGERS:
            return self.zigzag()
        if kind == _DOUBLE:
            return struct.unpack("<d", self.take(8))[0]
        if kind == _BINARY:
            return self.take(self.varint())
        if kind in (_LIST, _SET):
            header = self.byte()
            size = header >> 4 if header >> 4 != 15 else self.varint()
            element = header & 0x0F
            return _Collection(kind, (element,), [self.value(element) for _ in range(size)])
        if kind == _MAP:
            size = self.varint()
            types = self.byte() if size else 0
            key, value = types >> 4, types & 0x0F
            pairs = [(self.value(key), self.value(value)) for _ in range(size)]
            return _Collection(kind, (key, value), pairs)
        if kind == _STRUCT:
            return self.struct()
        raise FooterError(f"unknown compact protocol type {kind}")


def _write_varint(out: bytearray, value: int) -> None:
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _write_zigzag(out: bytearray, value: int) -> None:
    _write_varint(out, (value << 1) ^ (value >> 63))


def _write_struct(out: bytearray, fields: list[Field]) -> None:
    last_id = 0
    for field in fields:
        kind = (_TRUE if field.value else _FALSE) if field.type in (_TRUE, _FALSE) else field.type
        delta = field.id - last_id
        if 0 < delta <= 15:
            out.append(delta << 4 | kind)
        else:
            out.append(kind)
            _write_zigzag(out, field.id)
        if kind not in (_TRUE, _FALSE):
            _write_value(out, kind, field.value)
        last_id = field.id
    out.append(0)


def _write_value(out: bytearray, kind: int, value: Any) -> None:
    if kind in (_TRUE, _FALSE):
        out.append(_TRUE if value else _FALSE)
    elif kind == _BYTE:
        out.append(value & 0xFF)
    elif kind in _INTEGERS:
        _write_zigzag(out, value)
    elif kind == _DOUBLE:
        out += struct.pack("<d", value)
    elif kind == _BINARY:
        _write_varint(out, len(value))
        out += value
    elif kind in (_LIST, _SET):
        (element,) = value.types
        size = len(value.items)
        if size < 15:
            out.append(size << 4 | element)
        else:
            out.append(0xF0 | element)
            _write_varint(out, size)
        for item in value.items:
            _write_value(out, element, item)
    elif kind == _MAP:
        _write_varint(out, len(value.items))
        if value.items:
            key, val = value.types
            out.append(key << 4 | val)
            for k, v in value.items:
                _write_value(out, key, k)
                _write_value(out, val, v)
    elif kind == _STRUCT:
        _write_struct(out, value)
    else:
        raise FooterError(f"unknown compact protocol type {kind}")
