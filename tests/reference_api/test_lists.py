"""Every list answers in the pagination envelope; page size and number are validated."""

from __future__ import annotations

import httpx
import pytest

from termgate.reference_api import UpstreamApp

EMPLOYEES = "/api/companies/2001/employees"


async def test_list_uses_the_pagination_envelope_with_default_page_size_20(
    client: httpx.AsyncClient, app: UpstreamApp
) -> None:
    body = (await client.get(EMPLOYEES)).json()
    total = len(app.data.employees_by_company[2001])
    assert len(body["data"]) == 20
    assert body["pagination"] == {
        "pageNumber": 1,
        "pageSize": 20,
        "totalPages": -(-total // 20),
        "totalRecords": total,
    }


async def test_pages_follow_each_other_without_gaps(
    client: httpx.AsyncClient, app: UpstreamApp
) -> None:
    total = len(app.data.employees_by_company[2001])
    seen = []
    for number in range(1, -(-total // 30) + 1):
        page = (await client.get(EMPLOYEES, params={"pageSize": 30, "pageNumber": number})).json()
        seen += [employee["id"] for employee in page["data"]]
    assert seen == [employee["id"] for employee in app.data.employees_by_company[2001]]


async def test_page_beyond_the_last_is_empty(client: httpx.AsyncClient) -> None:
    body = (await client.get(EMPLOYEES, params={"pageNumber": 9999})).json()
    assert body["data"] == []
    assert body["pagination"]["pageNumber"] == 9999


async def test_page_size_100_is_allowed(client: httpx.AsyncClient, app: UpstreamApp) -> None:
    largest = max(app.data.companies, key=lambda company: company["employeeCount"])
    assert largest["employeeCount"] > 100
    url = f"/api/companies/{largest['id']}/employees"
    response = await client.get(url, params={"pageSize": 100})
    assert response.status_code == 200
    assert len(response.json()["data"]) == 100


@pytest.mark.parametrize("size", ["101", "0", "-1", "ten", ""])
async def test_page_size_outside_1_to_100_is_a_validation_problem(
    client: httpx.AsyncClient, size: str
) -> None:
    response = await client.get(EMPLOYEES, params={"pageSize": size})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("validationError")
    assert problem["clause"] == "3.2"
    assert [param["name"] for param in problem["invalid-params"]] == ["pageSize"]
    assert problem["invalid-params"][0]["reason"]


@pytest.mark.parametrize("number", ["0", "-3", "first"])
async def test_page_number_below_1_is_a_validation_problem(
    client: httpx.AsyncClient, number: str
) -> None:
    response = await client.get(EMPLOYEES, params={"pageNumber": number})
    assert response.status_code == 400
    assert response.json()["invalid-params"][0]["name"] == "pageNumber"


@pytest.mark.parametrize(
    "path",
    [
        "/api/debtors",
        "/api/debtors/1001/companies",
        "/api/companies",
        "/api/companies/2001/employees/salaries",
        "/api/companies/2001/employees/100001/addresses",
        "/api/companies/2001/employees/100001/employments",
        "/api/companies/2001/employees/100001/salaries",
        "/api/companies/2001/employees/100001/payments",
        "/api/companies/2001/employees/100001/bank-accounts",
        "/api/companies/2001/employees/100001/leave",
        "/api/companies/2001/employees/100001/leave-balances",
        "/api/companies/2001/employees/100001/documents",
    ],
)
async def test_every_list_is_paginated(client: httpx.AsyncClient, path: str) -> None:
    body = (await client.get(path)).json()
    assert set(body) == {"data", "pagination"}
    assert body["pagination"]["totalRecords"] >= len(body["data"]) > 0
    assert (await client.get(path, params={"pageSize": 101})).status_code == 400


async def test_company_salaries_list_one_current_salary_per_employee(
    client: httpx.AsyncClient, app: UpstreamApp
) -> None:
    body = (await client.get("/api/companies/2002/employees/salaries?pageSize=100")).json()
    staff = app.data.employees_by_company[2002]
    assert body["pagination"]["totalRecords"] == len(staff)
    assert [salary["employeeId"] for salary in body["data"]] == [e["id"] for e in staff[:100]]
    assert all(salary["endDate"] is None for salary in body["data"])
