"""Key grants built from plain rows, for the whole registry or for the keys one change touches.

A full load at 1,000,000 keys must not build ORM objects per row: the keys come as plain column
tuples, the few plans and products as objects, and every id a grant repeats (application,
developer, plan, counters, operations) is one shared object, so a key costs its grant, its id
and its hash only.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.users_served import over_cap
from termgate.db.models import (
    Application,
    Developer,
    Environment,
    Plan,
    Product,
    Status,
    Subscription,
    SubscriptionKey,
)
from termgate.db.oauth import Consent
from termgate.db.programme import TermsAcceptance, TermsVersion
from termgate.gateway.key_grant import KeyGrant
from termgate.gateway.traffic.plan_limits import PlanLimits, plan_limits

# One empty set for every grant nobody is over the cap of (`frozenset()` is a new object each).
NOBODY: frozenset[str] = frozenset()
# Ids per IN (...) list: far below SQLite's and asyncpg's limits on bound parameters.
IN_CHUNK = 500


@dataclass(frozen=True, slots=True)
class TermsDue:
    """The current terms' version and re-acceptance deadline on the gateway's clock."""

    version_id: str
    deadline: float


@dataclass(frozen=True, slots=True)
class PlanFacts:
    """What every grant under one plan shares."""

    product_slug: str
    environment: Environment
    operations: frozenset[str] | None
    max_page_size: int
    limits: PlanLimits


def key_rows(*where: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
    """key hash, key id and status, then subscription, application, developer; then plan id."""
    return (
        select(
            SubscriptionKey.key_hash,
            SubscriptionKey.id,
            SubscriptionKey.status,
            Subscription.id,
            Subscription.status,
            Application.id,
            Application.status,
            Developer.id,
            Developer.status,
            Subscription.plan_id,
        )
        .join(Subscription, SubscriptionKey.subscription_id == Subscription.id)
        .join(Application, Subscription.application_id == Application.id)
        .join(Developer, Application.developer_id == Developer.id)
        .join(Plan, Subscription.plan_id == Plan.id)
        .where(*where)
    )


def chunked(ids: Collection[str]) -> Iterator[list[str]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), IN_CHUNK):
        yield ordered[start : start + IN_CHUNK]


def operations_of(listing: str) -> frozenset[str] | None:
    names = frozenset(part.strip() for part in listing.split(",") if part.strip())
    return None if not names or "*" in names else names


async def plan_facts(
    session: AsyncSession, plan_ids: Collection[str] | None
) -> dict[str, PlanFacts]:
    """Every plan's facts (None), or those of the plans named."""
    query = select(Plan, Product).join(Product, Plan.product_id == Product.id)
    batches: Iterable[list[str] | None] = [None] if plan_ids is None else chunked(plan_ids)
    facts: dict[str, PlanFacts] = {}
    operations: dict[str, frozenset[str] | None] = {}
    for batch in batches:
        rows = await session.execute(query if batch is None else query.where(Plan.id.in_(batch)))
        for plan, product in rows:
            if product.id not in operations:
                operations[product.id] = operations_of(product.operations)
            facts[plan.id] = PlanFacts(
                product_slug=product.slug,
                environment=product.environment,
                operations=operations[product.id],
                max_page_size=plan.max_page_size,
                limits=plan_limits(plan),
            )
    return facts


async def current_terms(session: AsyncSession, clock_offset: float) -> TermsDue | None:
    current = await session.scalar(
        select(TermsVersion).order_by(TermsVersion.published_at.desc()).limit(1)
    )
    if current is None or current.reaccept_deadline is None:
        return None
    return TermsDue(current.id, current.reaccept_deadline.timestamp() - clock_offset)


async def accepted(
    session: AsyncSession, terms: TermsDue | None, developer_ids: Collection[str] | None
) -> set[str]:
    """Who of these developers (None: of all) accepted the current terms."""
    if terms is None:
        return set()
    query = select(TermsAcceptance.developer_id).where(
        TermsAcceptance.terms_version_id == terms.version_id
    )
    if developer_ids is None:
        return set(await session.scalars(query))
    found: set[str] = set()
    for batch in chunked(developer_ids):
        found.update(await session.scalars(query.where(TermsAcceptance.developer_id.in_(batch))))
    return found


