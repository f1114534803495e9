"""Where segments, artifacts, uploads and import reports live, and the signed, expiring URLs
that download files (export artifacts, import error reports) and upload them (imports).

Segments, artifacts, import uploads and reports of rejected records are kept by a `Storage`:
the local storage directory (the default), or an S3-compatible bucket
(`STORAGE_URL=s3://bucket/prefix`). Both name files by *keys*, paths relative to the storage
root (`segments/101/seg_....parquet`, what the catalog stores), and give the engine a pyarrow
filesystem and path to read and write them. A file is written on local disk first (beside its
final name, or in the system's temporary directory for a bucket), then published whole."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import quote, urlsplit

import pyarrow.fs as pafs

from app.config import Settings
from engine.files import publish_file
from engine.strict import is_ascii_digits

_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)


@dataclass(frozen=True)
class StoredFile:
    key: str  # relative to the storage root, "/"-separated
    size: int
    mtime: float  # epoch seconds


class Storage(Protocol):
    """Segments and export artifacts, by key. Every method blocks; deletes are idempotent."""

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


class S3Storage:
    """A bucket (and a prefix in it) of an S3-compatible store: pyarrow's S3 filesystem for
    the engine and for files, boto3 for what pyarrow has not (presigned URLs, multipart
    uploads). Credentials come from the standard AWS chain (environment, profile, role)."""

    def __init__(self, url: str, endpoint_url: str | None, region: str | None) -> None:
        location = url.removeprefix("s3://").strip("/")
        self.bucket, _, prefix = location.partition("/")
        self.prefix = prefix.strip("/")
        self.root = location
        # A delayed open sends a small file in one PUT, a large one as a multipart upload.
        options: dict[str, Any] = {"allow_delayed_open": True}
        if region:
            options["region"] = region
        if endpoint_url:
            parts = urlsplit(endpoint_url)
            options |= {"endpoint_override": parts.netloc, "scheme": parts.scheme or "https"}
        self.filesystem: pafs.FileSystem | None = pafs.S3FileSystem(**options)
        self._fs: pafs.FileSystem = self.filesystem
        self._endpoint_url, self._region = endpoint_url, region

    @functools.cached_property
    def _client(self) -> Any:
        import boto3  # only object storage needs it
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self._endpoint_url,
            region_name=self._region,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def _full(self, key: str) -> str:
        return f"{self.root}/{key}".rstrip("/")

    def _object_key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def path(self, key: str) -> Path:
        return Path(self._full(key))

    def key(self, path: Path | str) -> str:
        return str(path).removeprefix(self.root).lstrip("/")

    def stat(self, key: str) -> StoredFile | None:
        info = self._fs.get_file_info(self._full(key))
        if info.type != pafs.FileType.File:
            return None
        return StoredFile(key, info.size or 0, _epoch(info))

    def files(self, prefix: str) -> list[StoredFile]:
        selector = pafs.FileSelector(self._full(prefix), recursive=True, allow_not_found=True)
        return sorted(
            (
                StoredFile(self.key(info.path), info.size or 0, _epoch(info))
                for info in self._fs.get_file_info(selector)
                if info.type == pafs.FileType.File
            ),
            key=lambda f: f.key,
        )

    def folders(self, prefix: str) -> list[str]:
        selector = pafs.FileSelector(self._full(prefix), allow_not_found=True)
        return sorted(
            self.key(info.path)
            for info in self._fs.get_file_info(selector)
            if info.type == pafs.FileType.Directory
        )

    def modified(self, prefix: str) -> float | None:
        """A prefix has no time of its own: its newest object's."""
        return max((f.mtime for f in self.files(prefix)), default=None)

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=self._object_key(key))

    def delete_tree(self, prefix: str) -> None:
        """Every object under the folder, a listing page (1,000 keys) per request; unlike
        pyarrow's delete_dir, no empty marker object is left for the parent folder."""
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._object_key(prefix.rstrip("/") + "/")
        )
        for page in pages:
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self._client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True}
                )

    def move(self, key: str, new_key: str) -> None:
        self._fs.move(self._full(key), self._full(new_key))

    def open_read(self, key: str) -> BinaryIO:
        # The bytes as stored: no decompression guessed from the name (`.gz`).
        stream: BinaryIO = self._fs.open_input_stream(self._full(key), compression=None)
        return stream

    def staging_file(self, key: str) -> Path:
        handle, name = tempfile.mkstemp(prefix=".staging-", suffix=".part")
        os.close(handle)
        return Path(name)

    def publish(self, temp: Path, key: str) -> int:
        return publish_file(temp, self.path(key), self.filesystem)

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        if self.stat(key) is None:
            raise FileNotFoundError(f"no file {key} in the bucket {self.bucket}")
        folder = Path(tempfile.mkdtemp(prefix="download-"))
        copy = folder / key.rsplit("/", 1)[-1]  # the name tells a file's format
        try:
            pafs.copy_files(
                self._full(key),
                str(copy),
                source_filesystem=self._fs,
                destination_filesystem=pafs.LocalFileSystem(),
            )
            yield copy
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def local_file(self, key: str) -> Path | None:
        return None

    def presigned_url(self, key: str, filename: str, content_type: str, seconds: int) -> str:
        url: str = self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self._object_key(key),
                "ResponseContentType": content_type,
                "ResponseContentDisposition": attachment(filename),
            },
            ExpiresIn=seconds,
        )
        return url

    def check_writable(self) -> None:
        """The store answers and the bucket exists (a listing of a missing bucket is empty)."""
        if self._fs.get_file_info(self.bucket).type != pafs.FileType.Directory:
            raise FileNotFoundError(f"the bucket {self.bucket} does not exist")

    def abort_stale_uploads(self, older_than: float, dry_run: bool = False) -> list[str]:
        aborted = []
        pages = self._client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=self._object_key("")
        )
        for upload in _uploads(pages):
            if upload["Initiated"].timestamp() >= older_than or self._active(upload, older_than):
                continue
            if not dry_run:
                with contextlib.suppress(self._client.exceptions.NoSuchUpload):  # completed
                    self._client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
            aborted.append(upload["Key"].removeprefix(self._object_key("")))
        return aborted

    def _active(self, upload: dict[str, Any], older_than: float) -> bool:
        """A part went up since `older_than`: the writer is alive (some stores report no
        true initiation time)."""
        try:
            parts = self._client.list_parts(
                Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            ).get("Parts", [])
        except self._client.exceptions.NoSuchUpload:
            return True  # completed or aborted meanwhile: nothing to abort
        return any(part["LastModified"].timestamp() >= older_than for part in parts)


