"""The write operations: valid bodies change the data, invalid ones are validation problems."""

from __future__ import annotations

import httpx
import pytest

EMPLOYEE = "/api/companies/2001/employees/100001"
PERSONAL = {
    "firstName": "Sanne",
    "lastName": "Jansen",
    "prefix": "de",
    "dateOfBirth": "1990-02-14",
    "gender": "female",
    "email": "sanne.dejansen@example.nl",
    "phoneNumber": "06-12345678",
    "citizenServiceNumber": "111222333",
}
LEAVE = {"leaveType": "statutory", "startDate": "2026-07-06", "endDate": "2026-07-10", "hours": 40}


async def test_valid_personal_info_replaces_the_record(fresh_client: httpx.AsyncClient) -> None:
    response = await fresh_client.put(EMPLOYEE + "/personal-info", json=PERSONAL)
    assert response.status_code == 200
    record = response.json()
    assert {name: record[name] for name in PERSONAL} == PERSONAL
    assert record["formattedName"] == "S. de Jansen"
    assert (await fresh_client.get(EMPLOYEE + "/personal-info")).json() == record
    listed = (await fresh_client.get(EMPLOYEE)).json()
    assert (listed["firstName"], listed["lastName"]) == ("Sanne", "Jansen")


async def test_personal_info_read_back_may_be_sent_again(fresh_client: httpx.AsyncClient) -> None:
    current = (await fresh_client.get(EMPLOYEE + "/personal-info")).json()
    response = await fresh_client.put(EMPLOYEE + "/personal-info", json=current)
    assert response.status_code == 200
    assert response.json() == current


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lastName": ""}, "lastName"),
        ({"dateOfBirth": "14-02-1990"}, "dateOfBirth"),
        ({"dateOfBirth": "2999-01-01"}, "dateOfBirth"),
        ({"gender": "m"}, "gender"),
        ({"email": "not-an-address"}, "email"),
        ({"citizenServiceNumber": "123456789"}, "citizenServiceNumber"),
        ({"salary": 1}, "salary"),
    ],
)
async def test_invalid_personal_info_is_a_validation_problem_naming_the_field(
    fresh_client: httpx.AsyncClient, change: dict[str, object], field: str
) -> None:
    response = await fresh_client.put(EMPLOYEE + "/personal-info", json=PERSONAL | change)
    assert response.status_code == 400
    problem = response.json()
    assert problem["type"].endswith("validationError")
    assert [param["name"] for param in problem["invalid-params"]] == [field]
    unchanged = (await fresh_client.get(EMPLOYEE + "/personal-info")).json()
    assert unchanged["lastName"] != "Jansen"


async def test_missing_required_fields_are_all_reported(fresh_client: httpx.AsyncClient) -> None:
    response = await fresh_client.put(EMPLOYEE + "/personal-info", json={"firstName": "Sanne"})
    names = {param["name"] for param in response.json()["invalid-params"]}
    assert names == {"lastName", "dateOfBirth", "gender"}


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b""])
async def test_body_that_is_not_a_json_object_is_a_validation_problem(
    fresh_client: httpx.AsyncClient, body: bytes
) -> None:
    response = await fresh_client.put(
        EMPLOYEE + "/personal-info", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["invalid-params"][0]["name"] == "body"


async def test_write_to_unknown_employee_is_not_found(fresh_client: httpx.AsyncClient) -> None:
    response = await fresh_client.put(
        "/api/companies/2001/employees/9/personal-info", json=PERSONAL
    )
    assert response.status_code == 404


async def test_leave_request_is_created_and_listed(fresh_client: httpx.AsyncClient) -> None:
    response = await fresh_client.post(EMPLOYEE + "/leave", json=LEAVE | {"comment": "Zomer"})
    assert response.status_code == 201
    created = response.json()
    assert created["status"] == "requested"
    assert created["comment"] == "Zomer"
    assert response.headers["location"] == f"{EMPLOYEE}/leave/{created['id']}"
    listed = (await fresh_client.get(EMPLOYEE + "/leave?pageSize=100")).json()["data"]
    assert listed[-1] == created


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"leaveType": "sabbatical"}, "leaveType"),
        ({"endDate": "2026-07-01"}, "endDate"),
        ({"hours": 0}, "hours"),
        ({"hours": 500}, "hours"),
        ({"hours": "40"}, "hours"),
    ],
)
async def test_invalid_leave_request_is_a_validation_problem(
    fresh_client: httpx.AsyncClient, change: dict[str, object], field: str
) -> None:
    response = await fresh_client.post(EMPLOYEE + "/leave", json=LEAVE | change)
    assert response.status_code == 400
    assert [param["name"] for param in response.json()["invalid-params"]] == [field]
