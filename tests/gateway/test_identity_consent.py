"""The end user's access token at the gateway, through the reference payroll API: the token is
required and must be valid (clause 3.3 a), belongs to the key's application (clause 2), grants
the operation's scope (clause 3.3 e) and its consent covers the tenant in the path (3.3 a)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.models import UsageEvent
from termgate.identity.tokens import issue_access_token
from termgate.problems import FOREIGN_TOKEN
from termgate.reference_api import generate
from tests.gateway.conftest import Gateway, wait_for_status
from tests.support.contract_errors import CONTRACT_MEDIA_TYPE, assert_contract_problem
from tests.support.factories import (
    TEST_ISSUER,
    IssuedAccess,
    issue_test_access,
    issue_test_key,
    issue_test_token,
    revoke_test_family,
)
from tests.support.timing import within

# The reference data: debtors 1001-1005; companies 2001-2012, company 2001 + i owned by debtor
# 1001 + i % 5.
OWN_COMPANY, OTHER_COMPANY = 2001, 2002  # of debtors 1001 and 1002


async def ready(client: httpx.AsyncClient, gateway: Gateway, access: IssuedAccess) -> None:
    url = f"{gateway.url}/api/debtors"
    await wait_for_status(client, url, access.key.key, 200, token=access.token.token)


def problem_of(response: httpx.Response, status: int, code: int, clause: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == CONTRACT_MEDIA_TYPE
    problem: dict[str, object] = response.json()
    assert_contract_problem(problem, status, code, clause)
    return problem


async def test_clause_3_3_a_request_without_token_is_refused_40101(
    payroll_gateway: Gateway, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    access = await issue_test_access(sessions)
    await ready(client, payroll_gateway, access)
    response = await client.get(
        f"{payroll_gateway.url}/api/debtors", headers={"X-Subscription-Key": access.key.key}
    )
    problem_of(response, 401, 40101, "3.3 a")
    # RFC 6750 §3.1: a request without any token gets the challenge without an error code.
    assert response.headers["www-authenticate"] == 'Bearer realm="termgate"'


async def test_clause_3_3_a_bad_tokens_are_refused_40102(
    payroll_gateway: Gateway, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    access = await issue_test_access(sessions)
    await ready(client, payroll_gateway, access)
    stranger = ECKey.generate_key("P-256", parameters={"kid": "stranger"})
    forged = issue_access_token(
        stranger,
        issuer=TEST_ISSUER,
        client_id=access.key.application_id,
        end_user_id=access.token.end_user_id,
        upstream_user_id="1",
        scope="debtor.info.read",
        debtors=("1001", "1002", "1003", "1004", "1005"),
        family_id=access.token.family_id,
        consent_id=access.token.consent_id,
        now=datetime.now(UTC),
    )
    for authorization in (
        "Bearer not-a-jwt",
        f"Bearer {forged}",  # signed by a key termgate does not know
        f"Bearer {access.token.token[:-4]}AAAA",  # signature altered
        f"Basic {access.token.token}",  # another scheme
        "Bearer",
    ):
        headers = {"X-Subscription-Key": access.key.key, "Authorization": authorization}
        response = await client.get(f"{payroll_gateway.url}/api/debtors", headers=headers)
        problem_of(response, 401, 40102, "3.3 a")
        assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_clause_3_3_a_expired_token_is_refused_40102(
    payroll_gateway: Gateway, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    access = await issue_test_access(sessions)
    await ready(client, payroll_gateway, access)
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    expired = await issue_test_token(sessions, access.key.application_id, now=two_hours_ago)
    response = await client.get(
        f"{payroll_gateway.url}/api/debtors", headers=expired.headers(access.key.key)
    )
    problem = problem_of(response, 401, 40102, "3.3 a")
    assert "expired" in str(problem["detail"])
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_clause_3_3_a_revoked_family_is_refused_within_a_second(
    payroll_gateway: Gateway, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    access = await issue_test_access(sessions)
    await ready(client, payroll_gateway, access)
    await revoke_test_family(sessions, access.token.family_id)
    url = f"{payroll_gateway.url}/api/debtors"
    waited = await wait_for_status(
        client, url, access.key.key, 401, token=access.token.token, code=40102
    )
    assert waited < within(1.0)
    response = await client.get(url, headers=access.headers)
    assert "revoked" in str(problem_of(response, 401, 40102, "3.3 a")["detail"])


async def test_clause_2_token_of_another_application_is_refused(
    payroll_gateway: Gateway, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    mine = await issue_test_access(sessions)
    other = await issue_test_key(sessions)
    await ready(client, payroll_gateway, mine)
    url = f"{payroll_gateway.url}/api/debtors"
    # The other key is unknown (40100) until the snapshot has it; wait for the token's refusal.
    await wait_for_status(client, url, other.key, 401, token=mine.token.token, code=40102)
    response = await client.get(url, headers=mine.token.headers(other.key))
    problem = problem_of(response, 401, 40102, "2")
    # An authentication error like any invalid token; its title and clause tell it apart.
    assert (problem["type"], problem["title"]) == ("authenticationError", FOREIGN_TOKEN.title)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_clause_3_3_e_scope_not_granted_is_refused_with_required_and_granted(
    payroll_gateway: Gateway, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    access = await issue_test_access(sessions, scope="debtor.info.read company.info.read")
    await ready(client, payroll_gateway, access)
    response = await client.get(
        f"{payroll_gateway.url}/api/companies/{OWN_COMPANY}/employees", headers=access.headers
    )
    problem = problem_of(response, 403, 40302, "3.3 e")
    assert problem["required"] == ["employee.info.read", "employee.info"]
    assert problem["granted"] == ["company.info.read", "debtor.info.read"]
    assert response.headers["www-authenticate"] == (
        'Bearer realm="termgate", error="insufficient_scope", scope="employee.info.read"'
    )
    allowed = await client.get(
        f"{payroll_gateway.url}/api/companies/{OWN_COMPANY}", headers=access.headers
    )
    assert allowed.status_code == 200


async def test_clause_3_3_e_write_scope_implies_read_but_read_not_write(
    payroll_gateway: Gateway, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    writer = await issue_test_access(sessions, scope="debtor.info.read employee.info")
    reader = await issue_test_token(
        sessions, writer.key.application_id, scope="debtor.info.read employee.info.read"
    )
    await ready(client, payroll_gateway, writer)
    employees = f"{payroll_gateway.url}/api/companies/{OWN_COMPANY}/employees"
    read = await client.get(employees, headers=writer.headers)
    assert read.status_code == 200, read.text
    employee = read.json()["data"][0]["id"]
    url = f"{employees}/{employee}/personal-info"
    refused = await client.put(url, headers=reader.headers(writer.key.key), json={})
    problem = problem_of(refused, 403, 40302, "3.3 e")
    assert problem["required"] == ["employee.info"]
    assert (await client.get(url, headers=reader.headers(writer.key.key))).status_code == 200


async def test_clause_3_3_a_debtor_outside_the_consent_is_refused_40303(
    payroll_gateway: Gateway, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    access = await issue_test_access(sessions, debtors=("1001",))
    await ready(client, payroll_gateway, access)
    own = await client.get(
        f"{payroll_gateway.url}/api/debtors/1001/companies", headers=access.headers
    )
    assert own.status_code == 200
    assert {company["debtorId"] for company in own.json()["data"]} == {1001}
    for path in ("/api/debtors/1002", "/api/debtors/1002/companies", "/api/debtors/01001"):
        response = await client.get(f"{payroll_gateway.url}{path}", headers=access.headers)
        problem_of(response, 403, 40303, "3.3 a")


async def test_clause_3_3_a_company_of_another_customer_is_40303_and_one_of_no_one_the_apis_404(
    payroll_gateway: Gateway, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    access = await issue_test_access(sessions, debtors=("1001",))
    await ready(client, payroll_gateway, access)
    base = payroll_gateway.url
    own = await client.get(f"{base}/api/companies/{OWN_COMPANY}/employees", headers=access.headers)
    assert own.status_code == 200
    assert {employee["companyId"] for employee in own.json()["data"]} == {OWN_COMPANY}
    for company in (OTHER_COMPANY, "0" + str(OWN_COMPANY), "abc"):
        response = await client.get(f"{base}/api/companies/{company}", headers=access.headers)
        problem_of(response, 403, 40303, "3.3 a")
    nowhere = await client.get(f"{base}/api/companies/999999", headers=access.headers)
    assert nowhere.status_code == 404, nowhere.text  # the listing of all companies proves it
    assert nowhere.json()["code"] == 40404


async def test_clause_3_3_a_company_list_over_several_debtors_is_refused_40306(
    payroll_gateway: Gateway, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    several = await issue_test_access(sessions, debtors=("1001", "1002"))
    await ready(client, payroll_gateway, several)
    url = f"{payroll_gateway.url}/api/companies"
    problem_of(await client.get(url, headers=several.headers), 403, 40306, "3.3 a")
    one = await issue_test_token(sessions, several.key.application_id, debtors=("1002",))
    page = await client.get(url, headers=one.headers(several.key.key))
    assert page.status_code == 200
    assert {company["debtorId"] for company in page.json()["data"]} == {1002}


async def test_clause_3_3_a_lists_hold_only_the_consented_debtors(
    payroll_gateway: Gateway, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    access = await issue_test_access(sessions, debtors=("1001", "1003"))
    await ready(client, payroll_gateway, access)
    page = await client.get(f"{payroll_gateway.url}/api/debtors", headers=access.headers)
    assert page.status_code == 200
    assert {debtor["id"] for debtor in page.json()["data"]} == {1001, 1003}
    assert page.json()["pagination"]["totalRecords"] == 2


async def test_clause_3_3_a_client_sent_termgate_headers_are_ignored(
    payroll_gateway: Gateway, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    access = await issue_test_access(sessions, debtors=("1002",))
    await ready(client, payroll_gateway, access)
    spoofed = {
        **access.headers,
        "X-Termgate-Debtors": "1001,1002,1003,1004,1005",
        "X-Termgate-User": "1",
    }
    page = await client.get(f"{payroll_gateway.url}/api/debtors", headers=spoofed)
    assert page.status_code == 200
    assert [debtor["id"] for debtor in page.json()["data"]] == [1002]
    companies = await client.get(f"{payroll_gateway.url}/api/companies", headers=spoofed)
    assert {company["debtorId"] for company in companies.json()["data"]} == {1002}


async def test_clause_3_3_a_the_upstream_answers_for_the_token_s_end_user(
    payroll_gateway: Gateway, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    login = generate(employees=500).end_users[0]
    key = await issue_test_key(sessions)
    token = await issue_test_token(
        sessions,
        key.application_id,
        debtors=tuple(map(str, login.debtor_ids)),
        upstream_user_id=login.id,
    )
    url = f"{payroll_gateway.url}/api/user/info"
    await wait_for_status(client, url, key.key, 200, token=token.token)
    answer = await client.get(url, headers={**token.headers(key.key), "X-Termgate-User": "999"})
    assert answer.json()["id"] == login.id


async def test_clause_4_1_usage_event_names_the_end_user_and_the_data_category(
    payroll_gateway: Gateway, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    access = await issue_test_access(sessions, debtors=("1001",))
    await ready(client, payroll_gateway, access)
    request_id = f"consent-{uuid.uuid4().hex}"
    response = await client.get(
        f"{payroll_gateway.url}/api/companies/{OWN_COMPANY}/employees",
        headers={**access.headers, "X-Request-Id": request_id},
    )
    assert response.status_code == 200
    query = select(UsageEvent).where(UsageEvent.client_request_id == request_id)
    for _ in range(50):  # the gateway flushes every 0.2 s in the tests
        async with sessions() as session:
            event = await session.scalar(query)
        if event is not None:
            break
        await asyncio.sleep(0.1)
    assert event is not None
    assert event.end_user_id == access.token.end_user_id
    assert event.data_category == "personal"
    assert event.application_id == access.key.application_id
