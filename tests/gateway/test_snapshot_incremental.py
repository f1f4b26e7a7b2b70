"""Clauses 3.1, 3.3 and 4.4 through the snapshot refresher: a change the feed names (a key
revoked or reissued; a developer, application, subscription or key suspended or reinstated; a
plan's limits changed) is patched into the snapshot, and the patched snapshot is exactly the one a
full reload gives. A gap in the feed, or an entity a patch does not handle, reloads everything.
Every change goes through the registry's own functions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.errors import RegistryError
from termgate.db.models import AccessChange, Plan, Status, Subscription, SubscriptionKey
from termgate.gateway.snapshot import AccessSnapshot, SnapshotHolder, load_snapshot
from termgate.registry.keys import issue_key, revoke_key
from termgate.registry.plans import change_limits
from termgate.registry.status import change_status
from tests.support.factories import issue_test_key, issue_test_token, revoke_test_family

Sessions = async_sessionmaker[AsyncSession]
KINDS = ("developer", "application", "subscription", "key")


@dataclass
class World:
    """Three developers with one application each, each subscribed to its own plan with two
    keys; two end users consent to the first application."""

    sessions: Sessions
    developers: list[str] = field(default_factory=list)
    applications: list[str] = field(default_factory=list)
    subscriptions: list[str] = field(default_factory=list)
    plans: list[str] = field(default_factory=list)


async def make_world(sessions: Sessions) -> World:
    world = World(sessions)
    for _ in range(3):
        issued = await issue_test_key(sessions)
        world.developers.append(issued.developer_id)
        world.applications.append(issued.application_id)
    for _ in range(2):
        await issue_test_token(sessions, world.applications[0])
    async with sessions.begin() as session:
        for application in world.applications:
            subscription = await session.scalar(
                select(Subscription).where(Subscription.application_id == application)
            )
            assert subscription is not None
            world.subscriptions.append(subscription.id)
            world.plans.append(subscription.plan_id)
            await issue_key(session, subscription, "secondary", actor="tests")
    return world


async def live_keys(session: AsyncSession) -> list[str]:
    rows = await session.scalars(
        select(SubscriptionKey.id)
        .where(SubscriptionKey.status != Status.REVOKED)
        .order_by(SubscriptionKey.id)
    )
    return list(rows)


Change = Callable[[AsyncSession, World, int], Awaitable[object]]


async def revoke(session: AsyncSession, world: World, pick: int) -> object:
    keys = await live_keys(session)
    return await revoke_key(session, keys[pick % len(keys)], "tests", "tests") if keys else None


async def reissue(session: AsyncSession, world: World, pick: int) -> object:
    subscription = await session.get_one(Subscription, world.subscriptions[pick % 3])
    return await issue_key(session, subscription, ("primary", "secondary")[pick % 2], actor="t")


def set_status(status: Status) -> Change:
    async def change(session: AsyncSession, world: World, pick: int) -> object:
        kind = KINDS[pick % len(KINDS)]
        ids = {
            "developer": world.developers,
            "application": world.applications,
            "subscription": world.subscriptions,
            "key": await live_keys(session),
        }[kind]
        if not ids:
            return None
        try:
            return await change_status(session, kind, ids[pick % len(ids)], status, "t", "t")
        except RegistryError:  # already in that status: nothing changes, nothing is recorded
            return None

    return change


async def limits(session: AsyncSession, world: World, pick: int) -> object:
    plan = await session.get_one(Plan, world.plans[pick % 3])
    changes = {"rate_limit_per_minute": 60 + pick, "max_end_users": (None, 1, 2)[pick // 3 % 3]}
    return await change_limits(session, plan, changes, "tests")


CHANGES: dict[str, Change] = {
    "revoke": revoke,
    "reissue": reissue,
    "suspend": set_status(Status.SUSPENDED),
    "reinstate": set_status(Status.ACTIVE),
    "limits": limits,
}


async def apply(world: World, steps: list[tuple[str, int]]) -> None:
    for name, pick in steps:
        async with world.sessions.begin() as session:
            await CHANGES[name](session, world, pick)


async def full(sessions: Sessions) -> AccessSnapshot:
    async with sessions() as session:
        return await load_snapshot(session)


async def holder_at_head(sessions: Sessions) -> SnapshotHolder:
    holder = SnapshotHolder(sessions, 0.5)
    await holder.reload()
    return holder


async def test_clause_3_1_revoked_key_is_patched_out_as_a_full_reload_drops_it(
    sessions: Sessions,
) -> None:
    world = await make_world(sessions)
    holder = await holder_at_head(sessions)
    before = len(holder.current.keys)
    await apply(world, [("revoke", 0)])
    assert await holder.refresh_once()
    assert (holder.patches, holder.full_loads) == (1, 0)
    assert len(holder.current.keys) == before - 1
    assert holder.current.keys == (await full(sessions)).keys
    assert holder.current.version == (await full(sessions)).version


async def test_clause_3_1_suspended_application_reaches_all_its_keys_in_one_patch(
    sessions: Sessions,
) -> None:
    world = await make_world(sessions)
    holder = await holder_at_head(sessions)
    old = holder.current
    await apply(world, [("suspend", 1)])  # KINDS[1]: an application
    assert await holder.refresh_once()
    suspended = [
        g for g in holder.current.keys.values() if g.application_id == world.applications[1]
    ]
    assert len(suspended) == 2
    assert all(g.application_status is Status.SUSPENDED for g in suspended)
    # Copy-on-write: the snapshot a request already holds is untouched.
    assert all(g.application_status is Status.ACTIVE for g in old.keys.values())
    assert holder.current.keys == (await full(sessions)).keys


async def test_clause_4_4_changed_plan_limits_and_cap_are_patched_in(sessions: Sessions) -> None:
    world = await make_world(sessions)
    holder = await holder_at_head(sessions)
    for pick in (3, 0):  # the first plan: a cap of one end user (one of two is over), none
        await apply(world, [("limits", pick)])
        assert await holder.refresh_once()
        grants = [g for g in holder.current.keys.values() if g.plan_id == world.plans[0]]
        assert {g.limits.rate for g in grants} == {60 + pick}
        assert {len(g.over_cap) for g in grants} == ({1} if pick else {0})
        assert holder.current.keys == (await full(sessions)).keys
    assert (holder.patches, holder.full_loads) == (2, 0)


async def test_feed_gap_falls_back_to_a_full_reload(sessions: Sessions) -> None:
    world = await make_world(sessions)
    holder = await holder_at_head(sessions)
    await apply(world, [("revoke", 0), ("revoke", 1)])
    async with sessions.begin() as session:  # the first of the two rows is gone: a gap
        first = await session.scalar(
            select(func.min(AccessChange.id)).where(AccessChange.id > holder.current.version)
        )
        await session.execute(delete(AccessChange).where(AccessChange.id == first))
    assert await holder.refresh_once()
    assert (holder.patches, holder.full_loads) == (0, 1)
    assert holder.current.keys == (await full(sessions)).keys


async def test_entity_a_patch_does_not_handle_falls_back_to_a_full_reload(
    sessions: Sessions,
) -> None:
    world = await make_world(sessions)
    token = await issue_test_token(sessions, world.applications[2])
    holder = await holder_at_head(sessions)
    await revoke_test_family(sessions, token.family_id)
    assert await holder.refresh_once()  # a token family: reloaded whole
    assert (holder.patches, holder.full_loads) == (0, 1)
    assert token.family_id in holder.current.revoked
    assert not await holder.refresh_once()


STEPS = st.lists(
    st.tuples(st.sampled_from(sorted(CHANGES)), st.integers(0, 11)), min_size=1, max_size=5
)


@pytest.mark.timeout(300)
async def test_patch_after_any_change_sequence_equals_a_full_reload(sessions: Sessions) -> None:
    world = await make_world(sessions)
    holder = await holder_at_head(sessions)
    loop = asyncio.get_running_loop()

    def run(coroutine: Awaitable[object]) -> object:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()  # type: ignore[arg-type]

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(steps=STEPS)
    def property(steps: list[tuple[str, int]]) -> None:
        run(apply(world, steps))
        run(holder.refresh_once())
        assert holder.full_loads == 0, steps
        fresh = run(full(sessions))
        assert isinstance(fresh, AccessSnapshot)
        assert holder.current.keys == fresh.keys, steps
        assert holder.current.version == fresh.version, steps

    await asyncio.to_thread(property)
    assert holder.patches > 0