async def users_over_cap(
    session: AsyncSession, pairs: Collection[tuple[str, str]], plans: Mapping[str, PlanFacts]
) -> dict[tuple[str, str], frozenset[str]]:
    """Per application and capped plan, the end users whose live consent is beyond the cap on
    users served (clause 4.4)."""
    capped = {
        (application, plan)
        for application, plan in pairs
        if plans[plan].limits.max_end_users is not None
        or plans[plan].limits.max_debtors is not None
    }
    if not capped:
        return {}
    query = (
        select(Consent.id, Consent.application_id, Consent.end_user_id, Consent.debtor_ids)
        .where(Consent.withdrawn_at.is_(None))
        .order_by(Consent.granted_at, Consent.id)
    )
    applications = {application for application, _ in capped}
    live: dict[str, list[tuple[str, str, Any]]] = {}
    batches: Iterable[list[str] | None] = (
        [None] if len(applications) > IN_CHUNK else chunked(applications)
    )
    for batch in batches:
        found = await session.execute(
            query if batch is None else query.where(Consent.application_id.in_(batch))
        )
        for consent, application, end_user, debtors in found:
            live.setdefault(application, []).append((consent, end_user, debtors))
    beyond: dict[tuple[str, str], frozenset[str]] = {}
    for application, plan_id in capped:
        limits = plans[plan_id].limits
        rows = live.get(application, [])
        excess = over_cap(rows, limits.max_end_users, limits.max_debtors)
        if excess:
            beyond[(application, plan_id)] = frozenset(
                end_user for consent, end_user, _ in rows if consent in excess
            )
    return beyond


class GrantBuilder:
    """Turns key rows into grants that share every repeated value."""

    def __init__(
        self,
        plans: Mapping[str, PlanFacts],
        terms: TermsDue | None,
        accepted: Collection[str],
        beyond: Mapping[tuple[str, str], frozenset[str]],
    ) -> None:
        self.plans = plans
        self.terms = terms
        self.accepted = accepted
        self.beyond = beyond
        self._shared: dict[str, str] = {}

    def _one(self, value: str) -> str:
        return self._shared.setdefault(value, value)

    def grant(self, row: Sequence[Any]) -> KeyGrant:
        _hash, key_id, key_status, sub, sub_status, app, app_status, dev, dev_status, plan_id = row
        plan = self.plans[plan_id]
        app, dev, plan_id = self._one(app), self._one(dev), self._one(plan_id)
        terms = self.terms
        return KeyGrant(
            key_id=key_id,
            subscription_id=self._one(sub),
            application_id=app,
            developer_id=dev,
            plan_id=plan_id,
            product_slug=plan.product_slug,
            environment=plan.environment,
            key_status=key_status,
            subscription_status=sub_status,
            application_status=app_status,
            developer_status=dev_status,
            operations=plan.operations,
            max_page_size=plan.max_page_size,
            terms_deadline=(
                terms.deadline
                if terms is not None
                and plan.environment is Environment.PRODUCTION
                and dev not in self.accepted
                else None
            ),
            limits=plan.limits,
            app_counter=self._one(f"{app}:{plan_id}"),
            developer_counter=self._one(f"{dev}:{plan_id}"),
            over_cap=self.beyond.get((app, plan_id), NOBODY),
        )


async def builder_for(
    session: AsyncSession,
    rows: Sequence[Sequence[Any]],
    terms: TermsDue | None,
    every_plan: bool,
) -> GrantBuilder:
    """A builder with what these rows' grants need: their plans, who accepted the terms, and who
    is over a cap. `every_plan`: the rows are the whole registry (one query per table)."""
    live = [row for row in rows if row[2] is not Status.REVOKED]
    plans = await plan_facts(session, None if every_plan else {row[9] for row in live})
    developers = None if every_plan else {row[7] for row in live}
    return GrantBuilder(
        plans,
        terms,
        await accepted(session, terms, developers),
        await users_over_cap(session, {(row[5], row[9]) for row in live}, plans),
    )
