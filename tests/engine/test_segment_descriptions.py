"""Self-describing segments: the label a writer gives is read back from the file's footer with
the range and row count writing established, a merge describes the merged file (level, what
it replaced) and not its inputs, records read from a segment do not carry the description,
and a description that cannot be trusted is refused, never misread."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from engine.export_schema import compile_schema
from engine.logical import SourceContext
from engine.segment_meta import (
    DESCRIPTION_KEY,
    DescriptionError,
    ExchangeIdentity,
    InstrumentIdentity,
    SegmentLabel,
    StreamIdentity,
    read_footer,
)
from engine.segments import merge_segments, records_table, scan, write_segment
from engine.shred import shredder_for
from tests.engine.schema_helpers import builtin

STREAM = StreamIdentity(
    id=101,
    stream_type="trades",
    wire_format="binance.trade",
    source="wss://stream.binance.com/ws/btcusdt@trade",
    created_at=1_700_000_000_000_000_000,
    exchange=ExchangeIdentity(code="binance", display_name="Binance"),
    instrument=InstrumentIdentity(id=7, symbol="BTCUSDT", base="BTC", quote="USDT", type="spot"),
)
CONTEXT = SourceContext("binance", "BTCUSDT", 101, "spot", "binance.trade")


def label(segment_id: str, **changes: object) -> SegmentLabel:
    values: dict[str, object] = {"segment_id": segment_id, "created_at": 5, "stream": STREAM}
    return SegmentLabel.model_validate(values | changes)


def trade(index: int) -> str:
    data = {"e": "trade", "E": 1, "s": "BTCUSDT", "t": index, "p": "1.5", "q": "2", "T": 1}
    return json.dumps({"stream": "btcusdt@trade", "data": data | {"m": False, "M": True}})


def test_a_written_segment_reads_back_its_label_range_rows_and_decode_key(
    tmp_path: Path,
) -> None:
    shredder = shredder_for(compile_schema(builtin("normalized"), CONTEXT))
    assert shredder is not None
    table = records_table([(30, trade(3)), (10, trade(1)), (20, trade(2))])
    write_segment(table, tmp_path / "seg.parquet", shredder, label("seg_a"))

    footer = read_footer(tmp_path / "seg.parquet")
    assert footer.description is not None
    assert footer.description.label == label("seg_a")
    assert (footer.description.first_ts, footer.description.last_ts) == (10, 30)
    assert footer.description.row_count == footer.row_count == 3
    assert footer.decoded_key == shredder.key  # the decoded column's key is there too
    stored = json.loads(pq.read_metadata(tmp_path / "seg.parquet").metadata[DESCRIPTION_KEY])
    assert stored["format"] == 1 and stored["label"]["stream"]["instrument"]["id"] == 7


def test_a_merge_describes_the_merged_file_and_scans_carry_no_description(
    tmp_path: Path,
) -> None:
    first = write_segment(
        records_table([(1, "{}"), (5, "{}")]), tmp_path / "a.parquet", label=label("seg_a")
    )
    second = write_segment(records_table([(3, "{}")]), tmp_path / "b.parquet")  # an old one
    merged_label = label("seg_m", level=1, replaces=("a.parquet", "b.parquet"), created_at=9)
    merge_segments([first, second], tmp_path / "m.parquet", label=merged_label)

    footer = read_footer(tmp_path / "m.parquet")
    assert footer.description is not None and footer.description.label == merged_label
    assert (footer.description.first_ts, footer.description.last_ts) == (1, 5)
    assert footer.description.row_count == footer.row_count == 3
    assert read_footer(tmp_path / "b.parquet").description is None
    for batch in scan([first], 0, 10):
        assert DESCRIPTION_KEY not in (batch.schema.metadata or {})


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        (b"not json", "not a JSON object"),
        (b'{"format": 2, "anything": true}', "format 2, not known"),
        (b'{"format": 1, "label": {}}', "not readable"),
    ],
)
def test_a_description_that_cannot_be_trusted_is_refused(
    tmp_path: Path, stored: bytes, message: str
) -> None:
    table = records_table([(1, "{}")]).replace_schema_metadata({DESCRIPTION_KEY: stored})
    pq.write_table(table, tmp_path / "bad.parquet")
    with pytest.raises(DescriptionError, match=message):
        read_footer(tmp_path / "bad.parquet")
