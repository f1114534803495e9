"""Data in without a shell, through a real server in both modes: an admin registers an
instrument and a datastream, a file goes up through a signed PUT URL and another in a
multipart GraphQL request, the import is followed over a WebSocket, rejected records are
downloaded as a report, and a raw export of the datastream holds exactly the good records
(read back with the standard library)."""

from __future__ import annotations

import csv
import gzip
import io
import json
from typing import Any

import httpx
import pytest

from tests.helpers.clients import GraphQLClient, subscribe
from tests.helpers.environments import GatewayHandle
from tests.helpers.operations import CREATE, FOLLOW, download, read_text_rows

pytestmark = pytest.mark.e2e

DATASTREAM = 9_001
FIRST_TS = 1_800_000_000 * 10**9
REGISTER_INSTRUMENT = """mutation($input: RegisterInstrumentInput!) {
  registerInstrument(input: $input) { instrument { id } userErrors { code field message } } }"""
REGISTER_DATASTREAM = """mutation($input: RegisterDatastreamInput!) {
  registerDatastream(input: $input) { datastream { id } userErrors { code field message } } }"""
CREATE_UPLOAD = """mutation($input: CreateImportUploadInput!) { createImportUpload(input: $input) {
  upload { id url } userErrors { code field message } } }"""
START = """mutation($input: StartImportInput!) { startImport(input: $input) {
  importJob { id status } userErrors { code field message } } }"""
IMPORT_RECORDS = """mutation($input: ImportRecordsInput!) { importRecords(input: $input) {
  importJob { id status } userErrors { code field message } } }"""
FOLLOW_IMPORT = """subscription($id: ID!) { importJobUpdated(id: $id) {
  id status reason progress { bytesRead byteSize recordsRead recordsRejected recordsStored }
  rejectedRecords { url byteSize } } }"""


def record(i: int) -> dict[str, Any]:
    return {"collection_timestamp_ns": FIRST_TS + i * 1_000, "data": {"seq": i, "v": f"{i}.5"}}


@pytest.fixture(scope="module")
def datastream(gateway: GatewayHandle) -> int:
    client = gateway.client()
    instrument = client.execute(
        REGISTER_INSTRUMENT,
        {
            "input": {
                "exchange": "kraken",
                "symbol": "XBTUSD",
                "base": "XBT",
                "quote": "USD",
                "type": "spot",
            }
        },
    )["registerInstrument"]
    assert instrument["userErrors"] == []
    registered = client.execute(
        REGISTER_DATASTREAM,
        {
            "input": {
                "datastreamId": str(DATASTREAM),
                "instrumentId": instrument["instrument"]["id"],
                "streamType": "trades",
                "wireFormat": "custom",
                "source": "files from the desk",
            }
        },
    )["registerDatastream"]
    assert registered["userErrors"] == [], registered
    return DATASTREAM


def follow(gateway: GatewayHandle, job_id: str) -> list[dict[str, Any]]:
    return [
        m["payload"]["data"]["importJobUpdated"]
        for m in subscribe(gateway.gateway.url, gateway.key_a, FOLLOW_IMPORT, {"id": job_id})
    ]


