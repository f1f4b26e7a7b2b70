"""The demo's logins are those of the published API's world: real debtors (GUIDs), the first two
the sandbox's; a database seeded from the older reference API (debtor `1001`) follows the world
and loses the consents over debtors its logins no longer see (clause 3.3 a)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.cli.demo_seed import DemoCredentials, seed_demo
from termgate.db.models import Application, Environment, utcnow
from termgate.db.oauth import Consent, EndUser, TokenFamily
from termgate.identity.consents import grant_consent
from termgate.identity.tokens import open_family
from termgate.reference_api import generate
from termgate.settings import Settings, load_settings

SEED, EMPLOYEES = 20260401, 200


def demo_settings() -> Settings:
    return load_settings(seed=SEED, employees=EMPLOYEES, secret_key="demo-seed-" + "k" * 32)


async def seeded(sessions: async_sessionmaker[AsyncSession]) -> DemoCredentials:
    async with sessions.begin() as session:
        return await seed_demo(session, demo_settings(), {}, maintenance_window=False)


async def test_clause_3_3_a_demo_logins_see_the_worlds_debtors(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = generate(SEED, EMPLOYEES)
    credentials = await seeded(sessions)
    expected = [list(user.debtor_ids) for user in world.end_users]
    assert [login["debtors"] for login in credentials.end_users] == expected
    sandbox = {debtor.id for debtor in world.debtors[:2]}
    for login in credentials.end_users:
        inside = set(login["debtors"]) <= sandbox  # type: ignore[call-overload]
        assert login["environment"] == ("sandbox" if inside else "production")
    assert [login["username"] for login in credentials.end_users] == [
        user.username for user in world.end_users
    ]


async def test_clause_3_3_a_an_older_demo_database_follows_the_world(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = generate(SEED, EMPLOYEES)
    await seeded(sessions)
    async with sessions.begin() as session:  # as the older reference API had seeded it
        user = await session.scalar(
            select(EndUser).where(EndUser.upstream_id == world.end_users[0].id)
        )
        assert user is not None
        user.debtor_ids, user.environment = "1001", Environment.SANDBOX
        app = await session.scalar(select(Application).where(Application.name == "HR Sync"))
        assert app is not None
        old = await grant_consent(
            session, end_user=user, application=app, scopes="employee.info.read",
            debtors=["1001"], ip="127.0.0.1", user_agent="test", now=utcnow(),
        )  # fmt: skip
        family = await open_family(session, old)
        old_id, family_id = old.id, family.id

    credentials = await seeded(sessions)
    assert credentials.end_users[0]["debtors"] == [world.debtors[0].id]
    async with sessions.begin() as session:
        withdrawn = await session.get(Consent, old_id)
        revoked = await session.get(TokenFamily, family_id)
        assert withdrawn is not None
        assert withdrawn.withdrawn_at is not None
        assert revoked is not None
        assert revoked.revoked_at is not None
        live = await session.scalars(select(Consent).where(Consent.withdrawn_at.is_(None)))
        assert {c.debtor_ids for c in live} == {world.debtors[0].id}  # the demo token's
