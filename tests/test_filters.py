"""Parsing of the activity filters (pure functions; the HTTP behaviour is in test_activity)."""

from datetime import UTC, datetime

import pytest
from litestar.exceptions import ValidationException

from app.filters import parse_filter


def bounds(date_from=None, date_to=None, tz="UTC"):
    flt = parse_filter(1, None, date_from, date_to, tz)
    return flt.settled_from, flt.settled_before


def test_plain_dates_are_a_half_open_day_range_in_the_zone():
    assert bounds("2026-11-20", "2026-11-20", "Asia/Kolkata") == (
        datetime(2026, 11, 19, 18, 30, tzinfo=UTC),
        datetime(2026, 11, 20, 18, 30, tzinfo=UTC),
    )


def test_datetime_end_is_inclusive_to_the_microsecond():
    assert bounds(date_to="2026-11-20T10:00:00Z")[1] == datetime(
        2026, 11, 20, 10, 0, 0, 1, tzinfo=UTC
    )


def test_sub_microsecond_digits_stay_inside_the_requested_range():
    start, end = bounds("2026-11-20T10:00:00.0000001Z", "2026-11-20T10:00:00.0000019Z")
    assert start == datetime(2026, 11, 20, 10, 0, 0, 1, tzinfo=UTC)
    assert end == datetime(2026, 11, 20, 10, 0, 0, 2, tzinfo=UTC)


def test_lowercase_separator_space_and_missing_seconds_are_accepted():
    assert bounds("2026-11-20t10:00z")[0] == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert bounds("2026-11-20 10:00:30", tz="Europe/Paris")[0] == datetime(
        2026, 11, 20, 9, 0, 30, tzinfo=UTC
    )


def test_ends_beyond_the_calendar_keep_their_meaning():
    # Start of year 1 in Tokyo is before everything; 9999-12-31 has no end.
    assert bounds("0001-01-01", "9999-12-31", "Asia/Tokyo") == (
        datetime.min.replace(tzinfo=UTC),
        None,
    )
    # A start after the end of year 9999 UTC matches nothing rather than everything.
    assert bounds("9999-12-31T23:00:00-05:00")[0] == datetime.max.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (("2026-11-21", "2026-11-20"), "date_from"),
        (("2026-11-20T10:00:00.000001Z", "2026-11-20T10:00:00Z"), "date_from"),
        (("2026-13-01", None), "date_from"),
        ((None, "2026-11-20T24:00:00Z"), "date_to"),
        ((None, None, "Not/AZone"), "tz"),
    ],
)
def test_invalid_values_name_the_parameter(args, name):
    with pytest.raises(ValidationException) as info:
        bounds(*args)
    assert info.value.extra[0]["key"] == name
    assert f"'{name}'" in info.value.detail
