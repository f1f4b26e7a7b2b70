"""Subscriptions and their keys: an `X-Subscription-Key` is shown once and stored as a hash.

A key belongs to one subscription of one application of one developer (clause 2); revoking it
takes effect on every gateway node within the snapshot interval (clauses 1, 2: revocable).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from termgate.core.audit import record
from termgate.core.changes import record_access_change
from termgate.core.errors import NotFoundError, RegistryError
from termgate.core.secrets import display_prefix, generate_key, hash_key
from termgate.db.models import (
    Application,
    Developer,
    Environment,
    Plan,
    Status,
    Subscription,
    SubscriptionKey,
    utcnow,
)
from termgate.registry.terms import require_accepted_terms

SLOTS = ("primary", "secondary")


@dataclass(frozen=True)
class IssuedKey:
    """The one moment the key's secret exists outside its holder's hands."""

    secret: str
    row: SubscriptionKey


async def subscribe(
    session: AsyncSession, application: Application, plan: Plan, *, actor: str
) -> Subscription:
    """The application's active subscription to `plan`, created (and audited as `created` by
    `actor`) if it has none."""
    await session.refresh(plan, ["product"])
    if (
        plan.product.environment is Environment.PRODUCTION
        and application.environment is not Environment.PRODUCTION
    ):
        raise RegistryError(
            f"{application.name!r} has sandbox access only; production needs the provider's "
            "approval (clause 3.2)"
        )
    existing = await session.scalar(
        select(Subscription).where(
            Subscription.application_id == application.id,
            Subscription.plan_id == plan.id,
            Subscription.status != Status.REVOKED,
        )
    )
    if existing is not None:
        return existing
    subscription = Subscription(application_id=application.id, plan_id=plan.id)
    session.add(subscription)
    await session.flush()
    plan_name = f"plan {plan.product.slug}/{plan.slug}"
    await record(session, actor, "created", "subscription", subscription.id, plan_name)
    record_access_change(session, "subscription", subscription.id)
    return subscription


async def issue_key(
    session: AsyncSession, subscription: Subscription, slot: str = "primary", *, actor: str
) -> IssuedKey:
    """A new key in `slot`; a live key already in that slot is revoked (regeneration). Both are
    audited with `actor`; the audit names the key by id and prefix, never its secret."""
    if slot not in SLOTS:
        raise RegistryError(f"slot must be one of {', '.join(SLOTS)}, not {slot!r}")
    application = await session.get_one(Application, subscription.application_id)
    await require_accepted_terms(
        session, await session.get_one(Developer, application.developer_id)
    )
    for previous in await session.scalars(
        select(SubscriptionKey).where(
            SubscriptionKey.subscription_id == subscription.id,
            SubscriptionKey.slot == slot,
            SubscriptionKey.status != Status.REVOKED,
        )
    ):
        _mark_revoked(previous, f"replaced by a new {slot} key")
        await record(session, actor, "revoked", "key", previous.id, previous.status_reason or "")
    secret = generate_key()
    row = SubscriptionKey(
        subscription_id=subscription.id,
        slot=slot,
        key_hash=hash_key(secret),
        prefix=display_prefix(secret),
    )
    session.add(row)
    await session.flush()
    described = f"{slot} key {row.prefix}… of subscription {subscription.id}"
    await record(session, actor, "issued", "key", row.id, described)
    record_access_change(session, "subscription_key", row.id)
    return IssuedKey(secret, row)


def _mark_revoked(key: SubscriptionKey, reason: str) -> None:
    key.status = Status.REVOKED
    key.status_reason = reason
    key.revoked_at = utcnow()


async def find_key(session: AsyncSession, reference: str) -> SubscriptionKey:
    """By id or by the prefix shown when it was issued (`tg_xxxxxxx`)."""
    matches = list(
        await session.scalars(
            select(SubscriptionKey).where(
                or_(SubscriptionKey.id == reference, SubscriptionKey.prefix == reference)
            )
        )
    )
    if len(matches) > 1:
        raise RegistryError(f"{len(matches)} keys start with {reference!r}; give the key's id")
    if not matches:
        raise NotFoundError(f"no key {reference!r} (give its id or the prefix shown when issued)")
    return matches[0]


async def revoke_key(
    session: AsyncSession, reference: str, reason: str, actor: str = "operator"
) -> SubscriptionKey:
    key = await find_key(session, reference)
    if key.status is Status.REVOKED:
        raise RegistryError(f"key {key.prefix}… was already revoked ({key.status_reason})")
    _mark_revoked(key, reason.strip() or "revoked")
    await record(session, actor, "revoked", "key", key.id, key.status_reason or "")
    record_access_change(session, "subscription_key", key.id)
    return key


async def key_for_secret(session: AsyncSession, secret: str) -> SubscriptionKey | None:
    return await session.scalar(
        select(SubscriptionKey).where(SubscriptionKey.key_hash == hash_key(secret))
    )


async def list_keys(
    session: AsyncSession, application: Application | None = None
) -> list[SubscriptionKey]:
    query = (
        select(SubscriptionKey)
        .join(Subscription, SubscriptionKey.subscription_id == Subscription.id)
        .options(
            selectinload(SubscriptionKey.subscription).selectinload(Subscription.application),
            selectinload(SubscriptionKey.subscription).selectinload(Subscription.plan),
        )
        .order_by(SubscriptionKey.created_at)
    )
    if application is not None:
        query = query.where(Subscription.application_id == application.id)
    return list(await session.scalars(query))


async def subscriptions_of(session: AsyncSession, application: Application) -> list[Subscription]:
    """The application's subscriptions, oldest first, with their keys and plan (and product)."""
    query = (
        select(Subscription)
        .where(Subscription.application_id == application.id)
        .options(
            selectinload(Subscription.keys),
            selectinload(Subscription.plan).selectinload(Plan.product),
        )
        .order_by(Subscription.created_at)
    )
    return list(await session.scalars(query))