def attachment(filename: str) -> str:
    """The Content-Disposition of a download, as Starlette's FileResponse writes it."""
    quoted = quote(filename)
    if quoted != filename:
        return f"attachment; filename*=utf-8''{quoted}"
    return f'attachment; filename="{filename}"'


def _uploads(pages: Any) -> Iterator[dict[str, Any]]:
    for page in pages:
        yield from page.get("Uploads", [])


def _epoch(info: pafs.FileInfo) -> float:
    return info.mtime.timestamp() if info.mtime is not None else 0.0


def storage_for(settings: Settings) -> Storage:
    """The storage of segments and artifacts the settings name."""
    if not settings.object_storage:
        return LocalStorage(settings.storage_dir)
    assert settings.storage_url is not None
    return _s3(settings.storage_url, settings.storage_s3_endpoint_url, settings.storage_s3_region)


@functools.cache
def _s3(url: str, endpoint_url: str | None, region: str | None) -> S3Storage:
    """One filesystem and client per process: they hold connection pools."""
    return S3Storage(url, endpoint_url or os.environ.get("AWS_ENDPOINT_URL"), region)


def segment_key(datastream_id: int, name: str) -> str:
    return f"segments/{datastream_id}/{name}"


def artifact_key(job_id: str, attempt_token: str) -> str:
    # One folder per attempt: a duplicate delivery never writes over the winner's files.
    return f"artifacts/{job_id}/{attempt_token}"


def job_artifacts_key(job_id: str) -> str:
    """The folder of every attempt of one job."""
    return f"artifacts/{job_id}"


def import_report_key(job_id: str) -> str:
    return f"imports/{job_id}/rejected.csv"


def folder_of(key: str) -> str:
    return key.rsplit("/", 1)[0]


def remove_job_files(settings: Settings, job_id: str, paths: list[str] | None = None) -> None:
    """Delete a job's files (its artifacts' keys, and every attempt's folder). Blocking;
    idempotent: missing files are fine."""
    storage = storage_for(settings)
    for path in paths or []:
        storage.delete(path)
    storage.delete_tree(job_artifacts_key(job_id))


def download_url(
    settings: Settings,
    base: str,
    artifact_id: str,
    filename: str,
    key: str | None = None,
    content_type: str = "application/octet-stream",
    saved_as: str | None = None,
) -> tuple[str, int]:
    """A file's download URL and its expiry in epoch seconds: the store's presigned URL when
    files are in a bucket with STORAGE_DOWNLOADS=presigned (and its `key` is known), else the
    gateway's signed link under `base`. `saved_as`: the name the browser saves it under, if
    not `filename`."""
    path, expires = signed_path(settings, artifact_id, filename)
    if key is not None and settings.object_storage and settings.storage_downloads == "presigned":
        seconds = max(1, expires - int(time.time()))
        url = storage_for(settings).presigned_url(key, saved_as or filename, content_type, seconds)
        if url is not None:
            return url, expires
    return base + path, expires


def _signature(key: bytes, artifact_id: str, filename: str, expires: int) -> str:
    # The NUL separator cannot occur in any of the three parts: no two triples sign alike.
    message = "\0".join((artifact_id, filename, str(expires))).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def signed_path(
    settings: Settings, artifact_id: str, filename: str, now: float | None = None
) -> tuple[str, int]:
    """The URL path (with query) and its expiry in epoch seconds. The signature covers the
    artifact, the file name in the path and the expiry."""
    expires = int((now if now is not None else time.time()) + settings.download_ttl_seconds)
    sig = _signature(settings.download_signing_key(), artifact_id, filename, expires)
    return f"/downloads/{artifact_id}/{quote(filename)}?expires={expires}&signature={sig}", expires


def verify_signature(
    settings: Settings, artifact_id: str, filename: str, expires: str, signature: str
) -> bool:
    """Strict: `expires` is ASCII digits only, the signature 64 lowercase hex digits."""
    if not is_ascii_digits(expires, max_length=12) or not _HEX64.fullmatch(signature):
        return False
    expiry = int(expires)
    expected = _signature(settings.download_signing_key(), artifact_id, filename, expiry)
    return hmac.compare_digest(expected, signature) and expiry > time.time()


UPLOAD_PURPOSE = "\0PUT"  # no file name contains NUL: an upload signature never opens a download


def signed_upload_path(settings: Settings, upload_id: str, expires: int) -> str:
    """The URL path (with query) a client PUTs an upload's bytes to, until `expires`."""
    sig = _signature(settings.download_signing_key(), upload_id, UPLOAD_PURPOSE, expires)
    return f"/uploads/{upload_id}?expires={expires}&signature={sig}"


def verify_upload_signature(
    settings: Settings, upload_id: str, expires: str, signature: str
) -> bool:
    return verify_signature(settings, upload_id, UPLOAD_PURPOSE, expires, signature)
