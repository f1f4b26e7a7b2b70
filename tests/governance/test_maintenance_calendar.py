"""Clause 8: the weekly window in Europe/Amsterdam across summer time, and its exceptions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from termgate.governance.maintenance import (
    EXTRA,
    MOVED,
    WEEKLY,
    merged,
    window_at,
    windows,
)


@dataclass
class Rule:
    weekday: int = 2
    start_time: str = "20:00"
    duration_minutes: int = 60
    time_zone: str = "Europe/Amsterdam"
    active: bool = True


@dataclass
class Change:
    id: str
    kind: str
    original_start: datetime | None = None
    start: datetime | None = None
    duration_minutes: int | None = None
    reason: str = ""


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_clause_8_last_wednesday_of_march_is_before_summer_time_and_april_after() -> None:
    # 2026: summer time starts on Sunday 29 March; Wednesday 25 March is still winter time.
    found = windows([Rule()], [], utc(2026, 3, 20), utc(2026, 4, 6))
    assert [(w.start, w.end) for w in found] == [
        (utc(2026, 3, 25, 19), utc(2026, 3, 25, 20)),  # 20:00 CET = 19:00 UTC
        (utc(2026, 4, 1, 18), utc(2026, 4, 1, 19)),  # 20:00 CEST = 18:00 UTC
    ]
    assert all(w.kind == WEEKLY for w in found)


def test_clause_8_last_wednesday_of_october_is_winter_time_again() -> None:
    # 2026: summer time ends on Sunday 25 October; Wednesday 28 October is winter time.
    found = windows([Rule()], [], utc(2026, 10, 19), utc(2026, 10, 30))
    assert [w.start for w in found] == [utc(2026, 10, 21, 18), utc(2026, 10, 28, 19)]


def test_clause_8_last_wednesday_of_march_after_the_change() -> None:
    # 2027: summer time starts on Sunday 28 March; Wednesday 31 March is already summer time.
    found = windows([Rule()], [], utc(2027, 3, 22), utc(2027, 4, 1))
    assert [w.start for w in found] == [utc(2027, 3, 24, 19), utc(2027, 3, 31, 18)]


def test_clause_8_duration_is_configurable_and_uids_are_stable() -> None:
    first = windows([Rule(duration_minutes=90)], [], utc(2026, 1, 1), utc(2026, 1, 15))
    again = windows([Rule(duration_minutes=90)], [], utc(2026, 1, 5), utc(2026, 1, 20))
    assert first[0].end - first[0].start == timedelta(minutes=90)
    assert first[0].uid == again[0].uid == "weekly-20260107T190000Z@termgate"


def test_clause_8_cancel_move_and_extra() -> None:
    changes = [
        Change("c1", "cancel", original_start=utc(2026, 1, 7, 19)),
        Change(
            "m1",
            "move",
            original_start=utc(2026, 1, 14, 19),
            start=utc(2026, 1, 15, 6),
            duration_minutes=30,
            reason="Database upgrade",
        ),
        Change("e1", "extra", start=utc(2026, 1, 17, 22), duration_minutes=120, reason="Network"),
    ]
    found = windows([Rule()], changes, utc(2026, 1, 1), utc(2026, 1, 22))
    assert [(w.kind, w.start, w.end) for w in found] == [
        (MOVED, utc(2026, 1, 15, 6), utc(2026, 1, 15, 6, 30)),
        (EXTRA, utc(2026, 1, 17, 22), utc(2026, 1, 18, 0)),
        (WEEKLY, utc(2026, 1, 21, 19), utc(2026, 1, 21, 20)),
    ]
    # The moved occurrence keeps the weekly occurrence's uid, so calendars update the event.
    assert found[0].uid == "weekly-20260114T190000Z@termgate"
    assert found[0].reason == "Database upgrade"


def test_clause_8_window_at_and_retry_seconds() -> None:
    inside = utc(2026, 1, 7, 19, 45)
    window = window_at([Rule()], [], inside)
    assert window is not None
    assert window.seconds_left(inside) == 15 * 60
    assert window_at([Rule()], [], utc(2026, 1, 7, 20)) is None
    assert window_at([Rule(active=False)], [], inside) is None
    cancelled = [Change("c", "cancel", original_start=utc(2026, 1, 7, 19))]
    assert window_at([Rule()], cancelled, inside) is None


def test_clause_8_overlapping_windows_merge_for_the_gateway() -> None:
    extra = [Change("e", "extra", start=utc(2026, 1, 7, 19, 30), duration_minutes=60)]
    found = windows([Rule()], extra, utc(2026, 1, 7), utc(2026, 1, 8))
    assert merged(found) == [(utc(2026, 1, 7, 19), utc(2026, 1, 7, 20, 30))]
