"""Prefixed, opaque, time-ordered identifiers (`exp_<32 hex>` ...)."""

from __future__ import annotations

import os
import re
import time

PREFIXES = {
    "export_job": "exp",
    "artifact": "art",
    "segment": "seg",
    "workspace": "wsp",
    "api_key": "key",
    "export_schema": "sch",
    "ingested_file": "ing",
    "collection_subscription": "sub",
    "collection_span": "spn",
    "import_job": "imp",
    "import_upload": "upl",
    "export_schedule": "rec",
    "export_schedule_run": "rrn",
    "webhook": "whk",
    "email_notification": "eml",
    "notification_event": "evt",
    "notification_delivery": "dlv",
}

_ID_RE = re.compile(r"^(?P<prefix>[a-z]{2,4})_(?P<hex>[0-9a-f]{32})$")


def uuid7_hex() -> str:
    """A UUIDv7 (RFC 9562) as 32 lowercase hex digits: sorts by creation time."""
    millis = time.time_ns() // 1_000_000
    value = (millis & ((1 << 48) - 1)) << 80
    value |= int.from_bytes(os.urandom(10), "big") & ((1 << 80) - 1)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return f"{value:032x}"


def new_id(kind: str) -> str:
    return f"{PREFIXES[kind]}_{uuid7_hex()}"


def id_prefix(value: str) -> str | None:
    match = _ID_RE.match(value)
    return match.group("prefix") if match else None
