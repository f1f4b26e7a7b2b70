"""A demo login's token reads its own user through the gateway: `GET /api/user/info`.

Named for clause 3.3 a: the consent is an end user's, over their own data, and the per-user
operation must answer for the end user who consented, nobody else (an application's key or
client, clause 2, plays no part in which user is meant). The demo seeds the published world's
logins with their own GUIDs; the gateway sends that id as `X-Termgate-User`, so the published
API answers each login's own record (before, termgate numbered the logins 1 to 6 and the API,
which names them by GUID, answered an empty list for every one).
"""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.cli.demo_seed import seed_demo
from termgate.db.key_seal import KeySeal
from termgate.db.models import Application, utcnow
from termgate.db.oauth import EndUser
from termgate.identity.consents import grant_consent
from termgate.identity.signing_keys import seal_of
from termgate.identity.tokens import open_family, token_for_family
from termgate.reference_api import generate
from termgate.settings import load_settings
from tests.gateway.conftest import PUBLISHED_EMPLOYEES, PUBLISHED_SEED, Gateway, wait_for_status
from tests.support.factories import TEST_ISSUER, issue_test_key

Sessions = async_sessionmaker[AsyncSession]
SCOPE = "user.info.read"


async def seeded_token(
    sessions: Sessions, application_id: str, upstream_id: str, seal: KeySeal
) -> str:
    """A token of the demo-seeded login `upstream_id`, consented over all its debtors (signed
    with the key the seed made, sealed under the seed's secret key)."""
    async with sessions.begin() as session:
        user = await session.scalar(select(EndUser).where(EndUser.upstream_id == upstream_id))
        assert user is not None, f"the demo seed did not import {upstream_id}"
        consent = await grant_consent(
            session, end_user=user, application=await session.get_one(Application, application_id),
            scopes=SCOPE, debtors=user.debtors, ip="127.0.0.1", user_agent="test", now=utcnow(),
        )  # fmt: skip
        family = await open_family(session, consent)
        return await token_for_family(session, family, TEST_ISSUER, utcnow(), seal)


async def test_clause_3_3_a_a_demo_login_reads_its_own_user_info_through_the_gateway(
    sessions: Sessions, published_gateway: Gateway, client: httpx.AsyncClient
) -> None:
    settings = load_settings(
        seed=PUBLISHED_SEED, employees=PUBLISHED_EMPLOYEES, secret_key="user-info-" + "k" * 32
    )
    async with sessions.begin() as session:
        await seed_demo(session, settings, {}, maintenance_window=False)
    world = generate(PUBLISHED_SEED, PUBLISHED_EMPLOYEES)
    # The first two debtors are the sandbox's: their administrators and the accountant who
    # serves both are sandbox logins, as the test key's application is a sandbox one.
    logins = [world.end_users[0], world.end_users[1], world.end_users[-1]]
    key = await issue_test_key(sessions)
    url = f"{published_gateway.url}/api/user/info"
    for login in logins:
        token = await seeded_token(sessions, key.application_id, login.id, seal_of(settings))
        await wait_for_status(client, url, key.key, 200, token=token)
        answer = await client.get(
            url, headers={"X-Subscription-Key": key.key, "Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200, answer.text
        records = answer.json()["data"]
        assert {record["userId"] for record in records} == {login.id}
        assert {record["name"] for record in records} == {login.display_name}
        assert sorted(record["debtorId"] for record in records) == sorted(login.debtor_ids)
