"""Billing days and periods in a plan's time zone (clause 4.4), cached until they roll over.

A limit check asks for the current day and quota period on every request; both change once a day
at most, so each zone keeps its answer with the instant it stops being true and recomputes only
after it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY = 86_400.0


def zone(name: str) -> ZoneInfo:
    """The plan's time zone; UTC when the name is unknown (a bad plan must not stop the gateway)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class Period:
    """A day or a quota period: bucket names (newest first), when it resets, and its length."""

    __slots__ = ("buckets", "ends", "seconds")

    def __init__(self, buckets: tuple[str, ...], ends: float, seconds: int) -> None:
        self.buckets = buckets
        self.ends = ends
        self.seconds = seconds


def _midnight(day: datetime) -> datetime:
    return day.replace(hour=0, minute=0, second=0, microsecond=0)


def _day(tz: ZoneInfo, now: float) -> tuple[datetime, datetime]:
    start = _midnight(datetime.fromtimestamp(now, tz))
    # Through the naive date, so a day with a summer-time change is 23 or 25 hours long.
    following = (start.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=tz)
    return start, following


class ZoneCalendar:
    """Days, calendar months and rolling periods of one time zone."""

    __slots__ = ("_day", "_month", "_rolling", "tz")

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._day: Period | None = None
        self._month: Period | None = None
        self._rolling: dict[int, Period] = {}

    def day(self, now: float) -> Period:
        period = self._day
        if period is None or now >= period.ends:
            start, end = _day(self.tz, now)
            seconds = round(end.timestamp() - start.timestamp())
            period = self._day = Period((start.strftime("%Y%m%d"),), end.timestamp(), seconds)
        return period

    def month(self, now: float) -> Period:
        period = self._month
        if period is None or now >= period.ends:
            start = _midnight(datetime.fromtimestamp(now, self.tz)).replace(day=1)
            year, month = (
                (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
            )
            end = start.replace(year=year, month=month)
            seconds = round(end.timestamp() - start.timestamp())
            period = self._month = Period((start.strftime("%Y%m"),), end.timestamp(), seconds)
        return period

    def rolling(self, days: int, now: float) -> Period:
        """The last `days` days, today first; it frees budget when the oldest day leaves it."""
        period = self._rolling.get(days)
        if period is None or now >= period.ends:
            start, end = _day(self.tz, now)
            naive = start.replace(tzinfo=None)
            buckets = tuple(
                (naive - timedelta(days=back)).strftime("%Y%m%d") for back in range(days)
            )
            period = self._rolling[days] = Period(buckets, end.timestamp(), days * int(DAY))
        return period


_calendars: dict[str, ZoneCalendar] = {}


def calendar(name: str) -> ZoneCalendar:
    """One calendar per zone name for the whole process."""
    found = _calendars.get(name)
    if found is None:
        found = _calendars[name] = ZoneCalendar(zone(name))
    return found


def bucket_bounds(tz: ZoneInfo, bucket: str) -> tuple[datetime, datetime]:
    """The instants a day ("YYYYMMDD") or month ("YYYYMM") bucket starts and ends."""
    year, month = int(bucket[:4]), int(bucket[4:6])
    if len(bucket) == 8:
        start = datetime(year, month, int(bucket[6:8]), tzinfo=tz)
        naive = start.replace(tzinfo=None) + timedelta(days=1)
        return start, naive.replace(tzinfo=tz)
    start = datetime(year, month, 1, tzinfo=tz)
    following = (year + 1, 1) if month == 12 else (year, month + 1)
    return start, datetime(*following, 1, tzinfo=tz)
