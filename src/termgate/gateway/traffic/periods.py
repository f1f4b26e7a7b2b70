"""Billing days and periods in a plan's time zone (clause 4.4), cached while they hold.

A limit check asks for the current day and quota period on every request; both change once a day
at most, so each zone keeps its answer with the instants it holds between and recomputes only
outside them, and each plan keeps its pair (`PlanPeriods`) the same way.
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
    """A day or a quota period: bucket names (newest first), when it resets, and its length;
    `starts`: the instant its buckets became current (a rolling period's: today's start)."""

    __slots__ = ("buckets", "ends", "seconds", "starts")

    def __init__(self, buckets: tuple[str, ...], starts: float, ends: float, seconds: int) -> None:
        self.buckets = buckets
        self.starts = starts
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
        if period is None or not period.starts <= now < period.ends:
            start, end = _day(self.tz, now)
            starts, ends = start.timestamp(), end.timestamp()
            period = self._day = Period(
                (start.strftime("%Y%m%d"),), starts, ends, round(ends - starts)
            )
        return period

    def month(self, now: float) -> Period:
        period = self._month
        if period is None or not period.starts <= now < period.ends:
            start = _midnight(datetime.fromtimestamp(now, self.tz)).replace(day=1)
            year, month = (
                (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
            )
            starts, ends = start.timestamp(), start.replace(year=year, month=month).timestamp()
            period = self._month = Period(
                (start.strftime("%Y%m"),), starts, ends, round(ends - starts)
            )
        return period

    def rolling(self, days: int, now: float) -> Period:
        """The last `days` days, today first; it frees budget when the oldest day leaves it."""
        period = self._rolling.get(days)
        if period is None or not period.starts <= now < period.ends:
            start, end = _day(self.tz, now)
            naive = start.replace(tzinfo=None)
            buckets = tuple(
                (naive - timedelta(days=back)).strftime("%Y%m%d") for back in range(days)
            )
            period = self._rolling[days] = Period(
                buckets, start.timestamp(), end.timestamp(), days * int(DAY)
            )
        return period


class CurrentPeriods:
    """A plan's day and quota period at some instant, and the span both hold over."""

    __slots__ = ("day", "quota", "since", "until")

    def __init__(self, day: Period, quota: Period) -> None:
        self.day = day
        self.quota = quota
        self.since = max(day.starts, quota.starts)
        self.until = min(day.ends, quota.ends)


NO_PERIOD = Period(("",), 0.0, 0.0, 0)


class PlanPeriods:
    """One plan's current day and quota period: a request inside the span they hold over costs
    one comparison (`at`) instead of a calendar look-up per period and per use. They are
    replaced in one assignment, so a reader never sees a day of one span with another's."""

    __slots__ = ("current", "rolling_days", "zone")

    def __init__(self, zone: str, rolling_days: int | None) -> None:
        self.zone = zone
        self.rolling_days = rolling_days
        self.current = CurrentPeriods(NO_PERIOD, NO_PERIOD)

    def at(self, now: float) -> CurrentPeriods:
        current = self.current
        if not current.since <= now < current.until:
            clock = calendar(self.zone)
            days = self.rolling_days
            quota = clock.month(now) if days is None else clock.rolling(days, now)
            current = self.current = CurrentPeriods(clock.day(now), quota)
        return current


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
