"""The consent ledger (clause 3.3 a; GDPR Art. 7(1)): who let which application read what.

A consent records the end user, the application, the scopes, the debtors, the consent text the
end user saw, when, and from where. Withdrawing it revokes every token family issued under it
and appends to the change feed, so each gateway node refuses those tokens within its snapshot
interval, and the token endpoint refuses their refresh tokens at once.

At most one consent per end user and application is live: a new consent replaces the earlier
one, so "what may this application read" always has one answer. Replacing does not end the
integrations already running (a second device, reconnecting after adding a customer): each token
family keeps the scopes and debtors it was authorised with, and moves over to the new consent
when that still covers them. A family the new consent no longer covers (a debtor or a scope was
left out) is revoked, like a withdrawn consent's, so the gateway refuses what was withdrawn.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.core.changes import record_access_change
from termgate.core.errors import RegistryError
from termgate.core.scopes import granted_scopes
from termgate.core.tenant_ids import TenantIdError, canonical_debtor_ids, debtor_order
from termgate.core.users_served import admits_new, over_cap
from termgate.db.models import Application, Plan, Product, Status, Subscription
from termgate.db.oauth import Consent, EndUser, TokenFamily

REPLACED = "replaced by a new consent"
CONSENT_TEXT_VERSION = "consent-1"
CONSENT_TEXT = (
    "By choosing Allow you let {application} read the data described above of the customer "
    "accounts you tick, on your behalf, until you revoke this consent on the Connected apps page."
)


class ConsentDebtorsError(RegistryError):
    """Clause 3.3 a: a consent names exactly debtors its end user sees, each a debtor id in
    canonical-able form; anything else is refused, never dropped or widened."""


def consented_debtors(end_user: EndUser, debtors: Iterable[object]) -> tuple[str, ...]:
    """The canonical ids of `debtors`, all of which `end_user` sees; ConsentDebtorsError names
    the first that is not a debtor id, or the ones the end user does not see."""
    try:
        chosen = canonical_debtor_ids(debtors)
    except TenantIdError as error:
        raise ConsentDebtorsError(str(error)) from None
    if not chosen:
        raise ConsentDebtorsError("a consent names at least one customer account")
    unseen = set(chosen) - set(end_user.debtors)
    if unseen:
        listing = ", ".join(sorted(unseen, key=debtor_order))
        raise ConsentDebtorsError(f"this login does not see the customer accounts {listing}")
    return chosen


class UsersServedCapError(RegistryError):
    """Clause 4.4: the application's plan caps the end users or debtors it serves, and this
    consent would go beyond the cap (end users and debtors already served may consent again)."""


async def _capped_plans(session: AsyncSession, application: Application) -> list[Plan]:
    """The plans of the application's live subscriptions in its environment that cap users."""
    plans = await session.scalars(
        select(Plan)
        .join(Subscription, Subscription.plan_id == Plan.id)
        .join(Product, Plan.product_id == Product.id)
        .where(
            Subscription.application_id == application.id,
            Subscription.status == Status.ACTIVE,
            Product.environment == application.environment,
        )
    )
    return [
        plan for plan in plans if plan.max_end_users is not None or plan.max_debtors is not None
    ]


async def check_users_served(
    session: AsyncSession, application: Application, end_user_id: str, debtors: Sequence[str]
) -> None:
    """Raise `UsersServedCapError` when a consent of this end user over these debtors would go
    beyond a cap of the application's plan (clause 4.4)."""
    plans = await _capped_plans(session, application)
    if not plans:
        return
    rows = await session.execute(
        select(Consent.id, Consent.end_user_id, Consent.debtor_ids)
        .where(Consent.application_id == application.id, Consent.withdrawn_at.is_(None))
        .order_by(Consent.granted_at, Consent.id)
    )
    consents = [(row[0], row[1], row[2]) for row in rows.all()]
    for plan in plans:
        beyond = over_cap(consents, plan.max_end_users, plan.max_debtors)
        users = {user for consent, user, _ in consents if consent not in beyond}
        served = {
            debtor
            for consent, _, listing in consents
            if consent not in beyond
            for debtor in listing.split(",")
            if debtor
        }
        reason = admits_new(
            users, served, end_user_id, debtors, plan.max_end_users, plan.max_debtors
        )
        if reason is not None:
            raise UsersServedCapError(reason)


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


