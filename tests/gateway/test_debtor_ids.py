"""Debtor ids as strings at the gateway (clause 3.3 a): a token's debtors are compared in
canonical form, a GUID debtor of the published API passes only in its own spellings,
and a token issued before ids were strings (integer claims) is still honoured: running
integrations do not break when termgate moves to the published contract's GUIDs."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from joserfc import jwt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.models import new_id
from termgate.identity.tokens import ALGORITHM, AUDIENCE, TOKEN_TYPE, signing_key
from termgate.reference_api import generate
from tests.gateway.conftest import Gateway, wait_for_status
from tests.gateway.published_world import PUBLISHED_EMPLOYEES, PUBLISHED_SEED
from tests.support.contract_errors import assert_contract_problem
from tests.support.factories import (
    READ_SCOPES,
    TEST_ISSUER,
    IssuedToken,
    issue_test_key,
    issue_test_token,
    seal_in_tests,
)

OTHER = "0f3c2d1e-0000-4000-8000-00000000beef"
Sessions = async_sessionmaker[AsyncSession]


async def integer_claims_token(
    sessions: Sessions, application_id: str, issued: IssuedToken, debtors: list[int]
) -> str:
    """An access token as termgate signed them before ids were strings: `debtors` a JSON list
    of integers (same key, same family and consent)."""
    async with sessions.begin() as session:
        key = await signing_key(session, seal_in_tests())
    now = int(datetime.now(UTC).timestamp())
    claims = {
        "iss": TEST_ISSUER,
        "sub": issued.end_user_id,
        "aud": AUDIENCE,
        "client_id": application_id,
        "iat": now,
        "exp": now + 3600,
        "jti": new_id(),
        "scope": READ_SCOPES,
        "uid": 10_000_001,
        "debtors": debtors,
        "grant": issued.family_id,
        "consent": issued.consent_id,
    }
    header = {"alg": ALGORITHM, "typ": TOKEN_TYPE, "kid": key.kid}
    return jwt.encode(header, claims, key, algorithms=[ALGORITHM])


def refused(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert_contract_problem(response.json(), 403, 40303, "3.3 a")


async def test_clause_3_3_a_a_token_with_integer_debtors_is_still_honoured(
    published_gateway: Gateway, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    """The older token verifies (no 401); against the published API its integer debtors name
    no customer, so it covers nothing: no debtor is listed and every tenant path is 40303. The
    GUID token of the same consent's family works."""
    world = generate(PUBLISHED_SEED, PUBLISHED_EMPLOYEES)
    mine = world.debtors[0].id
    company = world.companies_of(world.debtors[0])[0].id
    key = await issue_test_key(sessions)
    issued = await issue_test_token(sessions, key.application_id, debtors=(mine,))
    old = await integer_claims_token(sessions, key.application_id, issued, [1001])
    base = published_gateway.url
    await wait_for_status(client, f"{base}/api/debtors", key.key, 200, token=old)
    headers = {"X-Subscription-Key": key.key, "Authorization": f"Bearer {old}"}
    listing = await client.get(f"{base}/api/debtors", headers=headers)
    assert listing.status_code == 200, listing.text
    assert listing.json()["data"] == []
    for path in (
        f"/api/debtors/{mine}/companies",
        "/api/debtors/1001/companies",
        f"/api/companies/{company}/employees",
    ):
        refused(await client.get(f"{base}{path}", headers=headers))
    guid = issued.headers(key.key)
    own = await client.get(f"{base}/api/debtors/{mine}/companies", headers=guid)
    assert own.status_code == 200, own.text
    assert {row["debtorId"] for row in own.json()["data"]} == {mine}
    employees = await client.get(f"{base}/api/companies/{company}/employees", headers=guid)
    assert employees.status_code == 200, employees.text


async def test_clause_3_3_a_a_guid_debtor_passes_in_its_own_spellings_only(
    published_gateway: Gateway, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = generate(PUBLISHED_SEED, PUBLISHED_EMPLOYEES)
    mine, theirs = world.debtors[0].id, world.debtors[1].id
    key = await issue_test_key(sessions)
    issued = await issue_test_token(sessions, key.application_id, debtors=(mine.upper(),))
    base = published_gateway.url
    await wait_for_status(client, f"{base}/api/debtors", key.key, 200, token=issued.token)
    headers = issued.headers(key.key)
    listing = await client.get(f"{base}/api/debtors", headers=headers)
    assert [debtor["debtorId"] for debtor in listing.json()["data"]] == [mine]
    for spelled in (mine, mine.upper()):
        own = await client.get(f"{base}/api/debtors/{spelled}/companies", headers=headers)
        assert own.status_code == 200, own.text
        assert {company["debtorId"] for company in own.json()["data"]} == {mine}
    lookalikes = (
        theirs,
        OTHER,
        "%7B" + mine + "%7D",
        mine.replace("-", ""),
        f"{mine}%2C{theirs}",
        "1001",
    )
    for spelled in lookalikes:
        refused(await client.get(f"{base}/api/debtors/{spelled}/companies", headers=headers))
