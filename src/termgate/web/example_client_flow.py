"""What the example client reads, the way an SDK of the published contract would.

List the customers (debtors); list the companies, and where the token spans several customers
(the contract answers `40306` to `GET /api/companies`) ask each customer's companies instead;
page through one company's employees; read the company's contracts, salaries and employments;
then one employee and that employee's records. Ids are taken from the fields the contract names
(`debtorId`, `companyId`, `employeeId`, ...), never assumed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

SEVERAL_DEBTORS = 40306  # the contract's code: a cross-debtor listing asked for several debtors
PAGE_SIZE = 5
EMPLOYEE_PAGES = 2  # pages of employees shown; the listing says how many there are
Row = tuple[str, ...]


@dataclass
class Reading:
    """One call through the gateway and what the page shows of its answer."""

    path: str
    status: int
    body: Any
    columns: Row = ()
    rows: list[Row] = field(default_factory=list)
    note: str = ""

    @property
    def data(self) -> list[dict[str, Any]]:
        items = self.body.get("data") if isinstance(self.body, dict) else None
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []

    @property
    def pagination(self) -> dict[str, Any] | None:
        found = self.body.get("pagination") if isinstance(self.body, dict) else None
        return found if isinstance(found, dict) else None

    @property
    def code(self) -> object:
        return self.body.get("code") if isinstance(self.body, dict) else None


def text(value: object) -> str:
    return "" if value is None else str(value)


def basic_info(item: dict[str, Any]) -> dict[str, Any]:
    """`employeeBasicInfo` of a company's listing, `personalInfo.basicInfo` of one employee."""
    personal = item.get("personalInfo")
    info = personal.get("basicInfo") if isinstance(personal, dict) else None
    info = info if isinstance(info, dict) else item.get("employeeBasicInfo")
    return info if isinstance(info, dict) else {}


def employee_row(item: dict[str, Any]) -> list[Row]:
    info = basic_info(item)
    name = " ".join(
        str(info[part]) for part in ("firstName", "prefix", "lastName") if info.get(part)
    )
    return [
        (text(item.get("employeeId")), text(info.get("employeeNumber")), name,
         text(info.get("employeeType")))
    ]  # fmt: skip


def nested(key: str, fields: Row) -> Callable[[dict[str, Any]], list[Row]]:
    """Rows of a per-employee listing: one per record in `item[key]`, led by the employeeId."""

    def rows(item: dict[str, Any]) -> list[Row]:
        records = item.get(key)
        if not isinstance(records, list):
            return []
        owner = text(item.get("employeeId"))
        return [(owner, *(text(r.get(f)) for f in fields)) for r in records if isinstance(r, dict)]

    return rows


def flat(fields: Row) -> Callable[[dict[str, Any]], list[Row]]:
    return lambda item: [tuple(text(item.get(f)) for f in fields)]


DEBTORS = ("debtorId", "number", "name")
COMPANIES = ("companyId", "number", "name", "debtorId")
EMPLOYEES = ("employeeId", "employeeNumber", "name", "employeeType")
RECORDS: dict[str, Row] = {
    "contracts": ("contractId", "startDate", "endDate", "hoursPerWeek", "indefinite"),
    "salaries": ("salaryId", "startDate", "type", "value"),
    "employments": ("employmentId", "startDate", "endDate", "seniorityDate"),
}


class PayrollApi:
    """Calls through the gateway with the application's key and the end user's token."""

    def __init__(self, client: httpx.AsyncClient, key: str, token: str) -> None:
        self.client = client
        self.headers = {"X-Subscription-Key": key, "Authorization": f"Bearer {token}"}
        self.readings: list[Reading] = []

    async def get(
        self,
        path: str,
        columns: Row,
        rows: Callable[[dict[str, Any]], list[Row]],
        note: str = "",
    ) -> Reading:
        answer = await self.client.get(path, headers=self.headers)
        try:
            body: Any = answer.json()
        except ValueError:
            body = answer.text[:500]
        reading = Reading(path, answer.status_code, body, note=note)
        if answer.status_code == 200:
            reading.columns = columns
            reading.rows = [row for item in reading.data for row in rows(item)]
        self.readings.append(reading)
        return reading


async def companies_of(api: PayrollApi, debtors: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """All companies the token may see: one listing, or per debtor after a `40306`."""
    listing = await api.get(f"/api/companies?pageSize={PAGE_SIZE}", COMPANIES, flat(COMPANIES))
    if listing.status == 200:
        return listing.data
    if listing.status != 403 or listing.code != SEVERAL_DEBTORS:
        return []
    companies: list[dict[str, Any]] = []
    note = "the token spans several customers (40306): their companies, customer by customer"
    for debtor in debtors:
        path = f"/api/debtors/{debtor.get('debtorId')}/companies?pageSize={PAGE_SIZE}"
        companies += (await api.get(path, COMPANIES, flat(COMPANIES), note)).data
        note = ""
    return companies


async def employees_of(api: PayrollApi, company_id: str) -> list[dict[str, Any]]:
    """The first pages of the company's employees, page by page as the listing numbers them."""
    employees: list[dict[str, Any]] = []
    for number in range(1, EMPLOYEE_PAGES + 1):
        path = f"/api/companies/{company_id}/employees?pageSize={PAGE_SIZE}&pageNumber={number}"
        page = await api.get(path, EMPLOYEES, employee_row)
        employees += page.data
        if page.pagination is None or not page.pagination.get("nextPage"):
            break
    return employees


async def records_of(api: PayrollApi, company_id: str, employee_id: str | None = None) -> None:
    """The company's contracts, salaries and employments, or one employee's (`employeeId`)."""
    for kind, fields in RECORDS.items():
        query = f"employeeId={employee_id}" if employee_id else f"pageSize={PAGE_SIZE}"
        path = f"/api/companies/{company_id}/employees/{kind}?{query}"
        await api.get(path, ("employeeId", *fields), nested(kind, fields))


async def read_everything(client: httpx.AsyncClient, key: str, token: str) -> list[Reading]:
    api = PayrollApi(client, key, token)
    debtors = (await api.get("/api/debtors?pageSize=10", DEBTORS, flat(DEBTORS))).data
    companies = await companies_of(api, debtors[:2])
    company_id = next((str(c["companyId"]) for c in companies if c.get("companyId")), None)
    if company_id is None:
        return api.readings
    employees = await employees_of(api, company_id)
    await records_of(api, company_id)
    employee_id = next((str(e["employeeId"]) for e in employees if e.get("employeeId")), None)
    if employee_id is not None:
        await api.get(f"/api/employees/{employee_id}", EMPLOYEES, employee_row)
        await records_of(api, company_id, employee_id)
    return api.readings
