"""The flows of a client written against the published document (as an SDK does them) work
through the gateway unchanged: list debtors, list companies (a token over several customers gets
403 `40306` from `GET /api/companies` and falls back to `GET /api/debtors/{debtorId}/companies`),
page through employees by the pagination envelope's links, and read contracts, salaries and
employments of a company and of one employee. What they read is checked against the upstream's
own data, read directly.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from termgate.reference_api import operations
from tests.contract.conftest import Contract
from tests.support.published_answers import answer_errors

BY_TEMPLATE = {(op.method, op.template): op for op in operations()}
EMPLOYEE_VIEWS = ("contracts", "salaries", "employments")
PAGE = 50  # the largest company of the two customers has 140 employees: three pages


@dataclass
class PayrollClient:
    """What an SDK of the contract does, over any HTTP client (here: the gateway's)."""

    http: httpx.Client
    calls: list[str] = field(default_factory=list)

    def _get(self, template: str, url: str) -> httpx.Response:
        response = self.http.get(url)
        self.calls.append(f"{response.status_code} {template}")
        assert answer_errors(BY_TEMPLATE["GET", template], response) == [], response.text
        return response

    def pages(self, template: str, path: str) -> list[dict[str, Any]]:
        """Every item of a listing, following `nextPage` until it is null."""
        items: list[dict[str, Any]] = []
        url: str | None = f"{path}?pageSize={PAGE}"
        number = 1
        while url is not None:
            response = self._get(template, url)
            assert response.status_code == 200, response.text
            pagination = response.json()["pagination"]
            assert pagination["pageNumber"] == number, pagination
            items.extend(response.json()["data"])
            url = pagination["nextPage"]
            if url is not None:  # its path and query, on the gateway (where links lead:
                link = urlsplit(url)  # test_links_and_documents)
                url = f"{link.path}?{link.query}"
            number += 1
        assert len(items) == pagination["totalRecords"], pagination
        assert number - 1 == pagination["totalPages"], pagination
        return items

    def debtors(self) -> list[str]:
        return [d["debtorId"] for d in self.pages("/api/debtors", "/api/debtors")]

    def companies(self) -> list[str]:
        response = self._get("/api/companies", f"/api/companies?pageSize={PAGE}")
        if response.status_code == 403 and response.json()["code"] == 40306:
            template = "/api/debtors/{debtorId}/companies"
            return [c["companyId"] for debtor in self.debtors()
                    for c in self.pages(template, f"/api/debtors/{debtor}/companies")]  # fmt: skip
        assert response.status_code == 200, response.text
        return [c["companyId"] for c in self.pages("/api/companies", "/api/companies")]

    def employees(self, company: str) -> list[str]:
        template = "/api/companies/{companyId}/employees"
        path = f"/api/companies/{company}/employees"
        return [e["employeeId"] for e in self.pages(template, path)]

    def company_view(self, company: str, view: str) -> list[dict[str, Any]]:
        template = f"/api/companies/{{companyId}}/employees/{view}"
        return self.pages(template, f"/api/companies/{company}/employees/{view}")

    def employee_view(self, company: str, employee: str, view: str) -> dict[str, Any]:
        template = f"/api/companies/{{companyId}}/employees/{view}"
        url = f"/api/companies/{company}/employees/{view}?employeeId={employee}"
        response = self._get(template, url)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert [record["employeeId"] for record in data] == [employee], data
        record: dict[str, Any] = data[0]
        return record


def _flows(contract: Contract, headers: dict[str, str], consented: tuple[str, ...]) -> list[str]:
    customers = contract.customers
    with httpx.Client(base_url=contract.gateway, headers=headers, timeout=30) as http:
        client = PayrollClient(http)
        assert sorted(client.debtors()) == sorted(consented)
        companies = client.companies()
        assert companies == [c for debtor in consented for c in customers.companies[debtor]]
        largest = max(companies, key=lambda company: len(customers.employees[company]))
        staff = client.employees(largest)
        assert staff == customers.employees[largest]
        # one on the last page, with a contract and an employment (the upstream's own data)
        holders = [
            set(customers.children[kind].values()) for kind in ("contractId", "employmentId")
        ]
        employee = next(e for e in reversed(staff) if all(e in held for held in holders))
        for view in EMPLOYEE_VIEWS:
            listing = client.company_view(largest, view)
            assert [record["employeeId"] for record in listing] == staff, view
            mine = client.employee_view(largest, employee, view)
            assert mine == next(r for r in listing if r["employeeId"] == employee), view
            assert view in mine, f"{view} of {employee}: {mine}"
        return client.calls


async def test_clause_3_2_a_client_of_several_customers_lists_companies_per_debtor_after_40306(
    contract: Contract,
) -> None:
    consented = contract.customers.debtors[:2]
    headers = await contract.headers(*consented)
    calls = await asyncio.to_thread(_flows, contract, headers, consented)
    assert calls.count("403 /api/companies") == 1, calls
    assert "200 /api/debtors/{debtorId}/companies" in calls, calls
    print(f"client flows over two customers: {len(calls)} calls")


async def test_clause_3_2_a_client_of_one_customer_lists_its_companies_at_once(
    contract: Contract,
) -> None:
    consented = contract.customers.debtors[1:2]
    headers = await contract.headers(*consented)
    calls = await asyncio.to_thread(_flows, contract, headers, consented)
    assert not any(call.startswith("403") for call in calls), calls
    assert not any("/api/debtors/{debtorId}/companies" in call for call in calls), calls
