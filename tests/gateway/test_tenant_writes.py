"""Tenants created through the gateway (clause 3.3 a): a successful write under a company makes
the gateway walk that company's employee listing again on the next unknown id, so an employee
created a moment ago is reachable at once, not only after the listings' refresh period; a
refused or failed write changes nothing the gateway remembers."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.reference_api import generate
from tests.gateway.conftest import PUBLISHED_EMPLOYEES, PUBLISHED_SEED, Gateway, wait_for_status
from tests.support.factories import issue_test_access

NEW_EMPLOYEE: dict[str, Any] = {
    "PersonalInfo": {
        "basicInfo": {
            "employeeNumber": 98072,
            "firstName": "Noor",
            "lastName": "Visser",
            "employeeType": "newHire",
        },
        "birthInfo": {"birthDate": "1990-02-27", "gender": "female"},
        "period": {"year": 2026, "period": 11},
    },
    "AdditionalEmployeeInfo": {"inServiceDate": "2026-11-01"},
}


async def test_clause_3_3_a_an_employee_created_through_the_gateway_is_reachable_at_once(
    published_gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = generate(PUBLISHED_SEED, PUBLISHED_EMPLOYEES)
    debtor = world.debtors[0]
    company = world.companies_of(debtor)[0]
    access = await issue_test_access(
        sessions, debtors=(debtor.id,), scope="employee.info employee.info.read"
    )
    base, headers = published_gateway.url, access.headers
    employees = f"{base}/api/companies/{company.id}/employees"
    await wait_for_status(client, employees, access.key.key, 200, token=access.token.token)
    listed = (await client.get(employees, headers=headers)).json()["data"]
    known = await client.get(f"{base}/api/employees/{listed[0]['employeeId']}", headers=headers)
    assert known.status_code == 200, known.text  # the company's listing is walked and trusted now

    created = await client.post(employees, headers=headers, json=NEW_EMPLOYEE)
    assert created.status_code == 201, created.text
    new_id = created.json()["employeeId"]
    fresh = await client.get(f"{base}/api/employees/{new_id}", headers=headers)
    assert fresh.status_code == 200, fresh.text
    assert [info["employeeId"] for info in fresh.json()["data"]] == [new_id]

    other_company = world.companies_of(world.debtors[1])[0]
    foreign = await client.post(
        f"{base}/api/companies/{other_company.id}/employees", headers=headers, json=NEW_EMPLOYEE
    )
    assert (foreign.status_code, foreign.json()["code"]) == (403, 40303)
