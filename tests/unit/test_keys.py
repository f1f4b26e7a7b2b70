"""Subscriptions and keys (clauses 1, 2, 3.2) through the registry's functions, in memory."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.errors import NotFoundError, RegistryError
from termgate.core.secrets import hash_key
from termgate.db.models import Environment, Plan, Product, Status, SubscriptionKey
from termgate.db.programme import AuditEntry
from termgate.registry.keys import (
    find_key,
    issue_key,
    key_for_secret,
    list_keys,
    revoke_key,
    subscribe,
    subscriptions_of,
)
from termgate.registry.products import find_plan
from tests.unit.registry_support import changes, parties

Sessions = async_sessionmaker[AsyncSession]


async def test_clause_2_revocation_is_final_audited_and_fed_to_the_gateway(db: Sessions) -> None:
    async with db.begin() as session:
        made = await parties(session)
        key = made.key.row
        before = await changes(session)
        revoked = await revoke_key(session, key.prefix, "  leaked  ", actor="ann")
        assert revoked is key
        assert (key.status, key.status_reason) == (Status.REVOKED, "leaked")
        assert key.revoked_at is not None
        assert abs((datetime.now(UTC) - key.revoked_at).total_seconds()) < 60
        assert (await changes(session))[len(before) :] == [("subscription_key", key.id)]
        audit = (await session.scalars(select(AuditEntry))).all()[-1]
        assert (audit.actor, audit.action, audit.entity, audit.entity_id, audit.reason) == (
            "ann",
            "revoked",
            "key",
            key.id,
            "leaked",
        )
        with pytest.raises(
            RegistryError, match=rf"^key {key.prefix}… was already revoked \(leaked\)$"
        ):
            await revoke_key(session, key.id, "again")


async def test_clause_2_revocation_without_a_reason_says_revoked(db: Sessions) -> None:
    async with db.begin() as session:
        made = await parties(session)
        key = await revoke_key(session, made.key.row.id, " ")
        assert key.status_reason == "revoked"
        audit = (await session.scalars(select(AuditEntry))).all()[-1]
        assert (audit.actor, audit.reason) == ("operator", "revoked")


async def test_clause_2_key_is_found_by_id_or_prefix_only(db: Sessions) -> None:
    async with db.begin() as session:
        made = await parties(session)
        key = made.key.row
        assert await find_key(session, key.id) is key
        assert await find_key(session, key.prefix) is key
        with pytest.raises(NotFoundError, match=r"^no key 'tg_nope' \(give its id or the prefix"):
            await find_key(session, "tg_nope")
        second = await issue_key(session, made.subscription, "secondary", actor="tests")
        second.row.prefix = key.prefix
        await session.flush()
        with pytest.raises(RegistryError, match=f"^2 keys start with '{key.prefix}'; give the"):
            await find_key(session, key.prefix)


async def test_clause_2_key_is_stored_as_a_hash_and_found_by_its_secret(db: Sessions) -> None:
    async with db.begin() as session:
        made = await parties(session)
        issued = made.key
        assert issued.row.key_hash == hash_key(issued.secret) != issued.secret
        assert issued.secret.startswith(issued.row.prefix)
        assert (issued.row.slot, issued.row.status) == ("primary", Status.ACTIVE)
        assert await key_for_secret(session, issued.secret) is issued.row
        assert await key_for_secret(session, issued.secret + "x") is None
        assert ("subscription_key", issued.row.id) in await changes(session)


async def test_clause_2_regenerating_a_slot_revokes_its_live_key_only(db: Sessions) -> None:
    async with db.begin() as session:
        made = await parties(session)
        old = made.key.row
        other = await issue_key(session, made.subscription, "secondary", actor="tests")
        new = await issue_key(session, made.subscription, actor="tests")
        assert (old.status, old.status_reason) == (Status.REVOKED, "replaced by a new primary key")
        assert old.revoked_at is not None
        assert other.row.status is Status.ACTIVE
        assert new.row.status is Status.ACTIVE
        assert new.secret != made.key.secret
        with pytest.raises(
            RegistryError, match=r"^slot must be one of primary, secondary, not 'third'$"
        ):
            await issue_key(session, made.subscription, "third", actor="tests")


async def test_clause_3_2_subscribing_twice_gives_the_same_subscription(db: Sessions) -> None:
    async with db.begin() as session:
        made = await parties(session)
        plan = await find_plan(session, "sandbox")
        assert await subscribe(session, made.application, plan, actor="tests") is made.subscription
        assert ("subscription", made.subscription.id) in await changes(session)
        made.subscription.status = Status.REVOKED
        await session.flush()
        fresh = await subscribe(session, made.application, plan, actor="tests")
        assert fresh.id != made.subscription.id
        assert fresh.status is Status.ACTIVE


async def test_clause_3_2_sandbox_application_cannot_subscribe_to_production(
    db: Sessions,
) -> None:
    async with db.begin() as session:
        made = await parties(session)
        plan = await session.scalar(
            select(Plan).join(Product).where(Product.environment == Environment.PRODUCTION)
        )
        assert plan is not None
        with pytest.raises(
            RegistryError,
            match=r'^"Ann\'s payroll app" has sandbox access only; production needs the '
            r"provider's approval \(clause 3.2\)$",
        ):
            await subscribe(session, made.application, plan, actor="tests")
        made.application.environment = Environment.PRODUCTION
        assert (await subscribe(session, made.application, plan, actor="tests")).plan_id == plan.id


async def test_clause_2_keys_are_listed_per_application_oldest_first(db: Sessions) -> None:
    async with db.begin() as session:
        ann = await parties(session)
        bob = await parties(session, "bob@example.nl")
        second = await issue_key(session, ann.subscription, "secondary", actor="tests")
        listed = await list_keys(session, ann.application)
        assert [key.id for key in listed] == [ann.key.row.id, second.row.id]
        assert listed[0].subscription.application.id == ann.application.id
        assert listed[0].subscription.plan is not None
        everyone = {key.id for key in await list_keys(session)}
        assert everyone == {ann.key.row.id, second.row.id, bob.key.row.id}
        subscriptions = await subscriptions_of(session, ann.application)
        assert [s.id for s in subscriptions] == [ann.subscription.id]
        assert {k.id for k in subscriptions[0].keys} == {ann.key.row.id, second.row.id}
        assert subscriptions[0].plan.product is not None
        rows = await session.scalars(select(SubscriptionKey))
        assert len(rows.all()) == 3
    async with db() as fresh:  # nothing loaded yet: the listing brings what the pages show
        listed = await list_keys(fresh, ann.application)
        assert listed[0].subscription.application.name == "Ann's payroll app"
        assert listed[0].subscription.plan.name
        (subscription,) = await subscriptions_of(fresh, ann.application)
        assert len(subscription.keys) == 2
        assert subscription.plan.product.slug


async def test_clause_2_regenerating_touches_only_this_subscriptions_live_key(
    db: Sessions,
) -> None:
    async with db.begin() as session:
        ann = await parties(session)
        bob = await parties(session, "bob@example.nl")
        await revoke_key(session, ann.key.row.id, "leaked")
        await issue_key(session, ann.subscription, actor="tests")
        assert bob.key.row.status is Status.ACTIVE
        assert ann.key.row.status_reason == "leaked"
