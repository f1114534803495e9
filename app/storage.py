"""Where segments, artifacts, uploads and import reports live, and the signed, expiring URLs
that download files (export artifacts, import error reports) and upload them (imports)."""

from __future__ import annotations

import hashlib
import hmac
import re
import shutil
import time
from pathlib import Path
from urllib.parse import quote

from app.config import Settings
from engine.strict import is_ascii_digits

_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)


def segment_dir(settings: Settings, datastream_id: int) -> Path:
    return settings.storage_dir / "segments" / str(datastream_id)


def artifact_dir(settings: Settings, job_id: str, attempt_token: str) -> Path:
    # One directory per attempt: a duplicate delivery never writes over the winner's files.
    return settings.storage_dir / "artifacts" / job_id / attempt_token


def import_report_path(settings: Settings, job_id: str, attempt_token: str) -> Path:
    # One directory per attempt, as for exports: a worker that lost the job (a stopped one
    # that came back) never replaces or deletes the report of the worker that took it over.
    return settings.storage_dir / "imports" / job_id / attempt_token / "rejected.csv"


def job_artifacts_dir(settings: Settings, job_id: str) -> Path:
    """Every attempt's directory of one job."""
    return settings.storage_dir / "artifacts" / job_id


def remove_job_files(settings: Settings, job_id: str, paths: list[str] | None = None) -> None:
    """Delete a job's files (its artifacts' paths, and every attempt's directory). Blocking;
    idempotent: missing files are fine."""
    for path in paths or []:
        (settings.storage_dir / path).unlink(missing_ok=True)
    shutil.rmtree(job_artifacts_dir(settings, job_id), ignore_errors=True)


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
