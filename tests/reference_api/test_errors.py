"""Unknown ids, bad parameters and wrong routes answer the contract's error documents."""

from __future__ import annotations

import uuid

import httpx
import pytest

from termgate.reference_api import operations
from tests.support.published_answers import answer_errors

OPS = {op.operation_id: op for op in operations()}
UNKNOWN = str(uuid.UUID(int=12345, version=4))


@pytest.fixture(scope="module")
def company(client: httpx.Client) -> str:
    return str(client.get("/api/companies").json()["data"][0]["companyId"])


@pytest.mark.parametrize(
    ("operation_id", "path", "code"),
    [
        ("getCompaniesByDebtor", f"/api/debtors/{UNKNOWN}/companies", 40401),
        ("getEmployeesByCompany", f"/api/companies/{UNKNOWN}/employees", 40404),
        ("getEmployee", f"/api/employees/{UNKNOWN}", 40401),
        ("getFixedHourComponentsByEmployee", f"/api/employees/{UNKNOWN}/fixedhours", 40401),
        ("GetDocumentContentId", f"/api/documents/{UNKNOWN}", 40401),
    ],
)
def test_an_unknown_id_is_404_in_the_contracts_shape(
    client: httpx.Client, operation_id: str, path: str, code: int
) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert answer_errors(OPS[operation_id], response) == []
    problem = response.json()
    assert (problem["type"], problem["httpStatus"], problem["code"]) == (
        "invalidRequestError", 404, code)  # fmt: skip
    assert problem["title"]
    assert problem["detail"]
    assert problem["docUrl"].startswith("https://")


def test_a_run_of_another_company_is_404(client: httpx.Client) -> None:
    companies = [item["companyId"] for item in client.get("/api/companies").json()["data"]]
    run = client.get(f"/api/companies/{companies[0]}/runs").json()["data"][0]["payrollRunId"]
    assert client.get(f"/api/companies/{companies[0]}/runs/{run}/employees").status_code == 200
    response = client.get(f"/api/companies/{companies[1]}/runs/{run}/employees")
    assert response.status_code == 404
    assert answer_errors(OPS["getEmployeesInPayrollRun"], response) == []


@pytest.mark.parametrize(
    ("query", "name"),
    [("pageSize=0", "pageSize"), ("pageSize=101", "pageSize"), ("pageNumber=0", "pageNumber"),
     ("pageNumber=abc", "pageNumber"), ("employeeId=not-a-guid", "employeeId"),
     ("createdFrom=yesterday", "createdFrom"), ("pageSize=5&pageSize=6", "pageSize")],
)  # fmt: skip
def test_a_bad_parameter_is_400_naming_it(
    client: httpx.Client, company: str, query: str, name: str
) -> None:
    response = client.get(f"/api/companies/{company}/employees?{query}")
    assert response.status_code == 400
    assert answer_errors(OPS["getEmployeesByCompany"], response) == []
    problem = response.json()
    assert (problem["type"], problem["code"]) == ("validationError", 40033)
    assert [entry["name"] for entry in problem["invalid-params"]] == [name]


def test_a_path_id_that_is_no_guid_is_400(client: httpx.Client) -> None:
    response = client.get("/api/companies/42/employees")
    assert response.status_code == 400
    assert response.json()["invalid-params"][0]["name"] == "companyId"


def test_a_required_year_that_is_missing_is_400(client: httpx.Client, company: str) -> None:
    run = client.get(f"/api/companies/{company}/runs").json()["data"][0]["payrollRunId"]
    response = client.get(f"/api/companies/{company}/runs/{run}/sepa")
    assert response.status_code == 400
    assert response.json()["invalid-params"] == [
        {"name": "year", "reason": "The parameter is required."}
    ]


def test_an_unknown_route_is_404_and_a_wrong_method_405(client: httpx.Client) -> None:
    missing = client.get("/api/payrolls")
    assert missing.status_code == 404
    assert missing.json()["code"] == 40401
    wrong = client.delete("/api/debtors")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET"
    assert wrong.json()["type"] == "invalidRequestError"
