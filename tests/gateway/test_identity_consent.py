"""The end user's access token at the gateway, through the published payroll API: the token is
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
from termgate.reference_api import document
from tests.gateway.conftest import Gateway, wait_for_status
from tests.gateway.published_world import NOWHERE, companies, debtor, employees, world
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

# The published API's data: debtors MINE and THEIRS (another customer), a company of each.
MINE, THEIRS, THIRD = debtor(0), debtor(1), debtor(2)
OWN_COMPANY, OTHER_COMPANY = companies(0)[0], companies(1)[0]


async def ready(client: httpx.AsyncClient, gateway: Gateway, access: IssuedAccess) -> None:
    url = f"{gateway.url}/api/debtors"
    await wait_for_status(client, url, access.key.key, 200, token=access.token.token)


def problem_of(response: httpx.Response, status: int, code: int, clause: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == CONTRACT_MEDIA_TYPE
    problem: dict[str, object] = response.json()
    assert_contract_problem(problem, status, code, clause)
    return problem


def named(problem: dict[str, object]) -> list[object]:
    """The parameters a 40303 names (`invalid-params`)."""
    params = problem["invalid-params"]
    assert isinstance(params, list)
    return [param["name"] for param in params]


async def test_clause_3_3_a_request_without_token_is_refused_40101(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(sessions, debtors=(MINE,))
    await ready(client, published_gateway, access)
    response = await client.get(
        f"{published_gateway.url}/api/debtors", headers={"X-Subscription-Key": access.key.key}
    )
    problem_of(response, 401, 40101, "3.3 a")
    # RFC 6750 §3.1: a request without any token gets the challenge without an error code.
    assert response.headers["www-authenticate"] == 'Bearer realm="termgate"'


async def test_clause_3_3_a_bad_tokens_are_refused_40102(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(sessions, debtors=(MINE,))
    await ready(client, published_gateway, access)
    stranger = ECKey.generate_key("P-256", parameters={"kid": "stranger"})
    forged = issue_access_token(
        stranger,
        issuer=TEST_ISSUER,
        client_id=access.key.application_id,
        end_user_id=access.token.end_user_id,
        upstream_user_id="1",
        scope="debtor.info.read",
        debtors=tuple(item.id for item in world().debtors),
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
        response = await client.get(f"{published_gateway.url}/api/debtors", headers=headers)
        problem_of(response, 401, 40102, "3.3 a")
        assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_clause_3_3_a_expired_token_is_refused_40102(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(sessions, debtors=(MINE,))
    await ready(client, published_gateway, access)
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    expired = await issue_test_token(sessions, access.key.application_id, now=two_hours_ago)
    response = await client.get(
        f"{published_gateway.url}/api/debtors", headers=expired.headers(access.key.key)
    )
    problem = problem_of(response, 401, 40102, "3.3 a")
    assert "expired" in str(problem["detail"])
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_clause_3_3_a_revoked_family_is_refused_within_a_second(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(sessions, debtors=(MINE,))
    await ready(client, published_gateway, access)
    await revoke_test_family(sessions, access.token.family_id)
    url = f"{published_gateway.url}/api/debtors"
    waited = await wait_for_status(
        client, url, access.key.key, 401, token=access.token.token, code=40102
    )
    assert waited < within(1.0)
    response = await client.get(url, headers=access.headers)
    assert "revoked" in str(problem_of(response, 401, 40102, "3.3 a")["detail"])


async def test_clause_2_token_of_another_application_is_refused(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    mine = await issue_test_access(sessions, debtors=(MINE,))
    other = await issue_test_key(sessions)
    await ready(client, published_gateway, mine)
    url = f"{published_gateway.url}/api/debtors"
    # The other key is unknown (40100) until the snapshot has it; wait for the token's refusal.
    await wait_for_status(client, url, other.key, 401, token=mine.token.token, code=40102)
    response = await client.get(url, headers=mine.token.headers(other.key))
    problem = problem_of(response, 401, 40102, "2")
    # An authentication error like any invalid token; its title and clause tell it apart.
    assert (problem["type"], problem["title"]) == ("authenticationError", FOREIGN_TOKEN.title)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_clause_3_3_e_scope_not_granted_is_refused_with_required_and_granted(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(
        sessions, debtors=(MINE,), scope="debtor.info.read company.info.read"
    )
    await ready(client, published_gateway, access)
    response = await client.get(
        f"{published_gateway.url}/api/companies/{OWN_COMPANY}/employees", headers=access.headers
    )
    problem = problem_of(response, 403, 40302, "3.3 e")
    # The document lists `employee.info` and `employee.info.read`: the write scope implies the
    # read, so the read alone is required.
    assert problem["required"] == ["employee.info.read"]
    assert problem["granted"] == ["company.info.read", "debtor.info.read"]
    assert response.headers["www-authenticate"] == (
        'Bearer realm="termgate", error="insufficient_scope", scope="employee.info.read"'
    )
    allowed = await client.get(
        f"{published_gateway.url}/api/companies/{OWN_COMPANY}/addresses", headers=access.headers
    )
    assert allowed.status_code == 200, allowed.text


async def test_clause_3_3_e_write_scope_implies_read_but_read_not_write(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    writer = await issue_test_access(
        sessions, debtors=(MINE,), scope="company.info.read employee.info"
    )
    reader = await issue_test_token(
        sessions,
        writer.key.application_id,
        debtors=(MINE,),
        scope="company.info.read employee.info.read",
    )
    await ready(client, published_gateway, writer)
    base = published_gateway.url
    read = await client.get(f"{base}/api/companies/{OWN_COMPANY}/employees", headers=writer.headers)
    assert read.status_code == 200, read.text
    employee = read.json()["data"][0]["employeeId"]
    url = f"{base}/api/employees/{employee}/personalInfo"
    refused = await client.put(url, headers=reader.headers(writer.key.key), json=[])
    problem = problem_of(refused, 403, 40302, "3.3 e")
    assert problem["required"] == ["employee.info"]
    # The writer's scope lets the write through to the API, which judges the body (a body off
    # the schema, so the shared data set is not changed).
    written = await client.put(url, headers=writer.headers, json=[])
    assert (written.status_code, written.json()["code"]) == (400, 40001), written.text
    got = await client.get(
        f"{base}/api/employees/{employee}", headers=reader.headers(writer.key.key)
    )
    assert got.status_code == 200, got.text


async def test_clause_3_3_a_debtor_outside_the_consent_is_refused_40303(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(sessions, debtors=(MINE,))
    await ready(client, published_gateway, access)
    base = published_gateway.url
    own = await client.get(f"{base}/api/debtors/{MINE}/companies", headers=access.headers)
    assert own.status_code == 200
    assert {company["debtorId"] for company in own.json()["data"]} == {MINE}
    assert {company["companyId"] for company in own.json()["data"]} == set(companies(0))
    for path in (
        f"/api/debtors/{THEIRS}/companies",
        f"/api/debtors/{THEIRS}/tags",
        f"/api/debtors/{MINE.replace('-', '')}/companies",
        f"/api/debtors/{NOWHERE}/tags",
    ):
        response = await client.get(f"{base}{path}", headers=access.headers)
        problem = problem_of(response, 403, 40303, "3.3 a")
        assert named(problem) == ["debtorId"]


async def test_clause_3_3_a_company_of_another_customer_is_40303_and_one_of_no_one_the_apis_404(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(sessions, debtors=(MINE,))
    await ready(client, published_gateway, access)
    base = published_gateway.url
    own = await client.get(f"{base}/api/companies/{OWN_COMPANY}/employees", headers=access.headers)
    assert own.status_code == 200
    listed = [employee["employeeId"] for employee in own.json()["data"]]
    assert listed == employees(OWN_COMPANY, len(listed))
    for company in (OTHER_COMPANY, OWN_COMPANY.replace("-", ""), "0" + OWN_COMPANY, "abc"):
        response = await client.get(
            f"{base}/api/companies/{company}/addresses", headers=access.headers
        )
        problem = problem_of(response, 403, 40303, "3.3 a")
        assert named(problem) == ["companyId"]
    nowhere = await client.get(f"{base}/api/companies/{NOWHERE}/addresses", headers=access.headers)
    assert nowhere.status_code == 404, nowhere.text  # the listing of all companies proves it
    assert nowhere.json()["code"] == 40404


async def test_clause_3_3_a_employee_outside_the_consent_s_companies_is_refused_40303(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(sessions, debtors=(MINE,))
    await ready(client, published_gateway, access)
    base = published_gateway.url
    own = employees(companies(0)[-1])[-1]  # the last employee of the debtor's last company
    answer = await client.get(f"{base}/api/employees/{own}", headers=access.headers)
    assert answer.status_code == 200, answer.text
    for employee in (employees(OTHER_COMPANY, 1)[0], NOWHERE, own.upper().replace("-", "")):
        response = await client.get(f"{base}/api/employees/{employee}", headers=access.headers)
        problem = problem_of(response, 403, 40303, "3.3 a")
        assert named(problem) == ["employeeId"]


async def test_clause_3_3_a_company_list_over_several_debtors_is_refused_40306(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    several = await issue_test_access(sessions, debtors=(MINE, THEIRS))
    await ready(client, published_gateway, several)
    url = f"{published_gateway.url}/api/companies"
    problem_of(await client.get(url, headers=several.headers), 403, 40306, "3.3 a")
    one = await issue_test_token(sessions, several.key.application_id, debtors=(THEIRS,))
    page = await client.get(url, headers=one.headers(several.key.key))
    assert page.status_code == 200
    assert {company["debtorId"] for company in page.json()["data"]} == {THEIRS}
    assert {company["companyId"] for company in page.json()["data"]} == set(companies(1))


async def test_clause_3_3_a_lists_hold_only_the_consented_debtors(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(sessions, debtors=(MINE, THIRD))
    await ready(client, published_gateway, access)
    page = await client.get(f"{published_gateway.url}/api/debtors", headers=access.headers)
    assert page.status_code == 200
    assert {debtor["debtorId"] for debtor in page.json()["data"]} == {MINE, THIRD}
    assert page.json()["pagination"]["totalRecords"] == 2


async def test_clause_3_3_a_client_sent_termgate_headers_are_ignored(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(sessions, debtors=(THEIRS,))
    await ready(client, published_gateway, access)
    spoofed = {
        **access.headers,
        "X-Termgate-Debtors": ",".join(item.id for item in world().debtors),
        "X-Termgate-User": world().end_users[0].id,
    }
    page = await client.get(f"{published_gateway.url}/api/debtors", headers=spoofed)
    assert page.status_code == 200
    assert [debtor["debtorId"] for debtor in page.json()["data"]] == [THEIRS]
    listing = await client.get(f"{published_gateway.url}/api/companies", headers=spoofed)
    assert {company["debtorId"] for company in listing.json()["data"]} == {THEIRS}


async def test_clause_3_3_a_the_upstream_answers_for_the_token_s_end_user(
    published_upstream: str,
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # The token's end user is termgate's (an integer upstream id that names no login of the
    # published API); a client naming a real login in X-Termgate-User must not be answered for.
    login = world().end_users[0]
    spoof = {"X-Termgate-User": login.id}
    direct = await client.get(f"{published_upstream}/api/user/info", headers=spoof)
    assert {row["userId"] for row in direct.json()["data"]} == {login.id}  # the header matters
    key = await issue_test_key(sessions)
    token = await issue_test_token(sessions, key.application_id, debtors=login.debtor_ids)
    url = f"{published_gateway.url}/api/user/info"
    await wait_for_status(client, url, key.key, 200, token=token.token)
    answer = await client.get(url, headers={**token.headers(key.key), **spoof})
    assert answer.status_code == 200, answer.text
    assert login.id not in {row["userId"] for row in answer.json()["data"]}


EMPLOYEES = "/api/companies/{companyId}/employees"


async def test_clause_4_1_usage_event_names_the_end_user_and_the_data_category(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(sessions, debtors=(MINE,))
    await ready(client, published_gateway, access)
    request_id = f"consent-{uuid.uuid4().hex}"
    response = await client.get(
        f"{published_gateway.url}/api/companies/{OWN_COMPANY}/employees",
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
    assert event.application_id == access.key.application_id
    assert (event.method, event.operation) == ("GET", EMPLOYEES)
    # The category is the document's `x-data-category` of the operation; the published document
    # declares none, so the event names the operation (what the end user's page shows then).
    declared = document()["paths"][EMPLOYEES]["get"].get("x-data-category")
    assert event.data_category == declared
