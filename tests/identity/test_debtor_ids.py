"""The consent screen over GUID debtor ids (clause 3.3 a): the end user's customer accounts are
listed by their canonical id, a consent over them reaches the token, and a form naming anything
else (a comma-joined list, a space, a control character, an account the end user does not see)
is refused with a clear message and records nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from termgate.db.oauth import Consent, EndUser
from termgate.identity.end_users import import_end_users
from termgate.identity.tokens import VerifiedTokens
from tests.identity.conftest import ISSUER, PASSWORD, World, authorize, consent_page, decide
from tests.identity.test_security import exchange, pkce, request_params

GUID = "5b6a77c7-6abe-4f31-93dc-2692169e3ea4"
OTHER = "0f3c2d1e-0000-4000-8000-00000000beef"


@dataclass(frozen=True)
class Login:
    id: int
    username: str
    email: str
    display_name: str
    debtor_ids: tuple[str, ...]


async def guid_user(world: World) -> EndUser:
    """A login of the published contract's shape: its identity store writes GUIDs upper-case."""
    login = Login(
        7_700_001, "guid.user", "guid.user@example.nl", "Guid User", (GUID.upper(), OTHER)
    )
    async with world.site.sessions.begin() as session:
        (user,) = await import_end_users(session, [login], PASSWORD)
    return user


async def test_clause_3_3_a_a_consent_over_guid_debtors_reaches_the_token(world: World) -> None:
    user = await guid_user(world)
    assert user.debtors == (OTHER, GUID)
    verifier, challenge = pkce()
    params = request_params(world.confidential, challenge)
    page = await consent_page(world.site, user, params)
    assert f'name="debtor" value="{GUID}"' in page.text
    assert f"Customer account {OTHER}" in page.text
    callback = await authorize(world.site, user, params, debtors=(GUID.upper(),))
    answer = await exchange(world, world.confidential, callback["code"], verifier)
    assert answer.status_code == 200, answer.text
    jwks = (await world.site.client.get("/.well-known/jwks.json")).json()
    claims = VerifiedTokens(jwks, ISSUER).verify(answer.json()["access_token"])
    assert claims.debtors == {GUID}
    async with world.site.sessions() as session:
        consent = await session.scalar(select(Consent).where(Consent.end_user_id == user.id))
    assert consent is not None
    assert consent.debtor_ids == GUID

    apps = await world.site.client.get("/connect/apps")
    assert f"Customer account {GUID} · {GUID}" in apps.text
    exported = (await world.site.client.get("/connect/apps/export/consents")).json()
    assert [record["debtors"] for record in exported["consents"]] == [[GUID]]


@pytest.mark.parametrize(
    ("debtors", "said"),
    [
        ((f"{GUID},{OTHER}",), "is not a customer account id"),
        ((f"{GUID} ",), "is not a customer account id"),
        ((f"{GUID}\x01",), "debtor must not contain control characters"),
        (("{" + GUID + "}",), "is not a customer account id"),
        ((GUID, "1001"), "this login does not see the customer accounts 1001"),
    ],
)
async def test_clause_3_3_a_a_consent_form_naming_anything_else_is_refused(
    world: World, debtors: tuple[str, ...], said: str
) -> None:
    user = await guid_user(world)
    _verifier, challenge = pkce()
    page = await consent_page(world.site, user, request_params(world.confidential, challenge))
    answer = await decide(world.site, page, "allow", debtors)
    assert answer.status_code == 400
    assert said in answer.text
    async with world.site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Consent)) == 0
