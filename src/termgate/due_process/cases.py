"""Cases: a suspected violation by a developer or one of its applications, and the procedure the
terms promise for it (clause 4.2: notice and a chance to cure, or immediate intervention where
there is a plausible risk of damage; clause 6.2: termination of a breach not remedied in time).

Where a case stands is one explicit state machine, `TRANSITIONS`; every move goes through
`_move`, which refuses what the table does not allow and writes the move to the hash-chained
audit trail and to the case's timeline, with who and why.
"""

from __future__ import annotations

import enum
import json
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.due_process import Case, CaseEvent
from termgate.db.models import Application, Developer, Status, new_id
from termgate.due_process import notices
from termgate.due_process.termination import (
    UNCURED_BREACH,
    end_application_for_breach,
    is_terminated,
)
from termgate.due_process.termination import terminate as terminate_developer
from termgate.registry.clauses import Policy, load_policy
from termgate.registry.developers import require_text
from termgate.registry.status import change_status
from termgate.settings import TERMS_DIR, get_settings

CLAUSE_SEPARATOR = "; "
MAX_CURE_DAYS = 90
MAX_FINDINGS = 100


class CaseState(enum.StrEnum):
    OPEN = "open"
    NOTICED = "noticed"  # the developer was told and has until the cure deadline
    CURED = "cured"  # the provider accepted the remedy
    ESCALATED = "escalated"  # not cured in time, or too risky to wait (clause 4.2)
    SUSPENDED = "suspended"  # the party's access is suspended; terminated later unless cured
    TERMINATED = "terminated"  # clause 6.2
    CLOSED = "closed"  # no (further) action


class Action(enum.StrEnum):
    NOTICE = "notice"
    EXTEND = "extend"
    ACCEPT = "accept"
    ESCALATE = "escalate"
    SUSPEND = "suspend"
    TERMINATE = "terminate"
    CLOSE = "close"


S, A = CaseState, Action
# (state, action) -> next state. Anything not listed is refused.
TRANSITIONS: dict[tuple[CaseState, Action], CaseState] = {
    (S.OPEN, A.NOTICE): S.NOTICED,
    (S.OPEN, A.ESCALATE): S.ESCALATED,
    (S.OPEN, A.CLOSE): S.CLOSED,
    (S.NOTICED, A.EXTEND): S.NOTICED,
    (S.NOTICED, A.ACCEPT): S.CURED,
    (S.NOTICED, A.ESCALATE): S.ESCALATED,
    (S.NOTICED, A.CLOSE): S.CLOSED,
    (S.ESCALATED, A.SUSPEND): S.SUSPENDED,
    (S.ESCALATED, A.ACCEPT): S.CURED,
    (S.ESCALATED, A.CLOSE): S.CLOSED,
    (S.SUSPENDED, A.ACCEPT): S.CURED,
    (S.SUSPENDED, A.TERMINATE): S.TERMINATED,
    (S.SUSPENDED, A.CLOSE): S.CLOSED,
    (S.CURED, A.CLOSE): S.CLOSED,
}
FINAL = frozenset({S.TERMINATED, S.CLOSED})
# States whose case is still running (listed first in the console, shown in the portal).
ACTIVE = frozenset({S.OPEN, S.NOTICED, S.ESCALATED, S.SUSPENDED})


def next_state(state: CaseState, action: Action) -> CaseState:
    """The state `action` leads to from `state`, or a refusal naming both (clause 4.2)."""
    found = TRANSITIONS.get((state, action))
    if found is None:
        allowed = sorted(a.value for (s, a) in TRANSITIONS if s is state) or ["none"]
        raise RegistryError(
            f"a case that is {state.value} cannot be given {action.value!r} "
            f"(allowed: {', '.join(allowed)}; clause 4.2)"
        )
    return found


def clauses_of(case: Case) -> list[str]:
    return case.clauses.split(CLAUSE_SEPARATOR)


