"""The published payroll API behind the gateway: what the demo's curl line does."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.gateway.conftest import Gateway, wait_for_status
from tests.gateway.published_world import NOWHERE, companies, debtor
from tests.support.contract_errors import CONTRACT_MEDIA_TYPE, assert_contract_problem
from tests.support.factories import IssuedAccess, issue_test_access

MINE = debtor(0)


async def ready(client: httpx.AsyncClient, url: str, access: IssuedAccess) -> None:
    await wait_for_status(client, url, access.key.key, 200, token=access.token.token)


async def test_clause_2_page_of_companies_through_the_gateway(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(sessions, debtors=(MINE,))
    url = f"{published_gateway.url}/api/companies"
    await ready(client, url, access)
    response = await client.get(url, headers=access.headers)
    page = response.json()
    assert page["pagination"]["pageNumber"] == 1
    assert page["pagination"]["totalRecords"] == len(companies(0))
    assert [company["companyId"] for company in page["data"]] == companies(0)
    assert {company["debtorId"] for company in page["data"]} == {MINE}
    assert "x-request-id" in response.headers


async def test_upstream_problems_pass_through_unchanged(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(sessions, debtors=(MINE,))
    headers = access.headers
    await ready(client, f"{published_gateway.url}/api/companies", access)
    first = (await client.get(f"{published_gateway.url}/api/companies", headers=headers)).json()
    assert first["data"]
    missing = await client.get(  # a company that exists nowhere: the API's own 404
        f"{published_gateway.url}/api/companies/{NOWHERE}/employees", headers=headers
    )
    assert missing.status_code == 404
    assert (missing.json()["code"], missing.json()["title"]) == (40404, "Invalid_Company")
    assert "clause" not in missing.json()  # the API's document, not one of termgate's
    page_zero = await client.get(
        f"{published_gateway.url}/api/companies?pageNumber=0", headers=headers
    )
    assert page_zero.status_code == 400, page_zero.text
    assert page_zero.json()["invalid-params"][0]["name"] == "pageNumber"
    too_big = await client.get(
        f"{published_gateway.url}/api/companies?pageSize=101", headers=headers
    )
    assert too_big.status_code == 400
    assert too_big.json()["invalid-params"][0]["name"] == "pageSize"


async def test_clause_3_3_e_plan_page_size_cap_is_enforced_at_the_gateway(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(sessions, debtors=(MINE,), max_page_size=25)
    url = f"{published_gateway.url}/api/companies"
    await ready(client, url, access)
    headers = access.headers
    allowed = await client.get(f"{url}?pageSize=25", headers=headers)
    assert allowed.status_code == 200
    assert (await client.get(f"{url}?pageSize=26", headers=headers)).status_code == 400
    refused = await client.get(f"{url}?pageSize=40001", headers=headers)
    assert refused.status_code == 400
    assert refused.headers["content-type"] == CONTRACT_MEDIA_TYPE
    problem = refused.json()
    assert_contract_problem(problem, 400, 40001, "3.3 e")
    # The parameter is the cause: a validation error naming it, as the contract's 400 example.
    assert problem["type"] == "validationError"
    assert problem["invalid-params"] == [{"name": "pageSize", "reason": "must be at most 25"}]


async def test_clause_3_2_operation_outside_the_product_is_refused(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(sessions, debtors=(MINE,), operations="getCompanies")
    await ready(client, f"{published_gateway.url}/api/companies", access)
    response = await client.get(f"{published_gateway.url}/api/debtors", headers=access.headers)
    assert response.status_code == 403
    assert response.json()["clause"] == "3.2"
