"""What must hold after a chaos run, read from the database and the storage directory
themselves: each export's files are those of an undisturbed run of the same request (SHA-256,
names with the job id set aside), every listed file is whole and listed once, nothing else is
left in the job's directory, a manifest agrees with the files, and fsck finds the catalog and
the storage in agreement.

Every file is compared byte for byte, gzip files too: in two early runs a gzip member came out
a byte or two longer than the undisturbed run's, with the same content, because ISA-L, the
compressor then, did not always give the same bytes for the same input in worker processes.
The engine compresses with zlib-ng now, and a retried job must keep its sha256."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from tests.helpers.chaos.cluster import Cluster
from tests.helpers.processes import run_cli

# (name with the job id replaced, SHA-256 of the content with the job id replaced, rows)
Signature = list[tuple[str, str, int]]


def _artifacts(cluster: Cluster, job_id: str) -> list[tuple[str, str, int, int, str, bool]]:
    return [
        (str(r[0]), str(r[1]), int(r[2]), int(r[3]), str(r[4]), bool(r[5]))
        for r in cluster.rows(
            "select filename, path, byte_size, row_count, sha256, partial "
            "from export_artifacts where job_id = %s order by filename",
            job_id,
        )
    ]


def published_files(cluster: Cluster, job_id: str) -> Signature:
    """The job's listed files, each checked whole against its catalog entry (size, SHA-256
    of the bytes on disk), with a manifest checked against the files it lists; and nothing
    in the job's directory that is not listed (no second copy, no dead attempt's files)."""
    storage = cluster.data_dir / "storage"
    listed = _artifacts(cluster, job_id)
    assert listed, f"{job_id} lists no files"
    signature: Signature = []
    by_name = {a[0]: a for a in listed}
    for filename, path, size, rows, sha256, partial in listed:
        content = (storage / path).read_bytes()
        assert not partial, f"{job_id}: {filename} is partial"
        assert len(content) == size, f"{job_id}: {filename} is {len(content)} bytes, not {size}"
        assert hashlib.sha256(content).hexdigest() == sha256, f"{job_id}: {filename} is torn"
        if filename.endswith("manifest.json"):
            _check_manifest(job_id, json.loads(content), by_name)
        comparable = content.replace(job_id.encode(), b"<job>")
        signature.append(
            (filename.replace(job_id, "<job>"), hashlib.sha256(comparable).hexdigest(), rows)
        )
    on_disk = sorted(
        str(p.relative_to(storage))
        for p in (storage / "artifacts" / job_id).rglob("*")
        if p.is_file()
    )
    assert on_disk == sorted(a[1] for a in listed), f"{job_id}: {on_disk} on disk"
    return sorted(signature)


def _check_manifest(job_id: str, manifest: dict[str, Any], by_name: dict[str, Any]) -> None:
    files = manifest["files"]
    assert len(files) == len(by_name) - 1, f"{job_id}: the manifest lists {len(files)} files"
    for entry in files:
        _name, _path, size, rows, sha256, _partial = by_name[entry["filename"]]
        assert (entry["byteSize"], entry["rowCount"], entry["sha256"]) == (size, rows, sha256)
    assert manifest["rowCount"] == sum(entry["rowCount"] for entry in files)


def difference(cluster: Cluster, job_id: str, expected_job_id: str) -> str:
    """Where a job's files part from those of the same request run before: for a failure's
    message."""
    storage = cluster.data_dir / "storage"
    mine, theirs = _artifacts(cluster, job_id), _artifacts(cluster, expected_job_id)
    lines = [f"{job_id} vs {expected_job_id}: {len(mine)} files vs {len(theirs)}"]
    for a, b in zip(mine, theirs, strict=False):
        left, right = (_text(storage / a[1]), _text(storage / b[1]))
        at = next(
            (i for i, (x, y) in enumerate(zip(left, right, strict=False)) if x != y),
            min(len(left), len(right)),
        )
        lines.append(
            f"{a[0]}: {a[3]} rows vs {b[3]}, {len(left)} vs {len(right)} lines, first "
            f"difference at line {at}: {left[at : at + 2]!r} vs {right[at : at + 2]!r}"
        )
    return "\n".join(lines)


def _text(path: Path) -> list[bytes]:
    content = path.read_bytes()
    if content[:2] == b"\x1f\x8b":
        content = gzip.decompress(content)
    return content.splitlines()


def import_reports(cluster: Cluster, job_id: str) -> list[str]:
    """The lines of an import's rejected-records report, checked whole and alone in the
    job's directory."""
    storage = cluster.data_dir / "storage"
    [(path, size)] = cluster.rows(
        "select report_path, report_byte_size from import_jobs where id = %s", job_id
    )
    assert path is not None, f"{job_id} has no report"
    report = storage / path
    assert report.stat().st_size == size, f"{job_id}: its report is torn"
    on_disk = [p for p in (storage / "imports" / job_id).rglob("*") if p.is_file()]
    assert on_disk == [report], f"{job_id}: {on_disk}"
    return [line.split(",", 1)[0] for line in report.read_text().splitlines()[1:]]


def gateways_logged_no_bug(cluster: Cluster) -> None:
    """No request met an unexpected error (masked as INTERNAL_SERVER_ERROR) and nothing
    escaped to the server (an HTTP 500, a WebSocket closed with 1011)."""
    for gateway in cluster.gateways:
        text = gateway.log_path.read_text(errors="replace")
        for sign in ("unexpected error", "Exception in ASGI application"):
            at = text.find(sign)
            assert at < 0, f"{gateway.log_path.name}:\n{text[max(0, at - 200) : at + 3000]}"


# What a SIGKILLed writer may leave: a segment file written before its catalog row was
# committed (an import killed mid-file). fsck reports it and leaves it while it is young; the
# sweeper deletes it after the grace period. Anything else is a defect.
KILLED_WRITERS_LEFTOVERS = {"orphan-segment"}


def fsck_is_clean(cluster: Cluster) -> None:
    result = run_cli(cluster.env, "fsck", "--checksums", check=False)
    if result.returncode == 0:
        return
    # The findings' table: a row's first cell is its kind (continuation lines leave it empty).
    kinds = set(re.findall(r"^│ (\S+)", result.stdout, flags=re.MULTILINE))
    assert kinds and kinds <= KILLED_WRITERS_LEFTOVERS, f"fsck:\n{result.stdout}\n{result.stderr}"


def imported_rows(cluster: Cluster, datastream_id: int) -> int:
    """Rows the catalog holds for a datastream (compaction keeps the sum)."""
    [(total,)] = cluster.rows(
        "select coalesce(sum(row_count), 0) from segments "
        "where datastream_id = %s and retired_at is null",
        datastream_id,
    )
    return int(total)
