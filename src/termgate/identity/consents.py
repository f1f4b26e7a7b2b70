"""The consent ledger (clause 3.3 a; GDPR Art. 7(1)): who let which application read what.

A consent records the end user, the application, the scopes, the debtors, the consent text the
end user saw, when, and from where. Withdrawing it revokes every token family issued under it
and appends to the change feed, so each gateway node refuses those tokens within its snapshot
interval, and the token endpoint refuses their refresh tokens at once.

At most one consent per end user and application is live: a new consent replaces the earlier
one (and ends its tokens), so "what may this application read" always has one answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.identity import Consent, EndUser, TokenFamily
from termgate.db.models import Application
from termgate.registry.audit import record
from termgate.registry.changes import record_access_change

CONSENT_TEXT_VERSION = "consent-1"
CONSENT_TEXT = (
    "By choosing Allow you let {application} read the data described above of the customer "
    "accounts you tick, on your behalf, until you revoke this consent on the Connected apps page."
)


def end_user_actor(end_user_id: str) -> str:
    return f"end-user:{end_user_id}"


async def live_consents(
    session: AsyncSession, end_user_id: str, application_id: str | None = None
) -> list[Consent]:
    query = select(Consent).where(
        Consent.end_user_id == end_user_id, Consent.withdrawn_at.is_(None)
    )
    if application_id is not None:
        query = query.where(Consent.application_id == application_id)
    return list(await session.scalars(query.order_by(Consent.granted_at.desc())))


async def all_consents(session: AsyncSession, end_user_id: str) -> list[Consent]:
    """Every consent the end user gave, withdrawn ones included (the proof of Art. 7(1))."""
    query = select(Consent).where(Consent.end_user_id == end_user_id)
    return list(await session.scalars(query.order_by(Consent.granted_at)))


async def grant_consent(
    session: AsyncSession,
    *,
    end_user: EndUser,
    application: Application,
    scopes: str,
    debtors: Sequence[int],
    ip: str,
    user_agent: str,
    now: datetime,
) -> Consent:
    actor = end_user_actor(end_user.id)
    for earlier in await live_consents(session, end_user.id, application.id):
        await withdraw(session, earlier, "replaced by a new consent", actor, now)
    consent = Consent(
        end_user_id=end_user.id,
        application_id=application.id,
        scopes=scopes,
        debtor_ids=",".join(str(debtor) for debtor in sorted(set(debtors))),
        consent_text_version=CONSENT_TEXT_VERSION,
        granted_at=now,
        ip=ip[:64],
        user_agent=user_agent[:500],
    )
    session.add(consent)
    await session.flush()
    detail = f"application {application.id}; scopes {scopes}; debtors {consent.debtor_ids}"
    await record(session, actor, "granted-consent", "consent", consent.id, detail)
    return consent


async def withdraw(
    session: AsyncSession, consent: Consent, reason: str, actor: str, now: datetime
) -> None:
    """Ends the consent and every token issued under it; a second call changes nothing."""
    if consent.withdrawn_at is not None:
        return
    consent.withdrawn_at = now
    consent.withdrawal_reason = reason
    families = await session.scalars(
        select(TokenFamily).where(
            TokenFamily.consent_id == consent.id, TokenFamily.revoked_at.is_(None)
        )
    )
    for family in families:
        await revoke_family(session, family, f"consent withdrawn: {reason}", actor, now)
    record_access_change(session, "consent", consent.id)
    await record(session, actor, "withdrew-consent", "consent", consent.id, reason)


async def revoke_family(
    session: AsyncSession, family: TokenFamily, reason: str, actor: str, now: datetime
) -> None:
    """Ends one authorization: its refresh tokens here, its access tokens on every gateway."""
    if family.revoked_at is not None:
        return
    family.revoked_at = now
    family.revoke_reason = reason
    record_access_change(session, "token_family", family.id)
    await record(session, actor, "revoked-token-family", "token_family", family.id, reason)
