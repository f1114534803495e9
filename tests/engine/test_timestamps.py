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


@pytest.mark.parametrize(
    "hostile",
    [
        "2024-01-15T10:00:00+99:99",  # an offset that is no time of day
        "2024-01-15T10:00:00+24:00",
        "2024-01-15T10:00:00+05:60",
        "２０２４-01-15T10:00:00Z",  # full-width digits  # noqa: RUF001
        "2024-01-15T10:00:00.１Z",  # noqa: RUF001
        "170531280012345678９",  # noqa: RUF001
        "²",
        " 1705312800123456789",
        "1705312800123456789 ",
        "1_705_312_800_123_456_789",
        "9" * 4301,  # past Python's int() digit limit: refused before any conversion
        "-" + "9" * 19,
    ],
)
def test_parse_is_strict(hostile: str) -> None:
    with pytest.raises(TimestampError):
        parse_timestamp(hostile)


def test_offsets_up_to_a_day_are_fine() -> None:
    assert parse_timestamp("2024-01-15T23:59:00+23:59") == parse_timestamp("2024-01-15T00:00Z")
