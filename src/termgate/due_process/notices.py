"""What a case tells the developer: in the portal inbox and by mail (queued in the case's
transaction, sent after its commit). A notice says what was seen, which clause, what to do and
by when (clause 4.2); the timeline keeps a copy of each."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.due_process import Case, CaseEvent
from termgate.db.models import Application, Developer, new_id
from termgate.notify.inbox import notify_developer
from termgate.registry.clauses import Policy

SYSTEM = "termgate"


def _when(moment: datetime | None) -> str:
    return f"{moment:%d %B %Y %H:%M} UTC" if moment else "now"


def _party(application: Application | None) -> str:
    return f"your application {application.name!r}" if application else "your developer account"


def _clauses(case: Case, policy: Policy) -> str:
    lines = []
    for clause_id in case.clauses.split("; "):
        clause = policy.clauses.get(clause_id)
        lines.append(f"- clause {clause_id}: {clause.title if clause else ''}".rstrip(": "))
    return "\n".join(lines)


def _evidence(case: Case) -> str:
    findings = json.loads(case.finding_ids)
    if not findings:
        return ""
    return "\nFindings of the provider's monitoring: " + ", ".join(map(str, findings)) + "\n"


def _send(
    session: AsyncSession,
    developer: Developer,
    case: Case,
    kind: str,
    subject: str,
    body: str,
    now: datetime,
) -> None:
    notify_developer(session, developer, kind, subject, body)
    session.add(
        CaseEvent(
            id=new_id(),
            case_id=case.id,
            at=now,
            kind=kind,
            actor=SYSTEM,
            side="provider",
            body=body,
        )
    )


def case_link(case: Case) -> str:
    return f"/portal/cases/{case.id}"


def send_notice(
    session: AsyncSession,
    developer: Developer,
    application: Application | None,
    case: Case,
    policy: Policy,
    now: datetime,
) -> None:
    body = (
        f"The provider has seen use of {_party(application)} that appears to breach the API "
        f"Terms of Use.\n\nWhat was seen: {case.summary}\n{_evidence(case)}\n"
        f"Clauses concerned:\n{_clauses(case, policy)}\n\n"
        f"What to do: stop the use described, remedy its effects, and reply in the developer "
        f"portal ({case_link(case)}) saying what you changed, with files if they help.\n\n"
        f"By when: {_when(case.cure_deadline)}. A breach not remedied by then leads to "
        "suspension of access and, after a further period, termination (clauses 4.2 and 6.2)."
    )
    by = _when(case.cure_deadline)
    subject = f"Notice of a suspected breach (clause {case.clauses}): reply by {by}"
    _send(session, developer, case, "case-notice", subject[:300], body, now)


def send_reminder(
    session: AsyncSession, developer: Developer, case: Case, days: int, now: datetime
) -> None:
    body = (
        f"Reminder: the cure period of case {case.id} (clause {case.clauses}) ends "
        f"{_when(case.cure_deadline)}, in about {days} day{'s' if days != 1 else ''}.\n\n"
        f"What was seen: {case.summary}\n\nReply in the developer portal ({case_link(case)}). "
        "Without a remedy accepted by the provider, access is suspended at the deadline "
        "(clause 4.2)."
    )
    subject = f"Reminder: {days} day{'s' if days != 1 else ''} left to remedy case {case.id[:8]}"
    _send(session, developer, case, "case-reminder", subject, body, now)


def send_suspension(
    session: AsyncSession,
    developer: Developer,
    application: Application | None,
    case: Case,
    policy: Policy,
    now: datetime,
) -> None:
    body = (
        f"Access of {_party(application)} is suspended because of case {case.id}.\n\n"
        f"What was seen: {case.summary}\n{_evidence(case)}\n"
        f"Clauses concerned:\n{_clauses(case, policy)}\n\n"
        f"What to do: remedy the breach and reply in the developer portal ({case_link(case)}). "
        f"Unless the provider accepts a remedy by {_when(case.terminate_at)}, the licence is "
        "terminated (clause 6.2)."
    )
    subject = f"Access suspended (clause {case.clauses}), case {case.id[:8]}"
    _send(session, developer, case, "case-suspended", subject[:300], body, now)


def send_termination(
    session: AsyncSession,
    developer: Developer,
    application: Application | None,
    case: Case,
    policy: Policy,
    now: datetime,
) -> None:
    body = (
        f"The breach of case {case.id} was not remedied (clauses concerned:\n"
        f"{_clauses(case, policy)}).\n\nThe licence for {_party(application)} is terminated "
        "(clause 6.2); its access stays suspended."
    )
    _send(session, developer, case, "case-terminated", f"Terminated: case {case.id[:8]}", body, now)


def send_cured(session: AsyncSession, developer: Developer, case: Case, reason: str) -> None:
    body = (
        f"The provider accepted your remedy for case {case.id} (clause {case.clauses}).\n\n"
        f"{reason}\n\nNo further action is needed."
    )
    notify_developer(session, developer, "case-cured", f"Case {case.id[:8]} is resolved", body)


def send_extension(session: AsyncSession, developer: Developer, case: Case, reason: str) -> None:
    body = (
        f"The provider extended the cure period of case {case.id} to "
        f"{_when(case.cure_deadline)}.\n\n{reason}"
    )
    notify_developer(session, developer, "case-extended", f"Case {case.id[:8]}: more time", body)
