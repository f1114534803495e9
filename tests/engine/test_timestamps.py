import pytest

from engine.timestamps import TimestampError, format_timestamp, parse_timestamp


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("2024-01-15T10:00:00.123456789Z", 1705312800123456789),
        ("2024-01-15T10:00:00Z", 1705312800000000000),
        ("2024-01-15T10:00:00.1Z", 1705312800100000000),
        ("2024-01-15T11:00:00.000000001+01:00", 1705312800000000001),
        ("2024-01-15T10:00:00", 1705312800000000000),
        ("2024-01-15", 1705276800000000000),
        ("1705312800123456789", 1705312800123456789),
        (1705312800123456789, 1705312800123456789),
        ("1970-01-01T00:00:00Z", 0),
    ],
)
def test_parse(text: object, ns: int) -> None:
    assert parse_timestamp(text) == ns


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "yesterday",
        "2024-13-01T00:00:00Z",
        "2024-01-15T10:00:00.1234567891Z",
        True,
        None,
        1.5,
        "9" * 30,
        [1],
    ],
)
def test_parse_rejects(bad: object) -> None:
    with pytest.raises(TimestampError):
        parse_timestamp(bad)


@pytest.mark.parametrize("ns", [0, 1, 1705312800123456789, 2**63 - 1, -1])
def test_format_round_trips(ns: int) -> None:
    assert parse_timestamp(format_timestamp(ns)) == ns
    assert format_timestamp(1705312800123456789) == "2024-01-15T10:00:00.123456789Z"
