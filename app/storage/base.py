"""What every storage offers: files named by keys (paths relative to the storage root)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import quote

import pyarrow.fs as pafs


@dataclass(frozen=True)
class StoredFile:
    key: str  # relative to the storage root, "/"-separated
    size: int
    mtime: float  # epoch seconds


class Storage(Protocol):
    """Segments, artifacts, uploads and reports, by key. Every method blocks; deletes are
    idempotent."""

    # What the engine reads and writes through: None for local disk (its fast path).
    filesystem: pafs.FileSystem | None

    def path(self, key: str) -> Path:
        """Where `key` is in `filesystem` (for the engine)."""

    def key(self, path: Path | str) -> str:
        """The key of a path `path()` gave (or the engine derived from one)."""

    def stat(self, key: str) -> StoredFile | None:
        """The file's size and modification time; None when there is no such file."""

    def files(self, prefix: str) -> list[StoredFile]:
        """Every file under the folder `prefix`, at any depth."""

    def folders(self, prefix: str) -> list[str]:
        """The keys of the folders directly under `prefix`."""

    def modified(self, prefix: str) -> float | None:
        """When the folder `prefix` last changed (None: it does not exist)."""

    def delete(self, key: str) -> None: ...

    def delete_tree(self, prefix: str) -> None: ...

    def move(self, key: str, new_key: str) -> None:
        """Rename a file (on an object store: copy, then delete)."""

    def open_read(self, key: str) -> BinaryIO: ...

    def staging_file(self, key: str) -> Path:
        """A fresh local path to write `key`'s bytes to before `publish` (its folder may not
        exist yet); the caller removes it if it does not publish."""

    def publish(self, temp: Path, key: str) -> int:
        """Make the finished local `temp` the file `key`, whole or not at all; its size."""

    def local_copy(self, key: str) -> contextlib.AbstractContextManager[Path]:
        """The file on local disk while the block runs (a temporary copy from a bucket);
        FileNotFoundError when there is no such file."""

    def local_file(self, key: str) -> Path | None:
        """The file on local disk, when it is there (served as is, with Range support)."""

    def presigned_url(self, key: str, filename: str, content_type: str, seconds: int) -> str | None:
        """A URL of the store itself that downloads `key` for `seconds` (None: there is
        none, the gateway serves the file)."""

    def check_writable(self) -> None:
        """Raise unless the storage can take files (for /readyz)."""

    def abort_stale_uploads(self, older_than: float, dry_run: bool = False) -> list[str]:
        """Abort multipart uploads begun before `older_than` that never completed (a killed
        writer's); their keys. Nothing on local disk."""


def attachment(filename: str) -> str:
    """The Content-Disposition of a download, as Starlette's FileResponse writes it."""
    quoted = quote(filename)
    if quoted != filename:
        return f"attachment; filename*=utf-8''{quoted}"
    return f'attachment; filename="{filename}"'
