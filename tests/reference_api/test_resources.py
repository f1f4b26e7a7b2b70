"""Single resources, not-found and routing problems, the tenant filter, user info, request ids."""

from __future__ import annotations

import httpx
import pytest

from termgate.reference_api import UpstreamApp

EMPLOYEE = "/api/companies/2001/employees/100001"


@pytest.mark.parametrize(
    ("path", "key", "value"),
    [
        ("/api/debtors/1001", "id", 1001),
        ("/api/companies/2001", "id", 2001),
        ("/api/companies/2001/payroll-settings", "companyId", 2001),
        (EMPLOYEE, "id", 100001),
        (EMPLOYEE + "/personal-info", "employeeId", 100001),
    ],
)
async def test_single_resources_are_plain_json_objects(
    client: httpx.AsyncClient, path: str, key: str, value: int
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()[key] == value


async def test_debtor_companies_are_the_debtors_own(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/debtors/1002/companies")).json()
    assert body["data"]
    assert {company["debtorId"] for company in body["data"]} == {1002}


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/api/debtors/999", 40401),
        ("/api/debtors/abc/companies", 40401),
        ("/api/companies/999", 40404),
        ("/api/companies/999/employees", 40404),
        ("/api/companies/2001/employees/1", 40401),
        (EMPLOYEE + "/documents/00000000-0000-4000-8000-000000000000", 40401),
    ],
)
async def test_unknown_ids_are_not_found_problems_with_code_and_clause(
    client: httpx.AsyncClient, path: str, code: int
) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code
    assert problem["clause"] == "3.2"
    assert problem["status"] == 404
    assert problem["instance"] == path


async def test_employee_of_another_company_is_not_found(
    client: httpx.AsyncClient, app: UpstreamApp
) -> None:
    other = app.data.employees_by_company[2002][0]["id"]
    response = await client.get(f"/api/companies/2001/employees/{other}")
    assert response.status_code == 404
    assert response.json()["code"] == 40401


async def test_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/payslips")
    assert response.status_code == 404
    assert response.json()["code"] == 40401


async def test_wrong_method_is_a_405_problem_naming_the_allowed_ones(
    client: httpx.AsyncClient,
) -> None:
    response = await client.delete(EMPLOYEE + "/personal-info")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PUT"
    assert response.json()["code"] == 40501


async def test_debtor_header_filters_debtor_and_company_lists(client: httpx.AsyncClient) -> None:
    headers = {"X-Termgate-Debtors": "1001,1003"}
    debtors = (await client.get("/api/debtors", headers=headers)).json()
    companies = (await client.get("/api/companies", headers=headers)).json()
    assert [debtor["id"] for debtor in debtors["data"]] == [1001, 1003]
    assert debtors["pagination"]["totalRecords"] == 2
    assert {company["debtorId"] for company in companies["data"]} == {1001, 1003}


async def test_without_debtor_header_lists_are_not_filtered(client: httpx.AsyncClient) -> None:
    debtors = (await client.get("/api/debtors")).json()
    companies = (await client.get("/api/companies")).json()
    assert debtors["pagination"]["totalRecords"] == 5
    assert companies["pagination"]["totalRecords"] == 12


async def test_user_info_answers_for_the_user_the_gateway_names(
    client: httpx.AsyncClient, app: UpstreamApp
) -> None:
    accountant = next(user for user in app.data.end_users if len(user.debtor_ids) == 2)
    response = await client.get("/api/user/info", headers={"X-Termgate-User": str(accountant.id)})
    assert response.status_code == 200
    assert response.json() == {
        "id": accountant.id,
        "username": accountant.username,
        "email": accountant.email,
        "displayName": accountant.display_name,
        "debtorIds": list(accountant.debtor_ids),
    }


async def test_clause_3_3_a_user_info_shows_only_the_consented_debtors(
    client: httpx.AsyncClient, app: UpstreamApp
) -> None:
    accountant = next(user for user in app.data.end_users if len(user.debtor_ids) == 2)
    consented = accountant.debtor_ids[0]
    response = await client.get(
        "/api/user/info",
        headers={"X-Termgate-User": str(accountant.id), "X-Termgate-Debtors": str(consented)},
    )
    assert response.json()["debtorIds"] == [consented]


async def test_user_info_without_user_header_is_40101(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/user/info")
    assert response.status_code == 401
    assert response.json()["code"] == 40101


async def test_user_info_for_an_unknown_user_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/user/info", headers={"X-Termgate-User": "999"})
    assert response.status_code == 404


async def test_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/debtors", headers={"X-Request-Id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    problem = await client.get("/api/nothing", headers={"X-Request-Id": "def-456"})
    assert problem.headers["x-request-id"] == "def-456"


async def test_request_id_is_made_up_when_absent(client: httpx.AsyncClient) -> None:
    first = (await client.get("/api/debtors")).headers["x-request-id"]
    second = (await client.get("/api/debtors")).headers["x-request-id"]
    assert first
    assert first != second