def findings_of(case: Case) -> list[str]:
    found = json.loads(case.finding_ids)
    return [str(item) for item in found] if isinstance(found, list) else []


def add_event(
    session: AsyncSession, case: Case, kind: str, actor: str, body: str, now: datetime, side: str
) -> CaseEvent:
    event = CaseEvent(
        id=new_id(), case_id=case.id, at=now, kind=kind, actor=actor, side=side, body=body
    )
    session.add(event)
    return event


async def _move(
    session: AsyncSession, case: Case, action: Action, *, actor: str, reason: str, now: datetime
) -> CaseState:
    target = next_state(CaseState(case.state), action)
    case.state = target.value
    case.updated_at = now
    if target in FINAL:
        case.closed_at = now
    await record(session, actor, f"case-{action.value}", "case", case.id, reason)
    add_event(session, case, action.value, actor, reason, now, "provider")
    return target


async def get_case(session: AsyncSession, case_id: str) -> Case:
    case = await session.get(Case, case_id)
    if case is None:
        raise NotFoundError(f"no case {case_id!r}")
    return case


async def list_cases(
    session: AsyncSession, *, state: str | None = None, developer_id: str | None = None
) -> list[Case]:
    query = select(Case).order_by(Case.opened_at.desc())
    if state is not None:
        if state not in CaseState.__members__.values():
            raise RegistryError(f"state must be one of {', '.join(CaseState)}")
        query = query.where(Case.state == state)
    if developer_id is not None:
        query = query.where(Case.developer_id == developer_id)
    return list(await session.scalars(query))


async def timeline(session: AsyncSession, case: Case) -> list[CaseEvent]:
    query = select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.at)
    return list(await session.scalars(query))


def _checked_clauses(policy: Policy, clauses: list[str]) -> list[str]:
    cited = list(dict.fromkeys(c.strip() for c in clauses if c.strip()))
    if not cited:
        raise RegistryError("clauses: cite at least one clause of the terms")
    unknown = [c for c in cited if c not in policy.clauses]
    if unknown:
        raise RegistryError(f"clauses: {', '.join(unknown)} is not a clause of the terms policy")
    if len(CLAUSE_SEPARATOR.join(cited)) > 200:
        raise RegistryError("clauses: too many clauses for one case")
    return cited


def cure_period(policy: Policy, clauses: list[str], cure_days: int | None) -> int:
    """The days given to cure: as asked, else the shortest of the cited clauses'; 0 means the
    provider intervenes at once (a critical clause: plausible risk of damage, clause 4.2)."""
    if cure_days is not None:
        if not 0 <= cure_days <= MAX_CURE_DAYS:
            raise RegistryError(f"cure_days must be between 0 and {MAX_CURE_DAYS}")
        return cure_days
    cited = [policy.clause(c) for c in clauses]
    if any(c.severity == "critical" for c in cited):
        return 0
    return min((c.cure_days for c in cited if c.cure_days > 0), default=0) or (
        policy.due_process.cure_days
    )


async def _party(
    session: AsyncSession, developer_id: str, application_id: str | None
) -> tuple[Developer, Application | None]:
    developer = await session.get(Developer, developer_id)
    if developer is None:
        raise RegistryError(f"developer_id: no developer {developer_id!r}")
    if application_id is None:
        return developer, None
    application = await session.get(Application, application_id)
    if application is None or application.developer_id != developer.id:
        raise RegistryError(f"application_id: the developer has no application {application_id!r}")
    return developer, application


