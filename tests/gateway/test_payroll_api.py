"""The reference payroll API behind the gateway: what the demo's curl line does."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.gateway.conftest import Gateway, gateway_process, wait_for_status
from tests.support.factories import issue_test_key


@pytest.fixture(scope="session")
async def payroll_gateway(database_url: str, payroll_upstream: str) -> AsyncIterator[Gateway]:
    async with gateway_process(database_url, payroll_upstream) as gateway:
        yield gateway


async def test_clause_2_page_of_companies_through_the_gateway(
    payroll_gateway: Gateway, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    issued = await issue_test_key(sessions)
    url = f"{payroll_gateway.url}/api/companies"
    await wait_for_status(client, url, issued.key, 200)
    response = await client.get(url, headers={"X-Subscription-Key": issued.key})
    page = response.json()
    assert page["pagination"]["pageNumber"] == 1
    assert page["data"]
    assert "x-request-id" in response.headers


async def test_upstream_problems_pass_through_unchanged(
    payroll_gateway: Gateway, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    issued = await issue_test_key(sessions)
    headers = {"X-Subscription-Key": issued.key}
    await wait_for_status(client, f"{payroll_gateway.url}/api/companies", issued.key, 200)
    missing = await client.get(f"{payroll_gateway.url}/api/companies/999999", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == 40404
    too_big = await client.get(f"{payroll_gateway.url}/api/companies?pageSize=101", headers=headers)
    assert too_big.status_code == 400
    assert too_big.json()["invalid-params"][0]["name"] == "pageSize"


async def test_clause_3_3_e_plan_page_size_cap_is_enforced_at_the_gateway(
    payroll_gateway: Gateway, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    issued = await issue_test_key(sessions, max_page_size=25)
    url = f"{payroll_gateway.url}/api/companies"
    await wait_for_status(client, url, issued.key, 200)
    headers = {"X-Subscription-Key": issued.key}
    allowed = await client.get(f"{url}?pageSize=25", headers=headers)
    assert allowed.status_code == 200
    refused = await client.get(f"{url}?pageSize=26", headers=headers)
    assert refused.status_code == 400
    problem = refused.json()
    assert problem["clause"] == "3.3 e"
    assert problem["invalid-params"] == [{"name": "pageSize", "reason": "must be at most 25"}]


async def test_clause_3_2_operation_outside_the_product_is_refused(
    payroll_gateway: Gateway, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    issued = await issue_test_key(sessions, operations="listCompanies")
    await wait_for_status(client, f"{payroll_gateway.url}/api/companies", issued.key, 200)
    response = await client.get(
        f"{payroll_gateway.url}/api/debtors", headers={"X-Subscription-Key": issued.key}
    )
    assert response.status_code == 403
    assert response.json()["clause"] == "3.2"
