"""The maintenance calendar in the database: the weekly rule, its exceptions, and the notices
developers get before a moved or extra window (clause 8).

Every change is audited and appended to the access-change feed, so every gateway node reloads
its next windows within a second.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.core.changes import record_access_change
from termgate.core.errors import NotFoundError
from termgate.db.models import Developer, Status
from termgate.db.traffic import ExceptionKind, MaintenanceException, MaintenanceRule
from termgate.governance.errors import PolicyConflictError, PolicyInputError
from termgate.governance.maintenance import (
    MAX_DURATION_MINUTES,
    Window,
    parse_time,
    weekly_starts,
    windows,
)
from termgate.notify.inbox import notify_developer
from termgate.strict import time_zone

DEFAULT_WEEKDAY, DEFAULT_START, DEFAULT_DURATION = 2, "20:00", 60  # Wednesday 20:00 (clause 8)
DEFAULT_ZONE = "Europe/Amsterdam"
HORIZON = timedelta(weeks=12)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ENTITY = "maintenance"


async def load_calendar(
    session: AsyncSession,
) -> tuple[list[MaintenanceRule], list[MaintenanceException]]:
    rules = await session.scalars(
        select(MaintenanceRule)
        .where(MaintenanceRule.active.is_(True))
        .order_by(MaintenanceRule.created_at)
    )
    changes = await session.scalars(
        select(MaintenanceException).order_by(MaintenanceException.created_at)
    )
    return list(rules), list(changes)


async def upcoming(
    session: AsyncSession, now: datetime, horizon: timedelta = HORIZON
) -> list[Window]:
    """Windows from the one `now` may be in to `now + horizon`."""
    rules, changes = await load_calendar(session)
    return windows(rules, changes, now, now + horizon)


def _changed(session: AsyncSession, entity_id: str) -> None:
    record_access_change(session, ENTITY, entity_id)


def _duration(minutes: int) -> int:
    if not 1 <= minutes <= MAX_DURATION_MINUTES:
        raise PolicyInputError(
            "duration", f"the duration must be 1 to {MAX_DURATION_MINUTES} minutes"
        )
    return minutes


def _zone(name: str) -> str:
    if time_zone(name) is None:
        raise PolicyInputError("time_zone", f"{name[:64]!r} is not a known time zone")
    return name


def _start_time(text: str) -> str:
    try:
        at = parse_time(text)
    except ValueError as error:
        raise PolicyInputError("start_time", str(error)) from None
    return f"{at:%H:%M}"


def _reason(text: str, required: bool = True) -> str:
    reason = " ".join(text.split())
    if required and not reason:
        raise PolicyInputError("reason", "give a reason; developers read it")
    if len(reason) > 500:
        raise PolicyInputError("reason", "keep the reason under 500 characters")
    return reason


async def ensure_default_rule(session: AsyncSession, actor: str = "system") -> MaintenanceRule:
    """The weekly rule; Wednesday 20:00 Europe/Amsterdam for an hour if none exists yet."""
    rule = await session.scalar(
        select(MaintenanceRule).where(MaintenanceRule.active.is_(True)).limit(1)
    )
    if rule is not None:
        return rule
    return await set_rule(
        session,
        weekday=DEFAULT_WEEKDAY,
        start_time=DEFAULT_START,
        duration_minutes=DEFAULT_DURATION,
        time_zone=DEFAULT_ZONE,
        actor=actor,
    )


async def set_rule(
    session: AsyncSession,
    *,
    weekday: int,
    start_time: str,
    duration_minutes: int,
    time_zone: str = DEFAULT_ZONE,
    actor: str,
) -> MaintenanceRule:
    """Set the one weekly rule (created if there is none)."""
    if not 0 <= weekday <= 6:
        raise PolicyInputError("weekday", "the weekday is 0 (Monday) to 6 (Sunday)")
    values = {
        "weekday": weekday,
        "start_time": _start_time(start_time),
        "duration_minutes": _duration(duration_minutes),
        "time_zone": _zone(time_zone),
    }
    rule = await session.scalar(
        select(MaintenanceRule).where(MaintenanceRule.active.is_(True)).limit(1)
    )
    if rule is None:
        rule = MaintenanceRule(**values, active=True)
        session.add(rule)
    else:
        for name, value in values.items():
            setattr(rule, name, value)
    await session.flush()
    text = f"{WEEKDAYS[weekday]} {values['start_time']} {time_zone}, {duration_minutes} min"
    await record(session, actor, "maintenance.rule", ENTITY, rule.id, text)
    _changed(session, rule.id)
    return rule


async def _occurrence(session: AsyncSession, original_start: datetime) -> MaintenanceRule:
    """The weekly rule one of whose occurrences starts at `original_start` (UTC)."""
    original_start = original_start.astimezone(UTC)
    rules, changes = await load_calendar(session)
    for rule in rules:
        if original_start in weekly_starts(rule, original_start, original_start + timedelta(1)):
            break
    else:
        raise PolicyConflictError(
            f"no weekly window starts at {original_start:%Y-%m-%d %H:%M} UTC",
        )
    for change in changes:
        if change.original_start == original_start and change.kind is not ExceptionKind.EXTRA:
            raise PolicyConflictError(
                f"the window of {original_start:%Y-%m-%d %H:%M} UTC is already {change.kind}d",
            )
    return rule


def _future(field: str, moment: datetime, now: datetime) -> datetime:
    if moment.tzinfo is None:
        raise PolicyInputError(field, "give the time with its UTC offset (e.g. …Z)")
    if moment.astimezone(UTC) <= now:
        raise PolicyConflictError(f"{field}: that moment has passed")
    return moment.astimezone(UTC)


async def _exception(
    session: AsyncSession, change: MaintenanceException, actor: str, what: str
) -> MaintenanceException:
    session.add(change)
    await session.flush()
    await record(session, actor, f"maintenance.{change.kind}", ENTITY, change.id, what)
    _changed(session, change.id)
    return change


async def cancel_window(
    session: AsyncSession, original_start: datetime, reason: str, actor: str, now: datetime
) -> MaintenanceException:
    original = _future("original_start", original_start, now)
    await _occurrence(session, original)
    change = MaintenanceException(
        kind=ExceptionKind.CANCEL, original_start=original, reason=_reason(reason, False)
    )
    return await _exception(session, change, actor, f"cancelled {original:%Y-%m-%d %H:%M} UTC")


async def move_window(
    session: AsyncSession,
    original_start: datetime,
    start: datetime,
    duration_minutes: int | None,
    reason: str,
    actor: str,
    now: datetime,
) -> MaintenanceException:
    original = _future("original_start", original_start, now)
    new_start = _future("start", start, now)
    rule = await _occurrence(session, original)
    change = MaintenanceException(
        kind=ExceptionKind.MOVE,
        original_start=original,
        start=new_start,
        duration_minutes=_duration(duration_minutes or rule.duration_minutes),
        reason=_reason(reason),
    )
    what = f"moved {original:%Y-%m-%d %H:%M} UTC to {new_start:%Y-%m-%d %H:%M} UTC"
    return await _exception(session, change, actor, what)


async def add_window(
    session: AsyncSession,
    start: datetime,
    duration_minutes: int,
    reason: str,
    actor: str,
    now: datetime,
) -> MaintenanceException:
    begins = _future("start", start, now)
    change = MaintenanceException(
        kind=ExceptionKind.EXTRA,
        start=begins,
        duration_minutes=_duration(duration_minutes),
        reason=_reason(reason),
    )
    what = f"extra window {begins:%Y-%m-%d %H:%M} UTC, {duration_minutes} min"
    return await _exception(session, change, actor, what)


async def remove_exception(session: AsyncSession, exception_id: str, actor: str) -> None:
    """Undo a cancel, move or extra window: the weekly rule applies again."""
    change = await session.get(MaintenanceException, exception_id)
    if change is None:
        raise NotFoundError(f"no calendar exception {exception_id!r}")
    await record(session, actor, "maintenance.restore", ENTITY, change.id, change.kind)
    await session.delete(change)
    _changed(session, exception_id)


def _notice(change: MaintenanceException) -> tuple[str, str]:
    assert change.start is not None
    begins = change.start
    ends = begins + timedelta(minutes=change.duration_minutes or DEFAULT_DURATION)
    local = begins.astimezone(ZoneInfo(DEFAULT_ZONE))
    if change.kind is ExceptionKind.MOVE and change.original_start is not None:
        subject = f"Planned maintenance moved to {local:%A %d %B %H:%M} (Amsterdam)"
        first = (
            f"The weekly maintenance window of {change.original_start:%Y-%m-%d %H:%M} UTC is moved."
        )
    else:
        subject = f"Extra planned maintenance on {local:%A %d %B %H:%M} (Amsterdam)"
        first = "An extra maintenance window is planned."
    body = (
        f"{first}\n\nFrom {begins:%Y-%m-%d %H:%M} UTC to {ends:%Y-%m-%d %H:%M} UTC the API "
        "answers 503 (code 50301) with Retry-After.\n\n"
        f"Reason: {change.reason}\n\n"
        "The calendar is at /maintenance.ics and the current state at /status (clause 8)."
    )
    return subject, body


async def notify_due(session: AsyncSession, now: datetime, days: int) -> list[MaintenanceException]:
    """Tell every active developer of each moved or extra window starting within `days` that
    nobody was told of yet; marks them notified, so a second run sends nothing."""
    due = list(
        await session.scalars(
            select(MaintenanceException)
            .where(
                MaintenanceException.kind.in_((ExceptionKind.MOVE, ExceptionKind.EXTRA)),
                MaintenanceException.notified_at.is_(None),
                MaintenanceException.start > now,
                MaintenanceException.start <= now + timedelta(days=days),
            )
            .order_by(MaintenanceException.start)
        )
    )
    if not due:
        return []
    developers = list(
        await session.scalars(select(Developer).where(Developer.status == Status.ACTIVE))
    )
    for change in due:
        subject, body = _notice(change)
        for developer in developers:
            notify_developer(session, developer, "maintenance", subject, body)
        change.notified_at = now
    await session.flush()
    return due
