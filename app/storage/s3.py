"""An S3-compatible bucket (STORAGE_URL=s3://bucket/prefix)."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import pyarrow.fs as pafs

from app.storage.base import StoredFile, attachment
from engine.files import publish_file


class S3Storage:
    """A bucket (and a prefix in it) of an S3-compatible store: pyarrow's S3 filesystem for
    the engine and for files, boto3 for what pyarrow has not or does less well (presigned
    URLs, multipart uploads, deleting folders). Credentials come from the standard AWS chain
    (environment, profile, role)."""

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

        # As pyarrow addresses buckets: by path on another store, by host name on AWS.
        style = "path" if self._endpoint_url else "auto"
        return boto3.client(
            "s3",
            endpoint_url=self._endpoint_url,
            region_name=self._region,
            config=Config(signature_version="s3v4", s3={"addressing_style": style}),
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
        """A copy inside the store (boto3's managed copy: in parts past 5 GB, which a single
        CopyObject, pyarrow's move, cannot do), then the delete."""
        source = {"Bucket": self.bucket, "Key": self._object_key(key)}
        self._client.copy(source, self.bucket, self._object_key(new_key))
        self.delete(key)

    def open_read(self, key: str) -> BinaryIO:
        # Seekable (ranged reads), and the bytes as stored: no decompression guessed from
        # the name (`.gz`), which only pyarrow's input streams do.
        handle: BinaryIO = self._fs.open_input_file(self._full(key))
        return handle

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


def _uploads(pages: Any) -> Iterator[dict[str, Any]]:
    for page in pages:
        yield from page.get("Uploads", [])


def _epoch(info: pafs.FileInfo) -> float:
    return info.mtime.timestamp() if info.mtime is not None else 0.0
