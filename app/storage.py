"""Where segments and artifacts live, and signed, expiring download URLs for artifacts."""

from __future__ import annotations

import hashlib
import hmac
import shutil
import time
from pathlib import Path
from urllib.parse import quote

from app.config import Settings


def segment_dir(settings: Settings, datastream_id: int) -> Path:
    return settings.storage_dir / "segments" / str(datastream_id)


def artifact_dir(settings: Settings, job_id: str, attempt_token: str) -> Path:
    # One directory per attempt: a duplicate delivery never writes over the winner's files.
    return settings.storage_dir / "artifacts" / job_id / attempt_token


def job_artifacts_dir(settings: Settings, job_id: str) -> Path:
    """Every attempt's directory of one job."""
    return settings.storage_dir / "artifacts" / job_id


def remove_job_files(settings: Settings, job_id: str, paths: list[str] | None = None) -> None:
    """Delete a job's files (its artifacts' paths, and every attempt's directory). Blocking;
    idempotent: missing files are fine."""
    for path in paths or []:
        (settings.storage_dir / path).unlink(missing_ok=True)
    shutil.rmtree(job_artifacts_dir(settings, job_id), ignore_errors=True)


def _signature(key: bytes, artifact_id: str, expires: int) -> str:
    message = f"{artifact_id}:{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def signed_path(
    settings: Settings, artifact_id: str, filename: str, now: float | None = None
) -> tuple[str, int]:
    """The URL path (with query) and its expiry in epoch seconds."""
    expires = int((now if now is not None else time.time()) + settings.download_ttl_seconds)
    sig = _signature(settings.download_signing_key(), artifact_id, expires)
    return f"/downloads/{artifact_id}/{quote(filename)}?expires={expires}&signature={sig}", expires


def verify_signature(settings: Settings, artifact_id: str, expires: str, signature: str) -> bool:
    try:
        expiry = int(expires)
    except ValueError:
        return False
    expected = _signature(settings.download_signing_key(), artifact_id, expiry)
    return hmac.compare_digest(expected, signature) and expiry > time.time()
