"""The lifecycle of an export job and the formats it can write."""

from __future__ import annotations

from enum import Enum


class JobStatus(str, Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"  # succeeded, then its files were deleted after the retention period

    @property
    def terminal(self) -> bool:
        return self in (
            JobStatus.SUCCEEDED,
            JobStatus.FAILED,
            JobStatus.CANCELED,
            JobStatus.EXPIRED,
        )


ACTIVE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


FORMATS = ("CSV", "PARQUET", "JSONL")


COMPRESSIONS = ("NONE", "GZIP", "ZSTD")
