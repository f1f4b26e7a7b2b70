"""Termination (clauses 6.2-6.4): the developer closes their account, or the provider ends it on
a ground (an uncured material breach, an insolvency event, other).

In one transaction every key, client secret, token and consent of the developer's applications
is revoked (every gateway node refuses within its snapshot interval), the account is closed and
its sessions end, the end users of those applications are told their connected application is
gone, and a deletion attestation (6.4) falls due, asked for by a link mailed to the developer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.core.changes import record_access_change
from termgate.core.errors import NotFoundError, RegistryError
from termgate.core.secrets import generate_key, hash_key
from termgate.core.sessions import end_every_session
from termgate.db.due_process_records import Termination, TerminationGround
from termgate.db.models import Application, Developer, Status
from termgate.due_process.end_user_notices import tell_end_users
from termgate.due_process.revocation import Revoked, end_application
from termgate.governance.errors import PolicyInputError
from termgate.notify.inbox import notify_developer
from termgate.settings import Settings

PROVIDER_GROUNDS = (
    TerminationGround.UNCURED_BREACH,
    TerminationGround.INSOLVENCY,
    TerminationGround.OTHER,
)
GROUND_WORDS = {
    TerminationGround.DEVELOPER_CLOSURE: "you closed your account (clause 6.2)",
    TerminationGround.UNCURED_BREACH: "a material breach was not cured in time (clause 6.2)",
    TerminationGround.INSOLVENCY: "an insolvency event (clause 6.2)",
    TerminationGround.OTHER: "the provider ended the agreement (clause 6.2)",
}


def provider_ground(value: str) -> TerminationGround:
    """A ground the provider may give; `PolicyInputError` on `ground` otherwise."""
    try:
        ground = TerminationGround(value.strip())
    except ValueError:
        ground = None
    if ground not in PROVIDER_GROUNDS:
        choices = ", ".join(g.value for g in PROVIDER_GROUNDS)
        raise PolicyInputError("ground", f"ground must be one of {choices}, not {value!r}")
    return ground


def attestation_link(settings: Settings, termination: Termination, secret: str) -> str:
    return f"{settings.base_url}/portal/attest/{termination.id}?token={secret}"


async def terminate(
    session: AsyncSession,
    developer_id: str,
    *,
    ground: TerminationGround,
    reason: str,
    actor: str,
    settings: Settings,
) -> Termination:
    """Ends the developer's licence; refuses (409) a developer already terminated."""
    why = reason.strip()
    if not why:
        raise PolicyInputError("reason", "give a reason; it is recorded and sent to the developer")
    if len(why) > 2000:
        raise PolicyInputError("reason", "the reason is longer than 2000 characters")
    developer = await session.get(Developer, developer_id)
    if developer is None:
        raise NotFoundError(f"no developer {developer_id!r}")
    if await is_terminated(session, developer.id):
        raise RegistryError(f"the account of {developer.email} was already terminated")
    now = settings.now()
    revoked = Revoked()
    applications = list(
        await session.scalars(select(Application).where(Application.developer_id == developer.id))
    )
    revocation = f"terminated: {GROUND_WORDS[ground]}"
    told = 0
    for application in applications:
        ended, told_now = await _end_and_tell(
            session, application, "its developer's licence", reason=revocation, actor=actor, now=now
        )
        revoked.add(ended)
        told += told_now
    developer.status = Status.REVOKED
    developer.status_reason = revocation
    end_every_session(developer)
    record_access_change(session, "developer", developer.id)
    secret = generate_key()
    termination = Termination(
        developer_id=developer.id,
        ground=ground,
        reason=why,
        actor=actor,
        terminated_at=now,
        keys_revoked=revoked.keys,
        token_families_revoked=revoked.token_families,
        consents_withdrawn=revoked.consents,
        end_users_told=told,
        attestation_due_at=now + timedelta(days=settings.attestation_days),
        attestation_token_hash=hash_key(secret),
    )
    session.add(termination)
    await session.flush()
    summary = (
        f"{ground.value}: {why}; {revoked.keys} keys, {revoked.token_families} token families, "
        f"{revoked.consents} consents revoked; {told} end users told"
    )
    await record(session, actor, "terminated", "developer", developer.id, summary)
    await record(session, actor, "opened", "termination", termination.id, summary)
    notify_developer(
        session,
        developer,
        "terminated",
        "Your API licence has ended",
        f"Your licence to the API has ended: {GROUND_WORDS[ground]}.\n\nReason: {why}\n\n"
        "Every key, secret and token of your applications is revoked. Under clause 6.4 you must "
        "delete the data you stored and attest it by "
        f"{termination.attestation_due_at:%d %b %Y %H:%M} UTC here:\n\n"
        f"{attestation_link(settings, termination, secret)}\n",
    )
    return termination


UNCURED_BREACH = TerminationGround.UNCURED_BREACH


async def is_terminated(session: AsyncSession, developer_id: str) -> bool:
    found = await session.scalar(
        select(Termination.id).where(Termination.developer_id == developer_id)
    )
    return found is not None


async def end_application_for_breach(
    session: AsyncSession, application: Application, *, actor: str, now: datetime
) -> Revoked:
    """One application's licence ended for a breach not remedied (clause 6.2); the developer's
    other applications go on."""
    reason = f"terminated: {GROUND_WORDS[UNCURED_BREACH]}"
    ended, _ = await _end_and_tell(
        session, application, "its licence", reason=reason, actor=actor, now=now
    )
    return ended


async def _end_and_tell(
    session: AsyncSession,
    application: Application,
    whose_licence: str,
    *,
    reason: str,
    actor: str,
    now: datetime,
) -> tuple[Revoked, int]:
    """The application revoked for good, and each of its end users told why; the number told."""
    ended = await end_application(session, application, reason=reason, actor=actor, now=now)
    told = await tell_end_users(
        session,
        ended.end_user_ids,
        application_name=application.name,
        kind="application-gone",
        subject=f"{application.name} can no longer read your data",
        body=(
            f"The application {application.name} no longer has access to your payroll data: "
            f"{whose_licence} has ended. Its consents and tokens are revoked; it must delete the "
            "data it stored (clause 6.4)."
        ),
        now=now,
    )
    return ended, told


async def termination_of(session: AsyncSession, termination_id: str) -> Termination:
    termination = await session.get(Termination, termination_id)
    if termination is None:
        raise NotFoundError(f"no termination {termination_id!r}")
    return termination


async def list_terminations(session: AsyncSession) -> list[Termination]:
    query = select(Termination).order_by(Termination.terminated_at.desc())
    return list(await session.scalars(query))
