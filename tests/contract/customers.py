"""The oracle of the contract tests: which customer (debtor) owns each id of the upstream's world,
read from the reference API directly (no gateway, no `X-Termgate-Debtors`: it answers for all
customers), through the same listings a client of the contract uses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

PAGE = 100  # the contract's largest page
# Company listings with one record per employee, and where each record keeps the ids of its
# children: listing → (member holding the children, the child's id field, its path parameter).
EMPLOYEE_CHILDREN = {
    "employees/contracts": ("contracts", "contractId", "contractId"),
    "employees/employments": ("employments", "employmentId", "employmentId"),
    "employees/leaverequests": ("EmployeeLeaveRequests", "leaveRequestsId", "leaverequestId"),
    "employees/absences": ("employeeAbsenceDossiers", "absenceDossierId", "absenceDossierId"),
    "employees/fixedWageComponents": (
        "fixedWageComponents", "fixedWageComponentId", "wagecomponentId"),
    "employees/variablewagecomponents": (
        "variablewagecomponents", "variableWageComponentId", "wagecomponentId"),
}  # fmt: skip
# Company listings of records under the company: listing → (id field, its path parameter).
COMPANY_CHILDREN = {
    "runs": ("payrollRunId", "payrollRunId"),
    "wagetaxes": ("wageTaxId", "wageTaxId"),
}
# Employee listings whose records are hour components (`{hourcomponentId}`), read for the
# first employees of each company only (one request per employee).
HOUR_LISTINGS = ("fixedhours", "variablehours")
HOUR_SAMPLE = 3


def records(body: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in an answer, nested ones included."""
    if isinstance(body, dict):
        yield body
        for value in body.values():
            yield from records(value)
    elif isinstance(body, list):
        for value in body:
            yield from records(value)


def every_page(client: httpx.Client, path: str) -> Iterator[dict[str, Any]]:
    """The items of a listing, page after page (its `nextPage` links followed)."""
    url: str | None = f"{path}?pageSize={PAGE}"
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, f"{url}: {response.text}"
        body = response.json()
        yield from body["data"]
        url = body["pagination"]["nextPage"]


@dataclass
class Customers:
    """The customers of the upstream and the ids they own."""

    debtors: tuple[str, ...] = ()
    companies: dict[str, list[str]] = field(default_factory=dict)  # debtor → its companies
    employees: dict[str, list[str]] = field(default_factory=dict)  # company → its employees
    company_owner: dict[str, str] = field(default_factory=dict)  # company → debtor
    employee_company: dict[str, str] = field(default_factory=dict)  # employee → company
    # path parameter of a child record (contractId, payrollRunId, ...) → {id → its parent}
    children: dict[str, dict[str, str]] = field(default_factory=dict)
    # every id above → the debtor owning it
    owner: dict[str, str] = field(default_factory=dict)

    def ids_of(self, debtor: str, parameter: str) -> list[str]:
        """The ids of `parameter` (debtorId, companyId, employeeId or a child) `debtor` owns."""
        if parameter == "debtorId":
            return [debtor]
        if parameter == "companyId":
            return list(self.companies[debtor])
        if parameter == "employeeId":
            return [e for c in self.companies[debtor] for e in self.employees[c]]
        return [i for i, _ in self.children.get(parameter, {}).items() if self.owner[i] == debtor]

    def children_of(self, parameter: str, parent: str) -> list[str]:
        """The ids of `parameter` (a child such as contractId) under one employee or company."""
        return [i for i, held in self.children.get(parameter, {}).items() if held == parent]


def read_customers(upstream: str) -> Customers:
    """Every customer's debtor, companies, employees and their children, read directly."""
    found = Customers()
    with httpx.Client(base_url=upstream, timeout=30) as client:
        found.debtors = tuple(d["debtorId"] for d in every_page(client, "/api/debtors"))
        for debtor in found.debtors:
            found.owner[debtor] = debtor
            listing = every_page(client, f"/api/debtors/{debtor}/companies")
            found.companies[debtor] = [company["companyId"] for company in listing]
            for company in found.companies[debtor]:
                found.company_owner[company] = found.owner[company] = debtor
                _read_company(client, found, debtor, company)
    return found


def _read_company(client: httpx.Client, found: Customers, debtor: str, company: str) -> None:
    base = f"/api/companies/{company}"
    staff = [e["employeeId"] for e in every_page(client, f"{base}/employees")]
    found.employees[company] = staff
    for employee in staff:
        found.employee_company[employee] = company
        found.owner[employee] = debtor
    for listing, (member, id_field, parameter) in EMPLOYEE_CHILDREN.items():
        for record in every_page(client, f"{base}/{listing}"):
            for child in record.get(member) or ():
                _child(found, parameter, child[id_field], record["employeeId"], debtor)
                for absence in child.get("employeeAbsences") or ():  # a dossier's absences
                    _child(found, "absenceId", absence["absenceId"], record["employeeId"], debtor)
    for listing, (id_field, parameter) in COMPANY_CHILDREN.items():
        for record in every_page(client, f"{base}/{listing}"):
            _child(found, parameter, record[id_field], company, debtor)
    for table in every_page(client, f"{base}/salarytables"):
        for version in every_page(client, f"/api/salarytable/{table['salaryTableId']}"):
            _child(found, "salaryTableVersionId", version["versionId"], company, debtor)
    for employee in staff[:HOUR_SAMPLE]:
        for listing in HOUR_LISTINGS:
            for record in every_page(client, f"/api/employees/{employee}/{listing}"):
                _child(found, "hourcomponentId", record["hourComponentId"], employee, debtor)


def _child(found: Customers, parameter: str, value: str, parent: str, debtor: str) -> None:
    found.children.setdefault(parameter, {})[value] = parent
    found.owner[value] = debtor
