"""Where segments, artifacts, uploads and import reports live, and the signed, expiring URLs
that download files (export artifacts, import error reports) and upload them (imports).

Segments, artifacts, import uploads and reports of rejected records are kept by a `Storage`:
the local storage directory (the default), or an S3-compatible bucket
(`STORAGE_URL=s3://bucket/prefix`). Both name files by *keys*, paths relative to the storage
root (`segments/101/seg_....parquet`, what the catalog stores), and give the engine a pyarrow
filesystem and path to read and write them. A file is written on local disk first (beside its
final name, or in the system's temporary directory for a bucket), then published whole."""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
import time
from urllib.parse import quote

from app.config import Settings
from app.storage.base import Storage, StoredFile, attachment
from app.storage.local import LocalStorage
from app.storage.s3 import S3Storage
from engine.strict import is_ascii_digits

__all__ = ["LocalStorage", "S3Storage", "Storage", "StoredFile", "attachment"]

_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)


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


def import_report_key(job_id: str, attempt_token: str) -> str:
    # One folder per attempt, as for exports: a worker that lost the job (a stopped one that
    # came back) never replaces or deletes the report of the worker that took it over.
    return f"imports/{job_id}/{attempt_token}/rejected.csv"


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
