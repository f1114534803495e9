"""Files the engine publishes: written under a temporary name, synced, then renamed, so a
reader sees the whole file or none of it, even after a crash.

On a remote filesystem (`pyarrow.fs.FileSystem`, such as S3) a file is written on local disk
first and then copied in one call: an object store makes an object visible only when its
(multipart) upload completes, and pyarrow cannot abort an output stream (closing one, even
after an error, completes the upload), so a file is never streamed to its final key while it
is still being produced. A process killed during the copy leaves an incomplete multipart
upload, which no reader sees, for the store's owner to abort (the gateway's sweeper does)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pyarrow.fs as pafs

# Local disk: files bound for a remote filesystem are written there first (under TMPDIR).
_LOCAL = pafs.LocalFileSystem()


def fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def publish_file(temp: Path, final: Path, filesystem: pafs.FileSystem | None = None) -> int:
    """Make the finished local `temp` durable and visible as `final` (in `filesystem`, local
    disk when None) whole or not at all; its size in bytes. A remote copy removes `temp`."""
    size = temp.stat().st_size
    if filesystem is None:
        fsync_file(temp)
        temp.replace(final)
        return size
    try:
        # One C++ call (multipart for large files): no Python exception lands mid-copy.
        pafs.copy_files(
            str(temp), str(final), source_filesystem=_LOCAL, destination_filesystem=filesystem
        )
    finally:
        temp.unlink(missing_ok=True)
    return size


def staging_dir(prefix: str) -> Path:
    """A fresh local directory for files bound for a remote filesystem."""
    return Path(tempfile.mkdtemp(prefix=prefix))


@contextlib.contextmanager
def temporary_for(final: Path, filesystem: pafs.FileSystem | None = None) -> Iterator[Path]:
    """The local name to write `final` under before `publish_file`: beside it on local disk
    (removed if the write fails; a crash leaves it for fsck to find), else in a staging
    directory removed afterwards."""
    if filesystem is None:
        final.parent.mkdir(parents=True, exist_ok=True)
        temporary = final.with_name(f".{final.name}.tmp")
        try:
            yield temporary
        except BaseException:  # a full disk, say: its partial file would hold on to space
            temporary.unlink(missing_ok=True)
            raise
        return
    staging = staging_dir("publish-")
    try:
        yield staging / final.name
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def sha256_of(path: Path) -> str:
    """Lowercase hex SHA-256 of the file's bytes, read in 1 MiB chunks."""
    with open(path, "rb") as handle:
        return sha256_of_stream(handle)


def sha256_of_stream(handle: BinaryIO) -> str:
    """Lowercase hex SHA-256 of what `handle` (a binary file, local or an object store's
    stream) has left to read, in 1 MiB chunks."""
    digest = hashlib.sha256()
    while chunk := handle.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()
