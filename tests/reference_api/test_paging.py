"""The pagination envelope: counts, and links that walk every record exactly once."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest


@pytest.fixture(scope="module")
def employees(client: httpx.Client) -> str:
    companies = client.get("/api/companies").json()["data"]
    return f"/api/companies/{companies[3]['companyId']}/employees"


def test_following_next_page_visits_every_employee_once(
    client: httpx.Client, employees: str
) -> None:
    first = client.get(employees, params={"pageSize": 7, "employeeType": "payroll,formerPayroll"})
    pagination = first.json()["pagination"]
    total = pagination["totalRecords"]
    assert pagination["totalPages"] == -(-total // 7)
    assert pagination["previousPage"] is None
    seen: list[str] = []
    page = first.json()
    while True:
        seen += [item["employeeId"] for item in page["data"]]
        link = page["pagination"]["nextPage"]
        if link is None:
            break
        query = parse_qs(urlsplit(link).query)
        assert query["pageSize"] == ["7"]
        assert query["employeeType"] == ["payroll,formerPayroll"]
        page = client.get(link).json()
        assert page["pagination"]["previousPage"] is not None
    assert len(seen) == len(set(seen)) == total
    assert page["pagination"]["pageNumber"] == pagination["totalPages"]
    last = urlsplit(pagination["lastPage"])
    assert parse_qs(last.query)["pageNumber"] == [str(pagination["totalPages"])]
    assert parse_qs(urlsplit(pagination["firstPage"]).query)["pageNumber"] == ["1"]


def test_a_page_past_the_end_is_empty_but_counts_stay(client: httpx.Client, employees: str) -> None:
    body = client.get(employees, params={"pageNumber": 999, "pageSize": 100}).json()
    assert body["data"] == []
    assert body["pagination"]["nextPage"] is None
    assert body["pagination"]["totalRecords"] > 0


def test_the_employee_filter_and_type_filter(client: httpx.Client, employees: str) -> None:
    every = client.get(employees, params={"pageSize": 100}).json()
    one = every["data"][5]["employeeId"]
    only = client.get(employees, params={"employeeId": one}).json()
    assert [item["employeeId"] for item in only["data"]] == [one]
    assert only["pagination"]["totalRecords"] == 1
    former = client.get(employees, params={"employeeType": "formerPayroll", "pageSize": 100})
    kinds = {item["employeeBasicInfo"]["employeeType"] for item in former.json()["data"]}
    assert kinds <= {"formerPayroll"}
    payroll = client.get(employees, params={"employeeType": "payroll"}).json()["pagination"]
    assert (former.json()["pagination"]["totalRecords"] + payroll["totalRecords"]
            == every["pagination"]["totalRecords"])  # fmt: skip


def test_a_page_number_beyond_64_bits_is_still_an_empty_page(
    client: httpx.Client, employees: str
) -> None:
    number = 2**80
    body = client.get(employees, params={"pageNumber": number}).json()
    assert body["data"] == []
    assert body["pagination"]["pageNumber"] == number
