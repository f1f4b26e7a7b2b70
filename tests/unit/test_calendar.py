"""The maintenance calendar (clause 8) through its functions, on an in-memory database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.errors import NotFoundError
from termgate.db.models import Status
from termgate.db.programme import AuditEntry
from termgate.db.traffic import ExceptionKind, MaintenanceException
from termgate.governance.errors import PolicyConflictError, PolicyInputError
from termgate.governance.maintenance_calendar import (
    add_window,
    cancel_window,
    ensure_default_rule,
    move_window,
    notify_due,
    remove_exception,
    set_rule,
    upcoming,
)
from termgate.notify.inbox import inbox
from tests.unit.registry_support import changes, parties

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2027, 3, 15, 12, tzinfo=UTC)  # a Monday; Amsterdam is UTC+1 until 28 March
WEDNESDAY = datetime(2027, 3, 17, 19, tzinfo=UTC)  # 20:00 in Amsterdam


async def last_audit(session: AsyncSession) -> tuple[str, str, str, str]:
    entry = (await session.scalars(select(AuditEntry))).all()[-1]
    return entry.actor, entry.action, entry.entity, entry.reason


async def test_clause_8_default_rule_is_wednesday_evening_amsterdam(db: Sessions) -> None:
    async with db.begin() as session:
        rule = await ensure_default_rule(session)
        assert (rule.weekday, rule.start_time, rule.duration_minutes, rule.time_zone) == (
            2,
            "20:00",
            60,
            "Europe/Amsterdam",
        )
        assert rule.active is True
        assert await last_audit(session) == (
            "system",
            "maintenance.rule",
            "maintenance",
            "Wednesday 20:00 Europe/Amsterdam, 60 min",
        )
        assert ("maintenance", rule.id) in await changes(session)
        assert await ensure_default_rule(session, "other") is rule
        found = await upcoming(session, NOW, timedelta(days=10))
        assert [(w.start, w.end) for w in found] == [
            (WEDNESDAY, WEDNESDAY + timedelta(hours=1)),
            (WEDNESDAY + timedelta(days=7), WEDNESDAY + timedelta(days=7, hours=1)),
        ]
        assert len(await upcoming(session, NOW)) == 12


async def test_clause_8_rule_is_changed_in_place_and_audited(db: Sessions) -> None:
    async with db.begin() as session:
        first = await ensure_default_rule(session)
        rule = await set_rule(
            session,
            weekday=6,
            start_time="3:05",
            duration_minutes=1440,
            time_zone="UTC",
            actor="ops",
        )
        assert rule is first
        assert (rule.weekday, rule.start_time, rule.duration_minutes, rule.time_zone) == (
            6,
            "03:05",
            1440,
            "UTC",
        )
        assert await last_audit(session) == (
            "ops",
            "maintenance.rule",
            "maintenance",
            "Sunday 03:05 UTC, 1440 min",
        )
        await set_rule(session, weekday=0, start_time="00:00", duration_minutes=1, actor="o")
        assert (rule.weekday, rule.time_zone) == (0, "Europe/Amsterdam")


@pytest.mark.parametrize(
    ("changes_", "field", "message"),
    [
        ({"weekday": 7}, "weekday", "the weekday is 0 (Monday) to 6 (Sunday)"),
        ({"weekday": -1}, "weekday", "the weekday is 0 (Monday) to 6 (Sunday)"),
        ({"duration_minutes": 0}, "duration", "the duration must be 1 to 1440 minutes"),
        ({"duration_minutes": 1441}, "duration", "the duration must be 1 to 1440 minutes"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "'Mars/Olympus' is not a known time zone"),
        (
            {"time_zone": "Europe/" + "X" * 90},
            "time_zone",
            "'Europe/" + "X" * 57 + "' is not a known time zone",
        ),
        ({"start_time": "25:00"}, "start_time", "hour must be in 0..23"),
        ({"start_time": "8:5"}, "start_time", "'8:5' is not a time of day as HH:MM"),
    ],
)
async def test_clause_8_bad_rule_names_the_field(
    db: Sessions, changes_: dict[str, object], field: str, message: str
) -> None:
    values: dict[str, object] = {
        "weekday": 2,
        "start_time": "20:00",
        "duration_minutes": 60,
        "time_zone": "UTC",
    }
    values.update(changes_)
    async with db.begin() as session:
        with pytest.raises(PolicyInputError) as raised:
            await set_rule(session, **values, actor="ops")  # type: ignore[arg-type]
        assert (raised.value.field, str(raised.value)) == (field, message)


async def test_clause_8_cancelled_window_is_gone_and_cannot_be_cancelled_twice(
    db: Sessions,
) -> None:
    async with db.begin() as session:
        await ensure_default_rule(session)
        change = await cancel_window(session, WEDNESDAY, "  ", "ops", NOW)
        assert (change.kind, change.original_start, change.reason) == (
            ExceptionKind.CANCEL,
            WEDNESDAY,
            "",
        )
        assert await last_audit(session) == (
            "ops",
            "maintenance.cancel",
            "maintenance",
            "cancelled 2027-03-17 19:00 UTC",
        )
        assert ("maintenance", change.id) in await changes(session)
        found = await upcoming(session, NOW, timedelta(days=10))
        assert [w.start for w in found] == [WEDNESDAY + timedelta(days=7)]
        with pytest.raises(
            PolicyConflictError, match=r"^the window of 2027-03-17 19:00 UTC is already canceld$"
        ):
            await cancel_window(session, WEDNESDAY, "", "ops", NOW)


async def test_clause_8_only_future_weekly_occurrences_can_be_changed(db: Sessions) -> None:
    async with db.begin() as session:
        await ensure_default_rule(session)
        with pytest.raises(
            PolicyConflictError, match=r"^no weekly window starts at 2027-03-17 20:00 UTC$"
        ):
            await cancel_window(session, WEDNESDAY + timedelta(hours=1), "", "ops", NOW)
        with pytest.raises(PolicyConflictError, match=r"^original_start: that moment has passed$"):
            await cancel_window(session, WEDNESDAY, "", "ops", WEDNESDAY)
        with pytest.raises(PolicyInputError) as raised:
            await cancel_window(session, WEDNESDAY.replace(tzinfo=None), "", "ops", NOW)
        assert (raised.value.field, str(raised.value)) == (
            "original_start",
            "give the time with its UTC offset (e.g. …Z)",
        )
        local = WEDNESDAY.astimezone(NOW.tzinfo).replace(tzinfo=None)
        amsterdam = datetime.fromisoformat(f"{local.isoformat()}+00:00")
        assert (await cancel_window(session, amsterdam, "", "o", NOW)).original_start == WEDNESDAY


async def test_clause_8_moved_window_keeps_its_duration_and_is_audited(db: Sessions) -> None:
    async with db.begin() as session:
        await ensure_default_rule(session)
        start = WEDNESDAY + timedelta(days=1)
        change = await move_window(session, WEDNESDAY, start, None, " deploy  day ", "ops", NOW)
        assert (change.kind, change.start, change.duration_minutes, change.reason) == (
            ExceptionKind.MOVE,
            start,
            60,
            "deploy day",
        )
        assert await last_audit(session) == (
            "ops",
            "maintenance.move",
            "maintenance",
            "moved 2027-03-17 19:00 UTC to 2027-03-18 19:00 UTC",
        )
        found = await upcoming(session, NOW, timedelta(days=4))
        assert [(w.start, w.end) for w in found] == [(start, start + timedelta(hours=1))]
        other = await move_window(
            session, WEDNESDAY + timedelta(days=7), start + timedelta(days=7), 30, "x", "o", NOW
        )
        assert other.duration_minutes == 30
        with pytest.raises(PolicyConflictError, match=r"^start: that moment has passed$"):
            await move_window(session, WEDNESDAY + timedelta(days=14), NOW, None, "x", "o", NOW)


@pytest.mark.parametrize(
    ("reason", "message"),
    [("  ", "give a reason; developers read it"), ("x" * 501, "keep the reason under 500 ch")],
)
async def test_clause_8_moves_and_extra_windows_need_a_short_reason(
    db: Sessions, reason: str, message: str
) -> None:
    async with db.begin() as session:
        await ensure_default_rule(session)
        for attempt in (
            move_window(session, WEDNESDAY, WEDNESDAY + timedelta(1), None, reason, "o", NOW),
            add_window(session, WEDNESDAY, 30, reason, "o", NOW),
        ):
            with pytest.raises(PolicyInputError, match=f"^{message}") as raised:
                await attempt
            assert raised.value.field == "reason"
        assert (await add_window(session, WEDNESDAY, 30, "x" * 500, "o", NOW)).reason == "x" * 500


async def test_clause_8_extra_window_and_its_removal(db: Sessions) -> None:
    async with db.begin() as session:
        start = NOW + timedelta(hours=2)
        change = await add_window(session, start, 45, "urgent fix", "ops", NOW)
        assert (change.kind, change.start, change.duration_minutes) == (
            ExceptionKind.EXTRA,
            start,
            45,
        )
        assert await last_audit(session) == (
            "ops",
            "maintenance.extra",
            "maintenance",
            "extra window 2027-03-15 14:00 UTC, 45 min",
        )
        found = await upcoming(session, NOW, timedelta(days=1))
        assert [(w.start, w.end) for w in found] == [(start, start + timedelta(minutes=45))]
        with pytest.raises(PolicyInputError, match=r"^the duration must be 1 to 1440 minutes$"):
            await add_window(session, start, 0, "x", "o", NOW)
        await remove_exception(session, change.id, "ops")
        assert await last_audit(session) == ("ops", "maintenance.restore", "maintenance", "extra")
        assert (await changes(session))[-1] == ("maintenance", change.id)
        assert await upcoming(session, NOW, timedelta(days=1)) == []
        with pytest.raises(NotFoundError, match=r"^no calendar exception 'nope'$"):
            await remove_exception(session, "nope", "ops")


async def test_clause_8_developers_are_told_of_moved_and_extra_windows_once(
    db: Sessions,
) -> None:
    async with db.begin() as session:
        ann = await parties(session)
        bob = await parties(session, "bob@example.nl")
        bob.developer.status = Status.SUSPENDED
        await ensure_default_rule(session)
        moved = await move_window(
            session, WEDNESDAY, WEDNESDAY + timedelta(hours=2), 90, "upgrade", "ops", NOW
        )
        extra = await add_window(session, NOW + timedelta(days=1), 30, "fix", "ops", NOW)
        later = await add_window(session, NOW + timedelta(days=3, seconds=1), 30, "x", "o", NOW)
        await cancel_window(session, WEDNESDAY + timedelta(days=7), "", "ops", NOW)
        due = await notify_due(session, NOW, 3)
        assert [change.id for change in due] == [extra.id, moved.id]
        assert (extra.notified_at, moved.notified_at, later.notified_at) == (NOW, NOW, None)
        messages = await inbox(session, ann.developer)
        assert {m.subject for m in messages if m.kind == "maintenance"} == {
            "Planned maintenance moved to Wednesday 17 March 22:00 (Amsterdam)",
            "Extra planned maintenance on Tuesday 16 March 13:00 (Amsterdam)",
        }
        body = next(m.body for m in messages if m.subject.startswith("Planned"))
        assert body == (
            "The weekly maintenance window of 2027-03-17 19:00 UTC is moved.\n\n"
            "From 2027-03-17 21:00 UTC to 2027-03-17 22:30 UTC the API answers 503 "
            "(code 50301) with Retry-After.\n\nReason: upgrade\n\n"
            "The calendar is at /maintenance.ics and the current state at /status (clause 8)."
        )
        extra_body = next(m.body for m in messages if m.subject.startswith("Extra"))
        assert extra_body.startswith(
            "An extra maintenance window is planned.\n\nFrom 2027-03-16 12:00 UTC to "
            "2027-03-16 12:30 UTC the API"
        )
        assert [m for m in await inbox(session, bob.developer) if m.kind == "maintenance"] == []
        assert await notify_due(session, NOW, 3) == []
        assert await notify_due(session, NOW, 4) == [later]
        rows = (await session.scalars(select(MaintenanceException))).all()
        assert len(rows) == 4


async def test_clause_8_notice_window_is_after_now_and_up_to_the_last_day(db: Sessions) -> None:
    async with db.begin() as session:
        await parties(session)
        start = NOW + timedelta(hours=1)
        change = await add_window(session, start, 30, "fix", "ops", NOW)
        assert await notify_due(session, start + timedelta(minutes=1), 3) == []
        assert await notify_due(session, start, 3) == []
        assert await notify_due(session, start - timedelta(days=3, seconds=1), 3) == []
        assert await notify_due(session, start - timedelta(days=3), 3) == [change]