def withdrawn_from(family: TokenFamily, consent: Consent) -> str | None:
    """What `family` carries that `consent` does not grant ("debtors 1002; scopes x.read"), or
    None when the consent covers the family (a write scope covers its read scope). Both hold
    canonical ids, so comparing the strings compares the debtors."""
    scopes = set(family.scope.split()) - granted_scopes(frozenset(consent.scopes.split()))
    debtors = set(family.debtors) - set(consent.debtors)
    parts = []
    if debtors:
        parts.append("debtors " + ",".join(sorted(debtors, key=debtor_order)))
    if scopes:
        parts.append("scopes " + " ".join(sorted(scopes)))
    return "; ".join(parts) or None


async def grant_consent(
    session: AsyncSession,
    *,
    end_user: EndUser,
    application: Application,
    scopes: str,
    debtors: Iterable[str],
    ip: str,
    user_agent: str,
    now: datetime,
) -> Consent:
    """Records the end user's consent over `debtors` (ids in any accepted spelling, all seen by
    the end user: `ConsentDebtorsError` otherwise) and replaces the earlier one."""
    actor = end_user_actor(end_user.id)
    chosen = consented_debtors(end_user, debtors)
    await check_users_served(session, application, end_user.id, chosen)
    earlier = await live_consents(session, end_user.id, application.id)
    consent = Consent(
        end_user_id=end_user.id,
        application_id=application.id,
        scopes=scopes,
        debtor_ids=",".join(chosen),
        consent_text_version=CONSENT_TEXT_VERSION,
        granted_at=now,
        ip=ip[:64],
        user_agent=user_agent[:500],
    )
    session.add(consent)
    await session.flush()
    detail = f"application {application.id}; scopes {scopes}; debtors {consent.debtor_ids}"
    await record(session, actor, "granted-consent", "consent", consent.id, detail)
    for previous in earlier:
        await _replace(session, previous, consent, actor, now)
    return consent


async def _live_families(session: AsyncSession, consent: Consent) -> list[TokenFamily]:
    return list(
        await session.scalars(
            select(TokenFamily)
            .where(TokenFamily.consent_id == consent.id, TokenFamily.revoked_at.is_(None))
            .order_by(TokenFamily.created_at, TokenFamily.id)
        )
    )


async def _replace(
    session: AsyncSession, previous: Consent, successor: Consent, actor: str, now: datetime
) -> None:
    """Ends `previous` in favour of `successor` (the same end user's, for the same application):
    each of its token families that `successor` covers moves over to it and stays valid, with
    the claims it had; every other is revoked, naming what the new consent withdrew."""
    previous.withdrawn_at = now
    previous.withdrawal_reason = REPLACED
    for family in await _live_families(session, previous):
        withdrawn = withdrawn_from(family, successor)
        if withdrawn is None:
            family.consent_id = successor.id
            reason = f"covered by the new consent {successor.id}"
            await record(session, actor, "kept-token-family", "token_family", family.id, reason)
        else:
            reason = f"the new consent {successor.id} withdrew {withdrawn}"
            await revoke_family(session, family, reason, actor, now)
    record_access_change(session, "consent", previous.id)
    await record(session, actor, "replaced-consent", "consent", previous.id, successor.id)


async def withdraw(
    session: AsyncSession, consent: Consent, reason: str, actor: str, now: datetime
) -> None:
    """Ends the consent and every token issued under it (families taken over from the consents
    it replaced included); a second call changes nothing."""
    if consent.withdrawn_at is not None:
        return
    consent.withdrawn_at = now
    consent.withdrawal_reason = reason
    for family in await _live_families(session, consent):
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