def test_a_signed_upload_is_imported_skipping_bad_records(
    gateway: GatewayHandle, datastream: int
) -> None:
    client = gateway.client()
    lines = [json.dumps(record(i)) for i in range(60_000)]
    lines[99] = '{"collection_timestamp_ns": "soon", "data": {}}'
    lines[4_999] = "not json"
    content = gzip.compress(("\n".join(lines) + "\n").encode())
    upload = client.execute(CREATE_UPLOAD, {"input": {"filename": "desk.jsonl.gz"}})[
        "createImportUpload"
    ]["upload"]
    put = httpx.put(upload["url"], content=content, timeout=60)
    assert put.status_code == 201, put.text
    started = client.execute(
        START,
        {"input": {"uploadId": upload["id"], "datastreamId": str(datastream), "onError": "SKIP"}},
    )["startImport"]
    assert started["userErrors"] == []
    updates = follow(gateway, started["importJob"]["id"])
    final = updates[-1]
    assert final["status"] == "SUCCEEDED", final
    assert all(u["status"] in ("QUEUED", "RUNNING") for u in updates[:-1])
    progress = final["progress"]
    assert int(progress["bytesRead"]) == int(progress["byteSize"]) == len(content)
    assert (
        int(progress["recordsRead"]),
        int(progress["recordsRejected"]),
        int(progress["recordsStored"]),
    ) == (
        60_000,
        2,
        59_998,
    )
    report = httpx.get(final["rejectedRecords"]["url"], timeout=60)
    assert report.status_code == 200
    rows = list(csv.DictReader(io.StringIO(report.text, newline="")))
    assert [(r["line"], r["record"]) for r in rows] == [("100", lines[99]), ("5000", "not json")]
    good = [record(i) for i in range(60_000) if i not in (99, 4_999)]
    assert exported(gateway, datastream, FIRST_TS, FIRST_TS + 60_000 * 1_000) == [
        (r["collection_timestamp_ns"], r["data"]) for r in good
    ]


def test_a_multipart_import_aborts_on_a_bad_line_and_then_succeeds(
    gateway: GatewayHandle, datastream: int
) -> None:
    start = FIRST_TS + 10**12  # after the first test's records
    rows = [(start + i, json.dumps({"seq": i})) for i in range(500)]
    good_csv = "collection_timestamp_ns,data\n" + "".join(
        f'{ts},"{text.replace(chr(34), chr(34) * 2)}"\n' for ts, text in rows
    )
    bad_csv = good_csv.replace(f"{start + 250},", "x,", 1)
    failed = multipart_import(gateway, datastream, "bad.csv", bad_csv.encode())
    assert failed["status"] == "FAILED" and "bad.csv:252" in failed["reason"], failed
    assert exported(gateway, datastream, start, start + 500) == []
    done = multipart_import(gateway, datastream, "good.csv", good_csv.encode())
    assert done["status"] == "SUCCEEDED" and int(done["progress"]["recordsStored"]) == 500, done
    assert exported(gateway, datastream, start, start + 500) == [
        (ts, json.loads(text)) for ts, text in rows
    ]


def multipart_import(
    gateway: GatewayHandle, datastream: int, filename: str, content: bytes
) -> dict[str, Any]:
    operations = {
        "query": IMPORT_RECORDS,
        "variables": {"input": {"datastreamId": str(datastream), "file": None}},
    }
    response = httpx.post(
        gateway.gateway.url + "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": (filename, content, "text/csv")},
        headers={"X-Api-Key": gateway.key_a},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["importRecords"]
    assert payload["userErrors"] == [], payload
    return follow(gateway, payload["importJob"]["id"])[-1]


def exported(
    gateway: GatewayHandle, datastream: int, start_ns: int, end_ns: int
) -> list[tuple[int, Any]]:
    """A raw JSON-lines export of [start_ns, end_ns): (timestamp, message) pairs."""
    client: GraphQLClient = gateway.client()
    created = client.execute(
        CREATE,
        {
            "input": {
                "datastreamId": str(datastream),
                "startTime": str(start_ns),
                "endTime": str(end_ns),
                "format": "JSONL",
                "compression": "NONE",
            }
        },
    )["createExport"]
    assert created["userErrors"] == [], created
    *_, last = subscribe(
        gateway.gateway.url, gateway.key_a, FOLLOW, {"id": created["exportJob"]["id"]}
    )
    final = last["payload"]["data"]["exportJobUpdated"]
    assert final["status"] == "SUCCEEDED", final
    rows: list[tuple[int, Any]] = []
    for artifact in final["artifacts"]:
        for row in read_text_rows("JSONL", download(artifact), gzipped=False):
            data = row["data"]  # raw JSON lines carry the message as an object
            rows.append((int(row["collection_timestamp_ns"]), data))
    return rows
