"""An S3-compatible object store for the tests: moto's server, on a free port, in a thread
of the test process (gateways and workers the tests start reach it over HTTP too)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pyarrow.fs as pafs
import pytest
from moto.server import ThreadedMotoServer

from tests.helpers.processes import free_port

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test-access-key",
    "AWS_SECRET_ACCESS_KEY": "test-secret-key",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",  # no instance metadata lookups from the AWS SDKs
}


@dataclass(frozen=True)
class ObjectStore:
    endpoint_url: str
    bucket: str

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=CREDENTIALS["AWS_REGION"],
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def filesystem(self) -> pafs.S3FileSystem:
        return pafs.S3FileSystem(
            access_key=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            secret_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region=CREDENTIALS["AWS_REGION"],
            endpoint_override=self.endpoint_url.removeprefix("http://"),
            scheme="http",
            allow_delayed_open=True,
        )

    def env(self, prefix: str = "gateway", downloads: str = "presigned") -> dict[str, str]:
        """The settings (and credentials) that keep a gateway's files in this bucket."""
        return {
            "STORAGE_URL": f"s3://{self.bucket}/{prefix}",
            "STORAGE_S3_ENDPOINT_URL": self.endpoint_url,
            "STORAGE_DOWNLOADS": downloads,
            **CREDENTIALS,
        }

    def keys(self, prefix: str = "") -> list[str]:
        """Every object's key under `prefix`."""
        pages = (
            self.client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=prefix)
        )
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


@contextmanager
def object_store() -> Iterator[ObjectStore]:
    """A fresh moto server with one empty bucket."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        store = ObjectStore(f"http://127.0.0.1:{port}", f"bucket-{uuid.uuid4().hex[:8]}")
        store.client().create_bucket(Bucket=store.bucket)
        yield store
    finally:
        server.stop()


@contextmanager
def object_store_in_env() -> Iterator[ObjectStore]:
    """`object_store()` with its credentials in this process's environment, where the
    standard AWS chain of an in-process gateway or worker reads them."""
    with pytest.MonkeyPatch.context() as env, object_store() as started:
        for name, value in CREDENTIALS.items():
            env.setenv(name, value)
        yield started


def upload_storage(store: ObjectStore, storage_dir: Path, prefix: str) -> None:
    """Copy a local storage directory's segments into the bucket under `prefix` (the way an
    operator moves an existing store: the catalog's keys stay the same)."""
    pafs.copy_files(
        str(storage_dir / "segments"),
        f"{store.bucket}/{prefix}/segments",
        source_filesystem=pafs.LocalFileSystem(),
        destination_filesystem=store.filesystem(),
    )
