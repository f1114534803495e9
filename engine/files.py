"""Files the engine publishes: written under a temporary name, synced, then renamed, so a
reader sees the whole file or none of it, even after a crash."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def publish_file(temp: Path, final: Path) -> None:
    """Make the finished `temp` durable and visible as `final` in one rename."""
    fsync_file(temp)
    temp.replace(final)


def sha256_of(path: Path) -> str:
    """Lowercase hex SHA-256 of the file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
