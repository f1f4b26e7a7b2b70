"""Taking an application's access away: its keys, its OAuth client secret, the token families
and consents of its end users. Used by incident containment (5.1) and termination (6.2-6.4).

Every revocation writes the change feed in the caller's transaction, so every gateway node
refuses within its snapshot interval, and each is audited with who and why.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.core.changes import record_access_change
from termgate.db.models import Application, Status, Subscription, SubscriptionKey
from termgate.db.oauth import Consent, TokenFamily
from termgate.identity.consents import revoke_family, withdraw


@dataclass
class Revoked:
    """What one revocation took away, and from whom."""

    keys: int = 0
    token_families: int = 0
    consents: int = 0
    end_user_ids: set[str] = field(default_factory=set)

    def add(self, other: Revoked) -> None:
        self.keys += other.keys
        self.token_families += other.token_families
        self.consents += other.consents
        self.end_user_ids |= other.end_user_ids


async def revoke_keys(
    session: AsyncSession, application: Application, *, reason: str, actor: str, now: datetime
) -> int:
    """Every live key of every subscription of the application; the number revoked."""
    keys = await session.scalars(
        select(SubscriptionKey)
        .join(Subscription, SubscriptionKey.subscription_id == Subscription.id)
        .where(
            Subscription.application_id == application.id,
            SubscriptionKey.status != Status.REVOKED,
        )
    )
    count = 0
    for key in list(keys):
        key.status = Status.REVOKED
        key.status_reason = reason
        key.revoked_at = now
        await record(session, actor, "revoked", "key", key.id, reason)
        record_access_change(session, "subscription_key", key.id)
        count += 1
    return count


async def revoke_tokens(
    session: AsyncSession,
    application: Application,
    *,
    reason: str,
    actor: str,
    now: datetime,
    end_user_ids: Collection[str] | None = None,
) -> Revoked:
    """The application's live token families, all or only those of `end_user_ids`."""
    query = select(TokenFamily).where(
        TokenFamily.application_id == application.id, TokenFamily.revoked_at.is_(None)
    )
    if end_user_ids is not None:
        query = query.where(TokenFamily.end_user_id.in_(sorted(end_user_ids)))
    revoked = Revoked()
    for family in list(await session.scalars(query.order_by(TokenFamily.id))):
        await revoke_family(session, family, reason, actor, now)
        revoked.token_families += 1
        revoked.end_user_ids.add(family.end_user_id)
    return revoked


async def withdraw_consents(
    session: AsyncSession, application: Application, *, reason: str, actor: str, now: datetime
) -> Revoked:
    """Every live consent of the application's end users, with the tokens issued under them."""
    consents = await session.scalars(
        select(Consent).where(
            Consent.application_id == application.id, Consent.withdrawn_at.is_(None)
        )
    )
    revoked = Revoked()
    for consent in list(consents):
        await withdraw(session, consent, reason, actor, now)
        revoked.consents += 1
        revoked.end_user_ids.add(consent.end_user_id)
    return revoked


async def end_application(
    session: AsyncSession, application: Application, *, reason: str, actor: str, now: datetime
) -> Revoked:
    """The application revoked for good: keys, client secret, subscriptions, consents, tokens."""
    revoked = Revoked(
        keys=await revoke_keys(session, application, reason=reason, actor=actor, now=now)
    )
    # Tokens first, so each family is counted here; withdrawing the consents then ends them.
    revoked.add(await revoke_tokens(session, application, reason=reason, actor=actor, now=now))
    revoked.add(await withdraw_consents(session, application, reason=reason, actor=actor, now=now))
    live = select(Subscription).where(
        Subscription.application_id == application.id, Subscription.status != Status.REVOKED
    )
    for subscription in list(await session.scalars(live)):
        subscription.status = Status.REVOKED
        subscription.status_reason = reason
        await record(session, actor, "revoked", "subscription", subscription.id, reason)
        record_access_change(session, "subscription", subscription.id)
    if application.client_secret_hash is not None:
        application.client_secret_hash = None
        await record(session, actor, "revoked-client-secret", "application", application.id, reason)
    application.status = Status.REVOKED
    application.status_reason = reason
    await record(session, actor, "revoked", "application", application.id, reason)
    record_access_change(session, "application", application.id)
    return revoked