async def open_case(
    session: AsyncSession,
    *,
    developer_id: str,
    application_id: str | None,
    clauses: list[str],
    summary: str,
    actor: str,
    now: datetime,
    finding_ids: list[str] | None = None,
    cure_days: int | None = None,
    policy: Policy | None = None,
) -> Case:
    """Opens a case and proceeds as the policy says: a notice with a cure deadline, or (cure
    period 0) immediate suspension of the party with the notice after it."""
    policy = policy or load_policy(TERMS_DIR)
    cited = _checked_clauses(policy, clauses)
    text = require_text("summary", summary, 4000, multiline=True)
    findings = list(dict.fromkeys(finding_ids or []))
    if len(findings) > MAX_FINDINGS or any(not 0 < len(f) <= 32 for f in findings):
        raise RegistryError("finding_ids: at most 100 ids of 32 characters")
    days = cure_period(policy, cited, cure_days)
    developer, application = await _party(session, developer_id, application_id)
    case = Case(
        id=new_id(),
        developer_id=developer.id,
        application_id=application.id if application else None,
        clauses=CLAUSE_SEPARATOR.join(cited),
        summary=text,
        state=CaseState.OPEN.value,
        opened_by=actor,
        opened_at=now,
        updated_at=now,
        cure_days=days,
        finding_ids=json.dumps(findings),
    )
    session.add(case)
    await session.flush()
    await record(session, actor, "case-opened", "case", case.id, f"clauses {case.clauses}: {text}")
    add_event(session, case, "opened", actor, text, now, "provider")
    if days == 0:
        await _escalate(session, case, actor=actor, reason="plausible risk of damage", now=now)
        await _suspend(session, case, policy, actor=actor, now=now)
        return case
    case.cure_deadline = now + timedelta(days=days)
    await _move(session, case, A.NOTICE, actor=actor, reason=f"{days} days to cure", now=now)
    notices.send_notice(session, developer, application, case, policy, now)
    return case


async def _escalate(
    session: AsyncSession, case: Case, *, actor: str, reason: str, now: datetime
) -> None:
    await _move(session, case, A.ESCALATE, actor=actor, reason=reason, now=now)


async def _suspend(
    session: AsyncSession, case: Case, policy: Policy, *, actor: str, now: datetime
) -> None:
    """Suspends the case's party (in force on every node through the change feed) unless it
    already is, and sets the termination date."""
    developer, application = await _party(session, case.developer_id, case.application_id)
    party = application or developer
    kind = "application" if application else "developer"
    if party.status is Status.ACTIVE:
        why = f"case {case.id}: clauses {case.clauses} (clause 4.2)"
        await change_status(session, kind, party.id, Status.SUSPENDED, why, actor)
        case.suspended_party = True
    case.terminate_at = now + timedelta(days=policy.due_process.terminate_after_days)
    case.cure_deadline = None
    await _move(session, case, A.SUSPEND, actor=actor, reason="access suspended", now=now)
    notices.send_suspension(session, developer, application, case, policy, now)


async def escalate(
    session: AsyncSession,
    case_id: str,
    *,
    actor: str,
    reason: str,
    now: datetime,
    policy: Policy | None = None,
) -> Case:
    """The policy's next step: an open or noticed case is escalated and its party suspended; a
    suspended case is terminated (clause 6.2)."""
    policy = policy or load_policy(TERMS_DIR)
    why = require_text("reason", reason, 2000, multiline=True)
    case = await get_case(session, case_id)
    state = CaseState(case.state)
    if state is S.SUSPENDED:
        await terminate(session, case, actor=actor, reason=why, now=now, policy=policy)
        return case
    if state in (S.OPEN, S.NOTICED):
        await _escalate(session, case, actor=actor, reason=why, now=now)
    elif state is not S.ESCALATED:
        next_state(state, A.ESCALATE)  # refuses, naming what is allowed
    await _suspend(session, case, policy, actor=actor, now=now)
    return case


async def terminate(
    session: AsyncSession, case: Case, *, actor: str, reason: str, now: datetime, policy: Policy
) -> Case:
    """Ends a suspended case: the breach was not remedied (clause 6.2), so the licence ends as
    a termination by the provider does (clause 6.4): an application's keys, client secret,
    tokens and consents are revoked and its end users told; a developer's whole account is
    terminated, with the deletion attestation that follows."""
    await _move(session, case, A.TERMINATE, actor=actor, reason=reason, now=now)
    developer, application = await _party(session, case.developer_id, case.application_id)
    if application is not None:
        await end_application_for_breach(session, application, actor=actor, now=now)
    elif not await is_terminated(session, developer.id):
        why = f"case {case.id}: {reason}"
        await terminate_developer(
            session,
            developer.id,
            ground=UNCURED_BREACH,
            reason=why,
            actor=actor,
            settings=get_settings(),
        )
    notices.send_termination(session, developer, application, case, policy, now)
    return case


