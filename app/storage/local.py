"""The storage directory on local (or shared) disk: the default."""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pyarrow.fs as pafs

from app.storage.base import StoredFile
from engine.files import publish_file


class LocalStorage:
    """The storage directory on local (or shared) disk."""

    filesystem: pafs.FileSystem | None = None

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / key

    def key(self, path: Path | str) -> str:
        return str(Path(path).relative_to(self.root))

    def stat(self, key: str) -> StoredFile | None:
        path = self.root / key
        if not path.is_file():
            return None
        info = path.stat()
        return StoredFile(key, info.st_size, info.st_mtime)

    def files(self, prefix: str) -> list[StoredFile]:
        folder = self.root / prefix
        found = []
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.is_file():
                info = path.stat()
                found.append(StoredFile(self.key(path), info.st_size, info.st_mtime))
        return found

    def folders(self, prefix: str) -> list[str]:
        folder = self.root / prefix
        return (
            sorted(self.key(p) for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
        )

    def modified(self, prefix: str) -> float | None:
        folder = self.root / prefix
        return folder.stat().st_mtime if folder.exists() else None

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)

    def delete_tree(self, prefix: str) -> None:
        shutil.rmtree(self.root / prefix, ignore_errors=True)

    def move(self, key: str, new_key: str) -> None:
        (self.root / key).replace(self.root / new_key)

    def open_read(self, key: str) -> BinaryIO:
        return open(self.root / key, "rb")

    def staging_file(self, key: str) -> Path:
        target = self.root / key
        return target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.part")

    def publish(self, temp: Path, key: str) -> int:
        return publish_file(temp, self.root / key)

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        yield self.root / key

    def local_file(self, key: str) -> Path | None:
        path = self.root / key
        return path if path.is_file() else None

    def presigned_url(self, key: str, filename: str, content_type: str, seconds: int) -> str | None:
        return None

    def check_writable(self) -> None:
        """The directory takes a file (exists, writable, not full)."""
        probe = self.root / f".ready-{uuid.uuid4().hex}"
        try:
            probe.write_bytes(b"ok")
        finally:
            probe.unlink(missing_ok=True)

    def abort_stale_uploads(self, older_than: float, dry_run: bool = False) -> list[str]:
        return []
