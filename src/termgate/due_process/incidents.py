"""Incident reports (clause 5.1): a developer reports a security incident or data leak; the
provider sees a clock from the moment of discovery (72 hours by default, the horizon of GDPR
Art. 33), triages it, contains it in one step (the application's keys and tokens, or only the
tokens of the affected end users) and tells those end users with a text of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.due_process_records import IncidentReport, IncidentState
from termgate.db.models import Application, Developer
from termgate.db.oauth import Consent, EndUser
from termgate.due_process.end_user_notices import tell_end_users
from termgate.due_process.revocation import Revoked, revoke_keys, revoke_tokens
from termgate.governance.errors import PolicyInputError
from termgate.settings import Settings

# The order a report moves in; containment may come straight from `reported`.
NEXT_STATES = {
    IncidentState.REPORTED: {IncidentState.TRIAGED, IncidentState.CONTAINED, IncidentState.CLOSED},
    IncidentState.TRIAGED: {IncidentState.CONTAINED, IncidentState.CLOSED},
    IncidentState.CONTAINED: {IncidentState.CLOSED},
    IncidentState.CLOSED: set(),
}
CONTAINMENT_SCOPES = ("application", "end-users")
MAX_AFFECTED = 10_000


@dataclass(frozen=True)
class IncidentInput:
    application_id: str
    summary: str
    discovered_at: str  # ISO date-time; UTC when it names no offset
    affected_end_users: str  # end-user ids or usernames, one per line or comma separated
    data_categories: str
    containment: str


@dataclass(frozen=True)
class Clock:
    """How long the provider has left to notify, from the moment of discovery."""

    deadline: datetime
    seconds_left: int

    @property
    def overdue(self) -> bool:
        return self.seconds_left < 0

    @property
    def words(self) -> str:
        hours, rest = divmod(abs(self.seconds_left), 3600)
        span = f"{hours} h {rest // 60:02d} min"
        return f"overdue by {span}" if self.overdue else f"{span} left"


def clock(incident: IncidentReport, now: datetime) -> Clock:
    deadline = incident.discovered_at + timedelta(hours=incident.clock_hours)
    return Clock(deadline, int((deadline - now).total_seconds()))


def _discovered(value: str, now: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise PolicyInputError(
            "discovered_at", f"{value!r} is not a date and time (YYYY-MM-DDTHH:MM)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment > now + timedelta(minutes=5):
        raise PolicyInputError("discovered_at", "the discovery cannot be in the future")
    return moment


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]


async def _affected(session: AsyncSession, application: Application, text: str) -> list[str]:
    """The end-user ids `text` names (ids or usernames), each one who connected the app."""
    names = _names(text)
    if len(names) > MAX_AFFECTED:
        raise PolicyInputError("affected_end_users", f"at most {MAX_AFFECTED} end users")
    if not names:
        return []
    rows = await session.execute(
        select(EndUser.id, EndUser.username)
        .join(Consent, Consent.end_user_id == EndUser.id)
        .where(
            Consent.application_id == application.id,
            or_(EndUser.id.in_(names), EndUser.username.in_(names)),
        )
    )
    known: dict[str, str] = {}
    for end_user_id, username in rows:
        known[end_user_id] = end_user_id
        known[username] = end_user_id
    unknown = [name for name in names if name not in known]
    if unknown:
        raise PolicyInputError(
            "affected_end_users",
            f"{', '.join(unknown[:5])} never connected {application.name}",
        )
    return sorted({known[name] for name in names})


async def report_incident(
    session: AsyncSession, developer: Developer, given: IncidentInput, settings: Settings
) -> IncidentReport:
    now = settings.now()
    application = await session.get(Application, given.application_id.strip())
    if application is None or application.developer_id != developer.id:
        raise PolicyInputError("application_id", "choose one of your applications")
    summary = given.summary.strip()
    if not summary or len(summary) > 5000:
        raise PolicyInputError("summary", "say what happened (at most 5000 characters)")
    discovered_at = _discovered(given.discovered_at, now)
    affected = await _affected(session, application, given.affected_end_users)
    categories = ", ".join(_names(given.data_categories))
    if len(categories) > 1000:
        raise PolicyInputError("data_categories", "at most 1000 characters")
    incident = IncidentReport(
        developer_id=developer.id,
        application_id=application.id,
        summary=summary,
        discovered_at=discovered_at,
        reported_at=now,
        affected_end_users="\n".join(affected),
        data_categories=categories,
        containment=given.containment.strip()[:5000],
        clock_hours=settings.incident_clock_hours,
    )
    session.add(incident)
    await session.flush()
    detail = (
        f"application {application.id}; discovered {discovered_at.isoformat()}; "
        f"{len(affected)} end users affected"
    )
    await record(
        session, f"developer:{developer.email}", "reported", "incident", incident.id, detail
    )
    return incident


async def incident_of(session: AsyncSession, incident_id: str) -> IncidentReport:
    incident = await session.get(IncidentReport, incident_id)
    if incident is None:
        raise NotFoundError(f"no incident {incident_id!r}")
    return incident


def affected_ids(incident: IncidentReport) -> list[str]:
    return [line for line in incident.affected_end_users.splitlines() if line]


def _move(incident: IncidentReport, state: IncidentState, now: datetime) -> None:
    if state not in NEXT_STATES[incident.state]:
        raise RegistryError(
            f"the incident is {incident.state.value}; it cannot become {state.value}"
        )
    incident.state = state
    if state is IncidentState.CLOSED:
        incident.closed_at = now


async def triage(
    session: AsyncSession,
    incident: IncidentReport,
    state: str,
    reason: str,
    actor: str,
    now: datetime,
) -> IncidentReport:
    """Moves the report to `state` (triaged or closed) with a reason."""
    try:
        target = IncidentState(state.strip())
    except ValueError:
        target = None
    if target not in (IncidentState.TRIAGED, IncidentState.CLOSED):
        raise PolicyInputError(
            "state", "state must be triaged or closed (contain it to contain it)"
        )
    why = reason.strip()
    if not why:
        raise PolicyInputError("reason", "give a reason; it is recorded in the audit trail")
    _move(incident, target, now)
    await record(session, actor, target.value, "incident", incident.id, why)
    return incident


async def contain(
    session: AsyncSession,
    incident: IncidentReport,
    scope: str,
    reason: str,
    actor: str,
    now: datetime,
) -> Revoked:
    """One-click containment: `application` revokes the application's keys and every token,
    `end-users` only the tokens of the affected end users."""
    if scope not in CONTAINMENT_SCOPES:
        raise PolicyInputError("scope", f"scope must be one of {', '.join(CONTAINMENT_SCOPES)}")
    why = reason.strip() or f"containment of incident {incident.id}"
    affected = affected_ids(incident)
    if scope == "end-users" and not affected:
        raise PolicyInputError(
            "scope", "the report names no affected end users; contain the application"
        )
    _move(incident, IncidentState.CONTAINED, now)
    incident.contained_at = now
    application = await session.get_one(Application, incident.application_id)
    if scope == "application":
        revoked = Revoked(
            keys=await revoke_keys(session, application, reason=why, actor=actor, now=now)
        )
        revoked.add(await revoke_tokens(session, application, reason=why, actor=actor, now=now))
    else:
        revoked = await revoke_tokens(
            session, application, reason=why, actor=actor, now=now, end_user_ids=affected
        )
    summary = (
        f"{scope}: {revoked.keys} keys, {revoked.token_families} token families revoked; {why}"
    )
    await record(session, actor, "contained", "incident", incident.id, summary)
    return revoked


async def notify_affected(
    session: AsyncSession, incident: IncidentReport, text: str, actor: str, now: datetime
) -> int:
    """The provider's own text to every affected end user (page notice and e-mail)."""
    body = text.strip()
    if not body or len(body) > 5000:
        raise PolicyInputError(
            "text", "write the notice to the end users (at most 5000 characters)"
        )
    affected = affected_ids(incident)
    if not affected:
        raise RegistryError("the report names no affected end users to notify")
    application = await session.get_one(Application, incident.application_id)
    told = await tell_end_users(
        session,
        affected,
        application_name=application.name,
        kind="incident",
        subject=f"A security incident at {application.name}",
        body=body,
        now=now,
    )
    incident.end_users_notified_at = now
    await record(
        session, actor, "notified-end-users", "incident", incident.id, f"{told} end users told"
    )
    return told


async def list_incidents(
    session: AsyncSession, developer_id: str | None = None
) -> list[IncidentReport]:
    query = select(IncidentReport).order_by(IncidentReport.reported_at.desc())
    if developer_id is not None:
        query = query.where(IncidentReport.developer_id == developer_id)
    return list(await session.scalars(query))


async def incident_clocks(session: AsyncSession, now: datetime) -> int:
    """Scheduler job: records, once each, an open incident whose clock ran out before its
    end users were told."""
    acted = 0
    query = select(IncidentReport).where(
        IncidentReport.state != IncidentState.CLOSED,
        IncidentReport.end_users_notified_at.is_(None),
        IncidentReport.clock_expired_at.is_(None),
    )
    for incident in await session.scalars(query):
        if not clock(incident, now).overdue:
            continue
        incident.clock_expired_at = now
        reason = f"{incident.clock_hours} h since discovery passed without a notice"
        await record(session, "scheduler", "clock-expired", "incident", incident.id, reason)
        acted += 1
    return acted
