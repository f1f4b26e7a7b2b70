"""The maintenance calendar (clause 8) at its edges: the server's own time zone, the year end,
the operator's rule against the default, the field each bad time names, and the order of
windows that coincide."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.programme import AuditEntry
from termgate.governance.errors import PolicyConflictError, PolicyInputError
from termgate.governance.maintenance_calendar import (
    add_window,
    cancel_window,
    ensure_default_rule,
    move_window,
    notify_due,
    set_rule,
    upcoming,
)
from termgate.notify.inbox import inbox
from tests.unit.registry_support import changes, parties

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2027, 3, 15, 12, tzinfo=UTC)  # a Monday
WEDNESDAY = datetime(2027, 3, 17, 19, tzinfo=UTC)  # 20:00 in Amsterdam
YEAR_END = datetime(2027, 12, 27, 12, tzinfo=UTC)  # the Monday before the last Wednesday of 2027


async def audit_reasons(session: AsyncSession) -> list[str]:
    return list(await session.scalars(select(AuditEntry.reason).order_by(AuditEntry.id)))


async def test_clause_8_calendar_stays_utc_in_any_server_zone_across_the_year_end(
    db: Sessions, server_zone: str
) -> None:
    last = datetime(2027, 12, 29, 19, tzinfo=UTC)  # Wednesday 20:00 in Amsterdam
    first = datetime(2028, 1, 5, 19, tzinfo=UTC)
    new_year = datetime(2027, 12, 31, 23, 30, tzinfo=UTC)  # already 2028 in Amsterdam
    async with db.begin() as session:
        ann = await parties(session)
        await ensure_default_rule(session)
        cancelled = await cancel_window(session, last, " office  closed ", "ops", YEAR_END)
        assert cancelled.reason == "office closed"
        with pytest.raises(
            PolicyConflictError, match=r"^the window of 2027-12-29 19:00 UTC is already canceld$"
        ):
            await cancel_window(session, last, "", "ops", YEAR_END)
        with pytest.raises(
            PolicyConflictError, match=r"^no weekly window starts at 2027-12-29 20:00 UTC$"
        ):
            await cancel_window(session, last + timedelta(hours=1), "", "ops", YEAR_END)
        moved = await move_window(
            session, first, new_year + timedelta(days=1), None, "upgrade", "ops", YEAR_END
        )
        extra = await add_window(session, new_year, 30, "fireworks", "ops", YEAR_END)
        assert (await audit_reasons(session))[-3:] == [
            "cancelled 2027-12-29 19:00 UTC",
            "moved 2028-01-05 19:00 UTC to 2028-01-01 23:30 UTC",
            "extra window 2027-12-31 23:30 UTC, 30 min",
        ]
        for change in (cancelled, moved, extra):
            stored = change.start or change.original_start
            assert stored is not None
            assert stored.utcoffset() == timedelta(0)
        found = await upcoming(session, YEAR_END, timedelta(days=14))
        assert [(w.kind, w.start, w.end) for w in found] == [
            ("extra", new_year, new_year + timedelta(minutes=30)),
            ("moved", new_year + timedelta(days=1), new_year + timedelta(days=1, hours=1)),
        ]
        assert await notify_due(session, YEAR_END, 7) == [extra, moved]
        bodies = {m.subject: m.body for m in await inbox(session, ann.developer)}
        assert (
            "From 2027-12-31 23:30 UTC to 2028-01-01 00:00 UTC"
            in bodies["Extra planned maintenance on Saturday 01 January 00:30 (Amsterdam)"]
        )
        assert (
            "window of 2028-01-05 19:00 UTC is moved"
            in bodies["Planned maintenance moved to Sunday 02 January 00:30 (Amsterdam)"]
        )


async def test_clause_8_default_rule_never_overrides_the_operators_rule(db: Sessions) -> None:
    async with db.begin() as session:
        rule = await set_rule(
            session,
            weekday=4,
            start_time="06:30",
            duration_minutes=90,
            time_zone="UTC",
            actor="ops",
        )
        audits, fed = (
            await session.scalar(select(func.count(AuditEntry.id))),
            await changes(session),
        )
        assert await ensure_default_rule(session) is rule
        assert (rule.weekday, rule.start_time, rule.duration_minutes, rule.time_zone) == (
            4,
            "06:30",
            90,
            "UTC",
        )
        assert await session.scalar(select(func.count(AuditEntry.id))) == audits
        assert await changes(session) == fed
        friday = datetime(2027, 3, 19, 6, 30, tzinfo=UTC)
        assert [w.start for w in await upcoming(session, NOW, timedelta(days=7))] == [friday]


async def test_clause_8_each_bad_time_names_its_field(db: Sessions) -> None:
    naive, tomorrow = WEDNESDAY.replace(tzinfo=None), WEDNESDAY + timedelta(days=1)
    async with db.begin() as session:
        await ensure_default_rule(session)
        for attempt, field in (
            (move_window(session, naive, tomorrow, None, "x", "o", NOW), "original_start"),
            (move_window(session, WEDNESDAY, naive, None, "x", "o", NOW), "start"),
            (add_window(session, naive, 30, "x", "o", NOW), "start"),
        ):
            with pytest.raises(PolicyInputError, match=r"^give the time with its UTC") as bad:
                await attempt
            assert bad.value.field == field
        for attempt, message in (
            (
                move_window(session, WEDNESDAY, tomorrow, None, "x", "o", WEDNESDAY),
                "original_start",
            ),
            (add_window(session, NOW, 30, "x", "o", NOW), "start"),
        ):
            with pytest.raises(PolicyConflictError, match=f"^{message}: that moment has passed$"):
                await attempt


async def test_clause_8_coinciding_windows_are_listed_in_the_order_they_were_planned(
    db: Sessions,
) -> None:
    start = NOW + timedelta(hours=2)
    async with db.begin() as session:
        stored_first = await add_window(session, start, 30, "stored first", "ops", NOW)
        stored_second = await add_window(session, start, 30, "stored second", "ops", NOW)
        found = await upcoming(session, NOW, timedelta(days=1))
        assert [w.reason for w in found] == ["stored first", "stored second"]
        # PostgreSQL returns rows in storage order, which an UPDATE changes; the listing follows
        # the planning time, so the row stored first but planned later comes second.
        stored_first.created_at = stored_second.created_at + timedelta(seconds=1)
        await session.flush()
        found = await upcoming(session, NOW, timedelta(days=1))
        assert [w.reason for w in found] == ["stored second", "stored first"]


async def test_clause_8_a_window_planned_at_the_end_of_time_leaves_the_calendar_working(
    db: Sessions,
) -> None:
    last_moment = datetime(9999, 12, 31, 23, 30, tzinfo=UTC)  # its hour ends past year 9999
    async with db.begin() as session:
        await ensure_default_rule(session)
        await add_window(session, last_moment, 60, "far ahead", "ops", NOW)
        await move_window(session, WEDNESDAY, last_moment, None, "far ahead", "ops", NOW)
        found = await upcoming(session, NOW, timedelta(days=10))
        assert [w.start for w in found] == [WEDNESDAY + timedelta(days=7)]
        assert await notify_due(session, NOW, 3) == []
