"""Upstream user ids where termgate takes them in: the import and the demo seed.

Named for clause 3.3 a: the id says which upstream account an end user (the one who consents)
is, and the gateway asks the upstream for that account; an id that could break or widen the
`X-Termgate-User` header is refused where it enters, with the login named, never stored.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.cli.demo_seed import seed_demo
from termgate.core.errors import RegistryError
from termgate.db.models import Application
from termgate.db.oauth import Consent, EndUser
from termgate.identity.consents import grant_consent
from termgate.identity.end_users import import_end_users
from termgate.reference_api import generate
from tests.unit.test_demo_seed import EMPLOYEES, SEED, demo_settings

GUID = "5b6a77c7-6abe-4f31-93dc-2692169e3ea4"
PASSWORD = "a long enough password"
Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class Login:
    id: str | int
    username: str
    email: str = "login@example.nl"
    display_name: str = "Login"
    debtor_ids: tuple[str, ...] = ("1001",)


async def test_clause_3_3_a_import_stores_the_upstream_id_canonically(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        users = await import_end_users(
            session,
            [Login(GUID.upper(), "guid"), Login(GUID, "same guid"), Login(42, "numbered")],
            PASSWORD,
        )
    assert [(user.username, user.upstream_id) for user in users] == [
        ("guid", GUID),  # the same GUID in lower case is the same login: imported once
        ("numbered", "42"),
    ]


@pytest.mark.parametrize(
    ("upstream_id", "why"),
    [
        ("7\r\nx-termgate-debtors: *", "no spaces or CR/LF"),
        ("7,8", "other than a comma"),
        ("", "it is empty"),
        ("x" * 129, "longer than 128"),
        ("7\x00", "visible ASCII"),
    ],
)
async def test_clause_3_3_a_import_refuses_an_id_that_could_break_the_header(
    sessions: Sessions, upstream_id: str, why: str
) -> None:
    with pytest.raises(RegistryError, match=r"^login bad\.login: .*not an upstream user id") as e:
        async with sessions.begin() as session:
            await import_end_users(
                session, [Login("fine", "fine.login"), Login(upstream_id, "bad.login")], PASSWORD
            )
    assert why in str(e.value)
    async with sessions() as session:  # the import is all or nothing
        assert list(await session.scalars(select(EndUser))) == []


async def test_clause_3_3_a_demo_logins_carry_their_worlds_guid(sessions: Sessions) -> None:
    world = generate(SEED, EMPLOYEES)
    async with sessions.begin() as session:
        await seed_demo(session, demo_settings(), {}, maintenance_window=False)
        stored = {
            user.username: user.upstream_id for user in await session.scalars(select(EndUser))
        }
    assert stored == {login.username: login.id for login in world.end_users}


async def test_clause_3_3_a_a_numbered_demo_database_takes_the_worlds_guids(
    sessions: Sessions,
) -> None:
    """A demo database seeded while termgate numbered the logins (1, 2, … in the world's order;
    the migration made them "1", "2", …) gets each login's GUID; a consent over debtors the
    login still sees stays live."""
    world = generate(SEED, EMPLOYEES)
    async with sessions.begin() as session:
        await seed_demo(session, demo_settings(), {}, maintenance_window=False)
        for number, login in enumerate(world.end_users, start=1):
            user = await session.scalar(select(EndUser).where(EndUser.upstream_id == login.id))
            assert user is not None
            user.upstream_id = str(number)
        first = await session.scalar(select(EndUser).where(EndUser.upstream_id == "1"))
        app = await session.scalar(select(Application).where(Application.name == "HR Sync"))
        assert first is not None
        assert app is not None
        kept = await grant_consent(
            session, end_user=first, application=app, scopes="employee.info.read",
            debtors=first.debtors, ip="127.0.0.1", user_agent="test", now=demo_settings().now(),
        )  # fmt: skip
        kept_id = kept.id

    async with sessions.begin() as session:
        await seed_demo(session, demo_settings(), {}, maintenance_window=False)
    async with sessions() as session:
        stored = {
            user.username: user.upstream_id for user in await session.scalars(select(EndUser))
        }
        consent = await session.get_one(Consent, kept_id)
    assert stored == {login.username: login.id for login in world.end_users}
    assert consent.withdrawn_at is None