async def accept_cure(
    session: AsyncSession, case_id: str, *, actor: str, reason: str, now: datetime
) -> Case:
    """The provider accepts the remedy; a party this case suspended is reinstated."""
    why = require_text("reason", reason, 2000, multiline=True)
    case = await get_case(session, case_id)
    await _move(session, case, A.ACCEPT, actor=actor, reason=why, now=now)
    developer, application = await _party(session, case.developer_id, case.application_id)
    if case.suspended_party:
        party = application or developer
        if party.status is Status.SUSPENDED:
            kind = "application" if application else "developer"
            await change_status(
                session, kind, party.id, Status.ACTIVE, f"case {case.id}: {why}", actor
            )
        case.suspended_party = False
    case.cure_deadline = case.terminate_at = None
    notices.send_cured(session, developer, case, why)
    return case


async def extend_deadline(
    session: AsyncSession, case_id: str, *, days: int, actor: str, reason: str, now: datetime
) -> Case:
    why = require_text("reason", reason, 2000, multiline=True)
    if not 1 <= days <= MAX_CURE_DAYS:
        raise RegistryError(f"days must be between 1 and {MAX_CURE_DAYS}")
    case = await get_case(session, case_id)
    next_state(CaseState(case.state), A.EXTEND)
    assert case.cure_deadline is not None
    case.cure_deadline = max(case.cure_deadline, now) + timedelta(days=days)
    reason_line = f"{why} (new deadline {case.cure_deadline:%Y-%m-%d %H:%M} UTC)"
    await _move(session, case, A.EXTEND, actor=actor, reason=reason_line, now=now)
    developer = await session.get_one(Developer, case.developer_id)
    notices.send_extension(session, developer, case, why)
    return case


async def close_case(
    session: AsyncSession, case_id: str, *, actor: str, reason: str, now: datetime
) -> Case:
    """No (further) action. A suspension stays until reinstated on the party's page."""
    why = require_text("reason", reason, 2000, multiline=True)
    case = await get_case(session, case_id)
    await _move(session, case, A.CLOSE, actor=actor, reason=why, now=now)
    case.cure_deadline = case.terminate_at = None
    return case


async def add_note(
    session: AsyncSession, case_id: str, *, actor: str, text: str, now: datetime
) -> CaseEvent:
    """A provider's note on the timeline (not sent to the developer)."""
    body = require_text("note", text, 4000, multiline=True)
    case = await get_case(session, case_id)
    await record(session, actor, "case-note", "case", case.id, body[:200])
    return add_event(session, case, "note", actor, body, now, "provider")


# What a person may do to a case by hand (console, admin API, command line).
MANUAL_ACTIONS = ("accept", "extend", "escalate", "close")


async def act(
    session: AsyncSession,
    case_id: str,
    action: str,
    *,
    actor: str,
    reason: str,
    now: datetime,
    days: int | None = None,
) -> Case:
    """One of `MANUAL_ACTIONS`, refused with the field named when the input is wrong."""
    if action == "accept":
        return await accept_cure(session, case_id, actor=actor, reason=reason, now=now)
    if action == "extend":
        if days is None:
            raise RegistryError("days: say by how many days to extend the deadline")
        return await extend_deadline(
            session, case_id, days=days, actor=actor, reason=reason, now=now
        )
    if action == "escalate":
        return await escalate(session, case_id, actor=actor, reason=reason, now=now)
    if action == "close":
        return await close_case(session, case_id, actor=actor, reason=reason, now=now)
    raise RegistryError(f"action: choose one of {', '.join(MANUAL_ACTIONS)}")
