"""The gateway's in-memory picture of who may call: loaded at start, never queried per request.

Every registry change that affects access appends to `access_changes`; a refresher polls the head
of that feed (one tiny indexed query per interval, on every node, whatever the traffic) and swaps
in a freshly loaded snapshot when it moves, so a created, suspended or revoked key takes effect on
every node within the interval, without a restart.

The snapshot also holds what the gateway verifies end users' access tokens with (clause 3.3 a):
the signing keys' public halves and the token families revoked recently enough for their tokens
to be still unexpired (a withdrawn consent revokes its families; a new consent that leaves out a
debtor or a scope revokes the earlier families that carry it). A token carries its own family's
scopes and debtors, and every family not revoked lies within its end user's live consent, so
checking the token's claims and this set checks the live consent. A new signing key and every
revocation append to the same feed, so both reach every node within the interval too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.faults import FaultLog
from termgate.core.users_served import over_cap
from termgate.db.models import (
    AccessChange,
    Application,
    Developer,
    Environment,
    Plan,
    Product,
    Status,
    Subscription,
    SubscriptionKey,
    utcnow,
)
from termgate.db.oauth import Consent, TokenFamily
from termgate.db.programme import TermsAcceptance, TermsVersion
from termgate.gateway.bearer import BearerTokens
from termgate.gateway.traffic.plan_limits import UNLIMITED, PlanLimits, plan_limits
from termgate.governance.availability import NO_POLICY, AvailabilityPolicy, load_policy
from termgate.identity.tokens import ACCESS_TOKEN_LIFETIME, public_keys

log = logging.getLogger(__name__)

# A family revoked longer ago than a token lives (plus this, for clocks apart) has no live tokens.
REVOCATION_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class KeyGrant:
    """What a subscription key stands for, with the status of every party above it."""

    key_id: str
    subscription_id: str
    application_id: str
    developer_id: str
    plan_id: str
    product_slug: str
    environment: Environment
    key_status: Status
    subscription_status: Status
    application_status: Status
    developer_status: Status
    # None: every operation of the API; otherwise the operation ids the product includes.
    operations: frozenset[str] | None
    max_page_size: int
    # Clause 9: from this moment (epoch seconds) the key's traffic is refused because its
    # developer has not accepted the current terms; None while nothing is due.
    terms_deadline: float | None = None
    # The plan's limits (clauses 3.3 e-h, 4.4), one object per plan; the limiter's counter ids
    # (per application and plan, per developer and plan: clause 3.3 g); the end users whose
    # live consent to the application is beyond the plan's cap on end users or debtors served
    # (clause 4.4). End users, not consents: a token family taken over by a later consent keeps
    # unexpired tokens that name the consent it was authorised under.
    limits: PlanLimits = UNLIMITED
    app_counter: str = ""
    developer_counter: str = ""
    over_cap: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class AccessSnapshot:
    version: int = 0
    keys: dict[str, KeyGrant] = field(default_factory=dict)
    # Verifies access tokens; None while no signing key exists (every token is refused).
    tokens: BearerTokens | None = None
    # Ids of the token families whose tokens may be unexpired but are revoked.
    revoked: frozenset[str] = frozenset()
    # Added to the wall clock where tokens expire (tests and demos move the clock).
    clock_offset: float = 0.0
    # The next maintenance window and the operations' lifecycles (clauses 8 and 4.6).
    policy: AvailabilityPolicy = NO_POLICY


def _operations(listing: str) -> frozenset[str] | None:
    names = frozenset(part.strip() for part in listing.split(",") if part.strip())
    return None if not names or "*" in names else names


async def _terms_due(session: AsyncSession, clock_offset: float) -> tuple[float, set[str]] | None:
    """The current terms' re-acceptance deadline (on the gateway's clock) and who accepted them."""
    current = await session.scalar(
        select(TermsVersion).order_by(TermsVersion.published_at.desc()).limit(1)
    )
    if current is None or current.reaccept_deadline is None:
        return None
    accepted = await session.scalars(
        select(TermsAcceptance.developer_id).where(TermsAcceptance.terms_version_id == current.id)
    )
    return current.reaccept_deadline.timestamp() - clock_offset, set(accepted)


async def _tokens(
    session: AsyncSession, issuer: str, previous: BearerTokens | None
) -> BearerTokens | None:
    """The verifier for the current public keys; the previous one (with every token it verified)
    while the keys are the same."""
    jwks = await public_keys(session)
    if not jwks["keys"]:
        return None
    if previous is not None and previous.same_keys(jwks, issuer):
        return previous
    return BearerTokens(jwks, issuer)


async def _revoked_families(session: AsyncSession, clock_offset: float) -> frozenset[str]:
    since = utcnow() + timedelta(seconds=clock_offset) - ACCESS_TOKEN_LIFETIME - REVOCATION_MARGIN
    rows = await session.scalars(select(TokenFamily.id).where(TokenFamily.revoked_at >= since))
    return frozenset(rows)


async def _over_cap(
    session: AsyncSession, found: Any, limits: dict[str, PlanLimits]
) -> dict[tuple[str, str], frozenset[str]]:
    """Per application and capped plan, the end users whose live consent is beyond the cap on
    users served."""
    capped = {
        (application.id, plan.id)
        for _key, _subscription, application, _developer, plan, _product in found
        if limits[plan.id].max_end_users is not None or limits[plan.id].max_debtors is not None
    }
    if not capped:
        return {}
    consents = await session.execute(
        select(Consent.id, Consent.application_id, Consent.end_user_id, Consent.debtor_ids)
        .where(
            Consent.application_id.in_({application for application, _ in capped}),
            Consent.withdrawn_at.is_(None),
        )
        .order_by(Consent.granted_at, Consent.id)
    )
    live = consents.all()
    beyond: dict[tuple[str, str], frozenset[str]] = {}
    for application_id, plan_id in capped:
        plan = limits[plan_id]
        rows = [(row[0], row[2], row[3]) for row in live if row[1] == application_id]
        excess = over_cap(rows, plan.max_end_users, plan.max_debtors)
        if excess:
            beyond[(application_id, plan_id)] = frozenset(
                end_user for consent, end_user, _ in rows if consent in excess
            )
    return beyond


async def load_snapshot(
    session: AsyncSession,
    clock_offset: float = 0.0,
    issuer: str = "",
    previous: AccessSnapshot | None = None,
) -> AccessSnapshot:
    version = (
        await session.execute(select(func.coalesce(func.max(AccessChange.id), 0)))
    ).scalar_one()
    terms_due = await _terms_due(session, clock_offset)
    rows = await session.execute(
        select(SubscriptionKey, Subscription, Application, Developer, Plan, Product)
        .join(Subscription, SubscriptionKey.subscription_id == Subscription.id)
        .join(Application, Subscription.application_id == Application.id)
        .join(Developer, Application.developer_id == Developer.id)
        .join(Plan, Subscription.plan_id == Plan.id)
        .join(Product, Plan.product_id == Product.id)
        .where(SubscriptionKey.status != Status.REVOKED)
    )
    keys: dict[str, KeyGrant] = {}
    found = rows.all()
    limits: dict[str, PlanLimits] = {}
    for *_, plan, _product in found:
        if plan.id not in limits:
            limits[plan.id] = plan_limits(plan)
    beyond = await _over_cap(session, found, limits)
    for key, subscription, application, developer, plan, product in found:
        keys[key.key_hash] = KeyGrant(
            key_id=key.id,
            subscription_id=subscription.id,
            application_id=application.id,
            developer_id=developer.id,
            plan_id=plan.id,
            product_slug=product.slug,
            environment=product.environment,
            key_status=key.status,
            subscription_status=subscription.status,
            application_status=application.status,
            developer_status=developer.status,
            operations=_operations(product.operations),
            max_page_size=plan.max_page_size,
            terms_deadline=(
                terms_due[0]
                if terms_due is not None
                and product.environment is Environment.PRODUCTION
                and developer.id not in terms_due[1]
                else None
            ),
            limits=limits[plan.id],
            app_counter=f"{application.id}:{plan.id}",
            developer_counter=f"{developer.id}:{plan.id}",
            over_cap=beyond.get((application.id, plan.id), frozenset()),
        )
    return AccessSnapshot(
        version=int(version),
        keys=keys,
        tokens=await _tokens(session, issuer, previous.tokens if previous else None),
        revoked=await _revoked_families(session, clock_offset),
        clock_offset=clock_offset,
        policy=await load_policy(session, clock_offset),
    )


async def head_version(session: AsyncSession) -> int:
    result = await session.execute(select(func.coalesce(func.max(AccessChange.id), 0)))
    return int(result.scalar_one())


class SnapshotHolder:
    """Holds the current snapshot; `refresh_forever` keeps it in step with the database."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        interval: float,
        clock_offset: float = 0.0,
        issuer: str = "",
    ) -> None:
        self.sessions = sessions
        self.interval = interval
        self.clock_offset = clock_offset
        self.issuer = issuer
        self.current = AccessSnapshot()
        self.faults = FaultLog(log, "access snapshot refresh")

    async def _load(self, session: AsyncSession) -> AccessSnapshot:
        return await load_snapshot(session, self.clock_offset, self.issuer, self.current)

    async def reload(self) -> None:
        async with self.sessions() as session:
            self.current = await self._load(session)

    async def refresh_once(self) -> bool:
        async with self.sessions() as session:
            if (
                await head_version(session) == self.current.version
                and time.time() < self.current.policy.reload_at
            ):
                return False
            self.current = await self._load(session)
        log.info("access snapshot reloaded at change %d", self.current.version)
        return True

    async def refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.refresh_once()
            except Exception as error:  # the database may blink; the last snapshot stays in force
                self.faults.failed(error, f"keeping version {self.current.version}")
            else:
                self.faults.succeeded()
