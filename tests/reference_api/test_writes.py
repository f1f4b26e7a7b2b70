"""Writes are checked against the request schemas and applied, so later reads show them."""

from __future__ import annotations

import httpx
import pytest

from termgate.reference_api import operations
from tests.support.published_answers import answer_errors

OPS = {op.operation_id: op for op in operations()}


@pytest.fixture(scope="module")
def where(client: httpx.Client) -> dict[str, str]:
    company = client.get("/api/companies").json()["data"][1]["companyId"]
    employees = client.get(f"/api/companies/{company}/employees?pageSize=5").json()["data"]
    return {"company": company, "employee": employees[2]["employeeId"],
            "other": employees[3]["employeeId"]}  # fmt: skip


def _view(client: httpx.Client, where: dict[str, str], view: str, employee: str) -> list[dict]:
    path = f"/api/companies/{where['company']}/employees/{view}"
    data = client.get(path, params={"employeeId": employee, "pageSize": 100}).json()["data"]
    mine = [item for item in data if item["employeeId"] == employee]
    assert len(mine) == 1
    return mine[0]


def test_a_posted_address_shows_in_the_companys_address_listing(
    client: httpx.Client, where: dict[str, str]
) -> None:
    body = {"type": "postAddress", "street": "Prinsengracht", "houseNumber": "263",
            "postalCode": "1016 GV", "city": "Amsterdam", "countryISOCode": "NL"}  # fmt: skip
    response = client.post(f"/api/employees/{where['employee']}/address", json=body)
    assert response.status_code == 201
    assert answer_errors(OPS["createEmployeeAddress"], response) == []
    address_id = response.json()["addressId"]
    listed = _view(client, where, "addresses", where["employee"])["addresses"]
    mine = [item for item in listed if item["addressId"] == address_id]
    assert len(mine) == 1
    assert {k: mine[0][k] for k in body} == body
    other = _view(client, where, "addresses", where["other"])["addresses"]
    assert address_id not in {item["addressId"] for item in other}


def test_a_deleted_contract_is_gone_and_deleting_it_again_is_404(
    client: httpx.Client, where: dict[str, str]
) -> None:
    contracts = _view(client, where, "contracts", where["employee"])["contracts"]
    contract_id = contracts[0]["contractId"]
    path = f"/api/employees/{where['employee']}/contracts/{contract_id}"
    deleted = client.delete(path)
    assert deleted.status_code == 204
    assert deleted.content == b""
    after = _view(client, where, "contracts", where["employee"])["contracts"]
    assert contract_id not in {item["contractId"] for item in after}
    assert len(after) == len(contracts) - 1
    again = client.delete(path)
    assert again.status_code == 404
    assert answer_errors(OPS["deleteEmployeeContract"], again) == []


def test_a_new_contract_then_an_update_of_it_show_in_the_contracts(
    client: httpx.Client, where: dict[str, str]
) -> None:
    created = client.post(
        f"/api/employees/{where['employee']}/contract",
        json={"startDate": "2026-05-01T00:00:00Z", "indefinite": False, "hoursPerWeek": 24},
    )
    assert created.status_code == 201
    contract_id = created.json()["contractId"]
    updated = client.put(
        f"/api/employees/{where['employee']}/contract",
        json={"contractId": contract_id, "indefinite": True, "hoursPerWeek": 32},
    )
    assert updated.status_code == 200
    assert answer_errors(OPS["updateEmployeeContract"], updated) == []
    contracts = _view(client, where, "contracts", where["employee"])["contracts"]
    mine = next(item for item in contracts if item["contractId"] == contract_id)
    assert (mine["startDate"], mine["indefinite"], mine["hoursPerWeek"]) == (
        "2026-05-01T00:00:00Z", True, 32)  # fmt: skip


