"""The scheduler's jobs: each acts on at most `BATCH` due items in the session's transaction,
recording each with `once` (unique per job and item) in that same transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.due_process import Case
from termgate.db.models import Developer, Status
from termgate.db.programme import TermsAcceptance
from termgate.due_process import cases, notices
from termgate.due_process.runs import BATCH, done_items, once
from termgate.governance.maintenance_calendar import notify_due
from termgate.notify.inbox import notify_developer
from termgate.registry.clauses import load_policy
from termgate.registry.terms import amendment_notice, current_terms
from termgate.settings import get_settings

SCHEDULER = "scheduler"
TERMS_REMINDER_DAYS = (7, 1)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


async def escalate_uncured(session: AsyncSession, now: datetime) -> int:
    """Cases whose cure deadline passed without a remedy: escalated and suspended (4.2)."""
    due = await session.scalars(
        select(Case)
        .where(Case.state == cases.CaseState.NOTICED.value, Case.cure_deadline <= now)
        .order_by(Case.cure_deadline)
        .limit(BATCH)
    )
    policy = load_policy(get_settings().terms_dir)
    acted = 0
    for case in list(due):
        assert case.cure_deadline is not None
        deadline = _stamp(case.cure_deadline)
        await once(session, "cure-deadlines", f"{case.id}@{deadline}", now, "suspended")
        reason = f"not cured by the deadline of {deadline} UTC (clause 4.2)"
        await cases.escalate(
            session, case.id, actor=SCHEDULER, reason=reason, now=now, policy=policy
        )
        acted += 1
    return acted


async def terminate_unremedied(session: AsyncSession, now: datetime) -> int:
    """Suspended cases still not cured at their termination date: terminated (6.2)."""
    due = await session.scalars(
        select(Case)
        .where(Case.state == cases.CaseState.SUSPENDED.value, Case.terminate_at <= now)
        .order_by(Case.terminate_at)
        .limit(BATCH)
    )
    policy = load_policy(get_settings().terms_dir)
    acted = 0
    for case in list(due):
        await once(session, "terminations", case.id, now, "terminated")
        reason = "the breach was not remedied after suspension (clause 6.2)"
        await cases.terminate(session, case, actor=SCHEDULER, reason=reason, now=now, policy=policy)
        acted += 1
    return acted


def _reminder_due(deadline: datetime, days: tuple[int, ...], now: datetime) -> int | None:
    """The reminder that applies now: the fewest days before the deadline already reached."""
    reached = [d for d in days if deadline - timedelta(days=d) <= now < deadline]
    return min(reached) if reached else None


async def remind_cure_deadlines(session: AsyncSession, now: datetime) -> int:
    """A reminder the policy's days before each cure deadline, once per deadline and day."""
    days = load_policy(get_settings().terms_dir).due_process.reminder_days
    if not days:
        return 0
    window = now + timedelta(days=max(days))
    candidates = await session.scalars(
        select(Case).where(
            Case.state == cases.CaseState.NOTICED.value,
            Case.cure_deadline > now,
            Case.cure_deadline <= window,
        )
    )
    due: dict[str, tuple[Case, int]] = {}
    for case in candidates:
        assert case.cure_deadline is not None
        day = _reminder_due(case.cure_deadline, days, now)
        if day is not None:
            due[f"{case.id}@{_stamp(case.cure_deadline)}:{day}d"] = (case, day)
    done = await done_items(session, "cure-reminders", due)
    acted = 0
    for item, (case, day) in due.items():
        if item in done or acted == BATCH:
            continue
        await once(session, "cure-reminders", item, now, f"{day} days before")
        developer = await session.get_one(Developer, case.developer_id)
        notices.send_reminder(session, developer, case, day, now)
        acted += 1
    return acted


async def remind_terms_deadline(session: AsyncSession, now: datetime) -> int:
    """Developers who have not accepted amended terms hear again before the deadline (9)."""
    terms = await current_terms(session)
    if terms is None or terms.reaccept_deadline is None or terms.reaccept_deadline <= now:
        return 0
    day = _reminder_due(terms.reaccept_deadline, TERMS_REMINDER_DAYS, now)
    if day is None:
        return 0
    accepted = select(TermsAcceptance.developer_id).where(
        TermsAcceptance.terms_version_id == terms.id
    )
    developers = await session.scalars(
        select(Developer).where(Developer.status == Status.ACTIVE, Developer.id.not_in(accepted))
    )
    pending = {f"{terms.id}:{developer.id}:{day}d": developer for developer in developers}
    done = await done_items(session, "terms-reminders", pending)
    settings = get_settings()
    acted = 0
    for item, developer in pending.items():
        if item in done or acted == BATCH:
            continue
        await once(session, "terms-reminders", item, now, f"{day} days before")
        subject = f"Reminder: accept {terms.title} {terms.version} within {day} day(s)"
        notify_developer(session, developer, "terms", subject, amendment_notice(terms, settings))
        acted += 1
    return acted


async def notify_maintenance(session: AsyncSession, now: datetime) -> int:
    """Moved or extra maintenance windows announced `maintenance_notice_days` ahead (8)."""
    announced = await notify_due(session, now, get_settings().maintenance_notice_days)
    for change in announced:
        await once(session, "maintenance-notices", change.id, now, "announced")
    return len(announced)
