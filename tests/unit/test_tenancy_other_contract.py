"""Another API described by a tenancy file alone (clause 3.3 a): the reference API of before the
published contract — integer ids, `id` fields, other paths — checked by the same resolver."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from termgate.gateway.tenancy.check import TenantRefusal, check_path, consent_roots, settle
from termgate.gateway.tenancy.config import load_tenancy
from termgate.gateway.tenancy.resolver import TenantResolver
from termgate.reference_api import create_app

FILE = Path(__file__).resolve().parents[1] / "support" / "reference_tenancy.toml"
TEMPLATE = "/api/companies/{companyId}/employees/{employeeId}/documents/{documentId}"


async def test_clause_3_3_a_the_integer_contract_is_checked_from_its_own_listings() -> None:
    config = load_tenancy(FILE)
    app = create_app(20260401, 120)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://payroll.test"
    ) as client:
        document = (await client.get("/openapi.json")).json()
        assert all(config.plan(template).refusal is None for template in document["paths"])
        companies = (await client.get("/api/companies?pageSize=100")).json()["data"]
        owner = {str(c["id"]): str(c["debtorId"]) for c in companies}
        employees: dict[str, str] = {}
        for company in owner:
            listed = (await client.get(f"/api/companies/{company}/employees?pageSize=100")).json()
            employees.update({str(e["id"]): owner[company] for e in listed["data"]})

        asked: list[str] = []

        async def fetch(target: str) -> tuple[int, bytes]:
            asked.append(target)
            response = await client.get(target)
            return response.status_code, response.content

        tenants = TenantResolver(config, fetch)
        debtors = sorted(set(owner.values()))
        roots = consent_roots(config, debtors[:2])
        decided = 0
        for employee, debtor in employees.items():
            company = next(c for c, d in owner.items() if d == debtor)
            params = {"companyId": company, "employeeId": employee, "documentId": "x"}
            plan = config.plan(TEMPLATE)
            outcome = check_path(plan, plan.ids_of(params), roots, tenants)
            if isinstance(outcome, tuple):
                outcome = await settle(outcome, roots, tenants)
            assert (outcome is None) == (debtor in roots)
            decided += 1
        assert decided == len(employees) > 100
        listings = [target.split("?")[0] for target in asked]
        assert len(listings) == len(set(listings))  # each listing walked once, one page each
        assert "/api/companies" in listings  # to place the other customers' companies

        leading_zero = check_path(config.plan(TEMPLATE), ("0" + company, employee), roots, tenants)
        assert isinstance(leading_zero, TenantRefusal)
        assert re.search("not a company id", leading_zero.reason)
        assert config.plan("/api/documents/{documentId}").refusal is not None