def test_a_body_off_the_schema_is_400_naming_what_is_wrong(
    client: httpx.Client, where: dict[str, str]
) -> None:
    response = client.post(
        f"/api/employees/{where['employee']}/address",
        json={"type": "castle", "street": 12, "city": "Utrecht"},
    )
    assert response.status_code == 400
    assert answer_errors(OPS["createEmployeeAddress"], response) == []
    problem = response.json()
    assert (problem["type"], problem["code"], problem["httpStatus"]) == (
        "validationError",
        40001,
        400,
    )
    named = {entry["name"] for entry in problem["invalid-params"]}
    assert {"type", "street", "body"} <= named  # body: countryISOCode is missing
    not_json = client.post(
        f"/api/employees/{where['employee']}/address",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert not_json.status_code == 400


def test_hours_added_then_deleted(client: httpx.Client, where: dict[str, str]) -> None:
    employee = f"/api/employees/{where['employee']}"
    created = client.post(f"{employee}/fixedhours", json={"hourCode": 1, "hours": 7.5})
    assert created.status_code == 201
    hour_id = created.json()["hourComponentId"]
    listed = client.get(f"{employee}/fixedhours").json()["data"]
    assert any(item["hourComponentId"] == hour_id and item["hours"] == 7.5 for item in listed)
    assert client.delete(f"{employee}/hours/{hour_id}").status_code == 204
    listed = client.get(f"{employee}/fixedhours").json()["data"]
    assert hour_id not in {item["hourComponentId"] for item in listed}


def test_a_created_employee_is_listed_and_readable(
    client: httpx.Client, where: dict[str, str]
) -> None:
    employees = f"/api/companies/{where['company']}/employees"
    before = client.get(employees).json()["pagination"]["totalRecords"]
    basic = {"firstName": "Saskia", "prefix": "van den", "lastName": "Heuvel",
             "employeeType": "external"}  # fmt: skip
    body = {"PersonalInfo": {"basicInfo": basic}}
    created = client.post(employees, json=body)
    assert created.status_code == 201
    employee_id = created.json()["employeeId"]
    listed = client.get(employees, params={"employeeId": employee_id}).json()
    assert listed["pagination"]["totalRecords"] == 1
    basic = listed["data"][0]["employeeBasicInfo"]
    assert (basic["firstName"], basic["prefix"], basic["lastName"]) == (
        "Saskia",
        "van den",
        "Heuvel",
    )
    assert basic["employeeType"] == "external"
    externals = client.get(employees, params={"employeeType": "external"}).json()["data"]
    assert [item["employeeId"] for item in externals] == [employee_id]
    assert client.get(employees).json()["pagination"]["totalRecords"] == before + 1
    info = client.get(f"/api/employees/{employee_id}")
    assert info.status_code == 200
    assert answer_errors(OPS["getEmployee"], info) == []


def test_a_new_bsn_shows_in_the_private_infos(client: httpx.Client, where: dict[str, str]) -> None:
    response = client.put(
        f"/api/employees/{where['other']}/socialsecuritynumber",
        json={"socialSecurityNumber": "123456782"},
    )
    assert response.status_code == 200
    assert _view(client, where, "privateInfos", where["other"])["privateInfos"][0]["BSN"] == (
        "123456782"
    )


def test_an_absence_registration_lands_in_its_dossier(
    client: httpx.Client, where: dict[str, str]
) -> None:
    base = f"/api/companies/{where['company']}/employees/{where['employee']}/absences"
    dossier = client.post(base, json={
        "startDate": "2026-03-02", "registrationStartDate": "2026-03-02", "percentage": 100,
        "dossierType": 8, "cause": "unknown", "mobilityIssues": False,
    })  # fmt: skip
    assert dossier.status_code == 201, dossier.text
    dossier_id = dossier.json()["absenceDossierId"]
    registration = client.post(f"{base}/{dossier_id}/registrations", json={
        "startDate": "2026-03-09", "registrationStartDate": "2026-03-09", "percentage": 50,
    })  # fmt: skip
    assert registration.status_code == 201
    absence_id = registration.json()["absenceId"]
    dossiers = _view(client, where, "absences", where["employee"])["employeeAbsenceDossiers"]
    mine = next(item for item in dossiers if item["absenceDossierId"] == dossier_id)
    assert absence_id in {item["absenceId"] for item in mine["employeeAbsences"]}


def test_an_absence_for_an_employee_of_another_company_is_404(
    client: httpx.Client, where: dict[str, str]
) -> None:
    other_company = client.get("/api/companies").json()["data"][0]["companyId"]
    assert other_company != where["company"]
    body = {"startDate": "2026-03-02", "registrationStartDate": "2026-03-02", "percentage": 100,
            "dossierType": 8, "cause": "unknown", "mobilityIssues": False}  # fmt: skip
    path = f"/api/companies/{other_company}/employees/{where['employee']}/absences"
    response = client.post(path, json=body)
    assert response.status_code == 404
    assert answer_errors(OPS["createEmployeeAbsence"], response) == []


@pytest.mark.parametrize(
    ("create", "body", "answer_id", "delete", "listing", "field"),
    [
        ("leaverequest", {"startDate": "2026-07-06", "endDate": "2026-07-17", "hours": 80,
                          "leaveGroupId": "9b6f6f39-3f4f-4b1c-9d6e-0a5b8a4f2c11",
                          "status": "approved", "type": "takeUp"},
         "leaveRequestId", "leave", "leaverequests", "EmployeeLeaveRequests"),
        ("variablewagecomponent", {"code": 110, "value": 42.5}, "variableWagecomponentId",
         "wagecomponents", "variablewagecomponents", "variablewagecomponents"),
        ("fixedWageComponent", {"code": 120, "value": 99.95}, "fixedWageComponentId",
         "wagecomponents", "fixedWageComponents", "fixedWageComponents"),
        ("employment", {"startDate": "2026-06-01T00:00:00Z"}, "employmentId", "employments",
         "employments", "employments"),
    ],
)  # fmt: skip
def test_what_a_post_creates_a_delete_removes(
    client: httpx.Client, where: dict[str, str], create: str, body: dict[str, object],
    answer_id: str, delete: str, listing: str, field: str,
) -> None:  # fmt: skip
    employee = f"/api/employees/{where['employee']}"
    created = client.post(f"{employee}/{create}", json=body)
    if created.status_code == 400:
        pytest.fail(created.text)
    assert created.status_code == 201
    record_id = created.json()[answer_id]

    def listed() -> set[str]:
        records = _view(client, where, listing, where["employee"])[field]
        return {str(value) for record in records for value in record.values()}

    assert record_id in listed()
    assert client.delete(f"{employee}/{delete}/{record_id}").status_code == 204
    assert record_id not in listed()
