"""The maintenance calendar (clause 8) as a pure function of its rules and exceptions.

A weekly rule is evaluated in its own time zone: each occurrence's local wall time (Wednesday
20:00 Europe/Amsterdam) is fixed first and only then converted to UTC, so the window is 19:00 UTC
in winter and 18:00 UTC in summer. Exceptions cancel one occurrence, move it (new start and
duration) or add an extra window; all times they hold are UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from termgate.strict import whole_number

WEEKLY, MOVED, EXTRA = "weekly", "moved", "extra"
WEEKLY_REASON = "Weekly planned update (clause 8)"
MAX_DURATION_MINUTES = 24 * 60


class Rule(Protocol):
    """What `windows` reads of a `MaintenanceRule`."""

    @property
    def weekday(self) -> int: ...
    @property
    def start_time(self) -> str: ...
    @property
    def duration_minutes(self) -> int: ...
    @property
    def time_zone(self) -> str: ...
    @property
    def active(self) -> bool: ...


class Change(Protocol):
    """What `windows` reads of a `MaintenanceException`."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def original_start(self) -> datetime | None: ...
    @property
    def start(self) -> datetime | None: ...
    @property
    def duration_minutes(self) -> int | None: ...
    @property
    def reason(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Window:
    """One maintenance window in UTC; `uid` stays the same for the same occurrence (a moved
    occurrence keeps the uid of the weekly one it replaces, so calendars update it)."""

    start: datetime
    end: datetime
    reason: str
    kind: str
    uid: str

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def seconds_left(self, moment: datetime) -> int:
        return max(1, int((self.end - moment).total_seconds() + 0.999))


def parse_time(text: str) -> time:
    """ "HH:MM" on a 24-hour clock; ValueError otherwise."""
    hours_text, _, minutes_text = text.partition(":")
    hours, minutes = whole_number(hours_text), whole_number(minutes_text)
    if hours is None or minutes is None or len(minutes_text) != 2 or len(hours_text) > 2:
        raise ValueError(f"{text[:32]!r} is not a time of day as HH:MM")
    return time(hours, minutes)


def occurrence_uid(original_start: datetime) -> str:
    return f"weekly-{original_start.astimezone(UTC):%Y%m%dT%H%M%SZ}@termgate"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def weekly_starts(rule: Rule, start: datetime, end: datetime) -> list[datetime]:
    """UTC starts of the rule's occurrences whose window overlaps [start, end)."""
    zone = ZoneInfo(rule.time_zone)
    at = parse_time(rule.start_time)
    length = timedelta(minutes=rule.duration_minutes)
    first: date = start.astimezone(zone).date() - timedelta(days=2)
    last: date = end.astimezone(zone).date() + timedelta(days=1)
    first += timedelta(days=(rule.weekday - first.weekday()) % 7)
    starts: list[datetime] = []
    day = first
    while day <= last:
        utc_start = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
        if utc_start < end and utc_start + length > start:
            starts.append(utc_start)
        day += timedelta(days=7)
    return starts


def windows(
    rules: Iterable[Rule], exceptions: Iterable[Change], start: datetime, end: datetime
) -> list[Window]:
    """Every window overlapping [start, end), by start time (UTC datetimes)."""
    start, end = _utc(start), _utc(end)
    changes = list(exceptions)
    replaced = {
        _utc(change.original_start)
        for change in changes
        if change.kind in ("cancel", "move") and change.original_start is not None
    }
    found: list[Window] = []
    default_minutes = 60
    for rule in rules:
        if not rule.active:
            continue
        default_minutes = rule.duration_minutes
        length = timedelta(minutes=rule.duration_minutes)
        for occurrence in weekly_starts(rule, start, end):
            if occurrence not in replaced:
                uid = occurrence_uid(occurrence)
                found.append(Window(occurrence, occurrence + length, WEEKLY_REASON, WEEKLY, uid))
    for change in changes:
        if change.kind not in ("move", "extra") or change.start is None:
            continue
        begins = _utc(change.start)
        if begins >= end:  # before adding the duration: a start near year 9999 would overflow
            continue
        ends = begins + timedelta(minutes=change.duration_minutes or default_minutes)
        if ends <= start:
            continue
        if change.kind == "move":
            original = change.original_start
            uid = occurrence_uid(_utc(original)) if original else f"moved-{change.id}@termgate"
            reason = change.reason or "Weekly planned update, moved (clause 8)"
            found.append(Window(begins, ends, reason, MOVED, uid))
        else:
            reason = change.reason or "Extra planned maintenance (clause 8)"
            found.append(Window(begins, ends, reason, EXTRA, f"extra-{change.id}@termgate"))
    found.sort(key=lambda window: (window.start, window.end))
    return found


def window_at(rules: Iterable[Rule], exceptions: Iterable[Change], now: datetime) -> Window | None:
    """The window `now` falls in (the one ending last if several overlap), or None."""
    now = _utc(now)
    current = [w for w in windows(rules, exceptions, now, now + timedelta(microseconds=1))]
    inside = [window for window in current if window.contains(now)]
    return max(inside, key=lambda window: window.end) if inside else None


def merged(found: Sequence[Window]) -> list[tuple[datetime, datetime]]:
    """The periods in which some window is open: overlapping or touching windows joined."""
    periods: list[tuple[datetime, datetime]] = []
    for window in sorted(found, key=lambda w: w.start):
        if periods and window.start <= periods[-1][1]:
            periods[-1] = (periods[-1][0], max(periods[-1][1], window.end))
        else:
            periods.append((window.start, window.end))
    return periods
