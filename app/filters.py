"""The activity filters (customer, date range, time zone): parsing and validation.

Plain dates and offset-less datetimes are read in the ``tz`` zone; the result
is a half-open range of instants ``[settled_from, settled_before)`` so the SQL
needs only one comparison per end, whatever form the client sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_CEILING, Decimal
from functools import cache
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, available_timezones

from litestar.exceptions import ValidationException

# RFC 3339 (date-time or full-date), also with a space for "T", without seconds
# or without an offset; the offset-less forms are read in ``tz``.
_DATE_OR_DATETIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[Tt ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?:\.(?P<fraction>\d{1,9}))?"
    r"(?P<offset>[Zz]|[+-]\d{2}:\d{2})?)?"
)
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2})?(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})?)?$"
MAX_TZ_LENGTH = 64
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class ActivityFilter:
    agent_id: int
    customer_id: int | None
    settled_from: datetime | None
    settled_before: datetime | None

    def params(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "customer_id": self.customer_id,
            "settled_from": self.settled_from,
            "settled_before": self.settled_before,
        }


def invalid(name: str, message: str) -> NoReturn:
    raise ValidationException(
        detail=f"Invalid query parameter '{name}': {message}",
        extra=[{"key": name, "message": message, "source": "query"}],
    )


@cache
def _zone_names() -> frozenset[str]:
    # Only the IANA database's own keys: ZoneInfo() alone would also try
    # file paths such as "../x".
    return frozenset(available_timezones())


def parse_zone(name: str) -> tzinfo:
    if name == "UTC":
        return UTC
    if len(name) > MAX_TZ_LENGTH or name not in _zone_names():
        invalid(
            "tz",
            f"unknown time zone {name[:MAX_TZ_LENGTH]!r}; use an IANA name such as "
            "'Europe/London' or 'UTC'",
        )
    return ZoneInfo(name)


@dataclass(frozen=True, slots=True)
class _Parsed:
    value: datetime  # aware: the instant, or the start of the day for a plain date
    is_date: bool


def _parse(name: str, raw: str, zone: tzinfo) -> _Parsed:
    match = _DATE_OR_DATETIME.fullmatch(raw.strip())
    example = "use YYYY-MM-DD or an RFC 3339 datetime such as 2026-11-24T10:05:00Z"
    if match is None:
        invalid(name, f"{raw[:40]!r} is not a date or datetime; {example}")
    try:
        day = date.fromisoformat(match["date"])
        if match["time"] is None:
            return _Parsed(datetime.combine(day, time(0), tzinfo=zone), is_date=True)
        hour, minute, second = (match["time"] + ":00").split(":")[:3]
        clock = time(int(hour), int(minute), int(second))
        offset = match["offset"]
        if offset is None:
            when_zone = zone
        elif offset in ("Z", "z"):
            when_zone = UTC
        else:
            when_zone = datetime.strptime(offset.replace(":", ""), "%z").tzinfo or UTC
        value = datetime.combine(day, clock, tzinfo=when_zone)
    except ValueError as exc:
        invalid(name, f"{raw[:40]!r} is not a valid date or time ({exc}); {example}")
    fraction = match["fraction"]
    if fraction:
        # Sub-microsecond digits: PostgreSQL keeps microseconds, so round
        # date_from up and date_to down to stay inside what the client asked.
        micros = Decimal("0." + fraction) * 1_000_000
        if name == "date_from":
            micros = micros.to_integral_value(rounding=ROUND_CEILING)
        value += timedelta(microseconds=int(micros))
    return _Parsed(value, is_date=False)


_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # Shifted beyond year 1 or 9999: the nearest instant we can express
        # keeps the meaning (before everything, or after everything).
        return _EARLIEST if value.year == 1 else _LATEST


def parse_filter(
    agent_id: int,
    customer_id: int | None,
    date_from: str | None,
    date_to: str | None,
    tz: str,
) -> ActivityFilter:
    zone = parse_zone(tz)
    settled_from = settled_before = None
    if date_from is not None:
        settled_from = _to_utc(_parse("date_from", date_from, zone).value)
    if date_to is not None:
        end = _parse("date_to", date_to, zone)
        try:
            if end.is_date:
                # The whole day, in wall-clock terms (23 or 25 hours on a DST change).
                next_day = end.value.replace(tzinfo=None) + timedelta(days=1)
                settled_before = _to_utc(next_day.replace(tzinfo=end.value.tzinfo))
            else:
                # Inclusive; PostgreSQL's resolution is one microsecond.
                settled_before = _to_utc(end.value) + _MICROSECOND
        except OverflowError:
            settled_before = None  # the end of year 9999: no upper bound
    if settled_from is not None and settled_before is not None and settled_from >= settled_before:
        invalid("date_from", f"{date_from!r} is after date_to {date_to!r}")
    return ActivityFilter(agent_id, customer_id, settled_from, settled_before)


# ---- the daily series' range of calendar days ----------------------------------------

PLAIN_DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_PLAIN_DATE = re.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}")
DEFAULT_DAYS = 30
MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class DayRange:
    """Calendar days ``first..last`` in ``tz``, and where each of them starts.

    ``starts`` holds one instant per day plus the end of the last day: day
    ``i`` is ``[starts[i], starts[i + 1])``, 23 or 25 hours long across a DST
    change. They are computed here, by the rules the list's date filter uses
    (``parse_filter``), and not by the database's own time-zone data, which
    can be older than ours (PostgreSQL 18.4's still has Vancouver changing to
    standard time in November 2026; tzdata 2025 does not): so a day of the
    series adds up exactly what the list totals for that day.
    """

    tz: str
    first: date
    last: date
    starts: tuple[datetime, ...]

    @property
    def days(self) -> int:
        return len(self.starts) - 1


def _plain_date(name: str, raw: str) -> date:
    if _PLAIN_DATE.fullmatch(raw) is None:
        invalid(name, f"{raw[:40]!r} is not a plain date; use YYYY-MM-DD")
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        invalid(name, f"{raw!r} is not a calendar date ({exc}); use YYYY-MM-DD")


def _day_start(ordinal: int, zone: tzinfo) -> datetime:
    if ordinal > date.max.toordinal():
        return _LATEST  # the end of 9999-12-31: nothing is later
    return _to_utc(datetime.combine(date.fromordinal(ordinal), time(0), tzinfo=zone))


def parse_day_range(
    date_from: str | None, date_to: str | None, tz: str, now: datetime | None = None
) -> DayRange:
    """``date_to`` defaults to today in ``tz``; ``date_from`` to 30 days ending at ``date_to``."""
    zone = parse_zone(tz)
    first = None if date_from is None else _plain_date("date_from", date_from)
    if date_to is not None:
        last = _plain_date("date_to", date_to)
    else:
        last = (now or datetime.now(UTC)).astimezone(zone).date()
    if first is None:
        first = date.fromordinal(max(1, last.toordinal() - (DEFAULT_DAYS - 1)))
    if first > last:
        invalid("date_from", f"{first.isoformat()!r} is after date_to {last.isoformat()!r}")
    days = last.toordinal() - first.toordinal() + 1
    if days > MAX_DAYS:
        invalid(
            "date_from",
            f"{first.isoformat()}..{last.isoformat()} is {days} days; at most {MAX_DAYS}",
        )
    ordinals = range(first.toordinal(), last.toordinal() + 2)
    return DayRange(tz, first, last, tuple(_day_start(n, zone) for n in ordinals))
