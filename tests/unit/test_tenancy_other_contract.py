"""Another API described by a tenancy file alone (clause 3.3 a): a contract like the reference API
of before the published one — integer ids, `id` fields, other paths — checked by the same
resolver, over that contract's own listings (`TenantTree.generate(..., integer_ids=True)`)."""

from __future__ import annotations

import re
from pathlib import Path

from termgate.gateway.tenancy.check import TenantRefusal, check_path, settle
from termgate.gateway.tenancy.config import consent_roots, load_tenancy
from termgate.gateway.tenancy.resolver import TenantResolver
from tests.support.tenant_upstream import TenantTree

FILE = Path(__file__).resolve().parents[1] / "support" / "integer_tenancy.toml"
TEMPLATE = "/api/companies/{companyId}/employees/{employeeId}/documents/{documentId}"
# The paths of that contract as its provider documents them: each one's tenants are resolvable.
PATHS = (
    "/api/user/info",
    "/api/debtors",
    "/api/debtors/{debtorId}",
    "/api/debtors/{debtorId}/companies",
    "/api/companies",
    "/api/companies/{companyId}",
    "/api/companies/{companyId}/payroll-settings",
    "/api/companies/{companyId}/employees",
    "/api/companies/{companyId}/employees/salaries",
    "/api/companies/{companyId}/employees/{employeeId}",
    "/api/companies/{companyId}/employees/{employeeId}/personal-info",
    "/api/companies/{companyId}/employees/{employeeId}/addresses",
    "/api/companies/{companyId}/employees/{employeeId}/employments",
    "/api/companies/{companyId}/employees/{employeeId}/salaries",
    "/api/companies/{companyId}/employees/{employeeId}/payments",
    "/api/companies/{companyId}/employees/{employeeId}/bank-accounts",
    "/api/companies/{companyId}/employees/{employeeId}/leave",
    "/api/companies/{companyId}/employees/{employeeId}/leave-balances",
    "/api/companies/{companyId}/employees/{employeeId}/documents",
    TEMPLATE,
    TEMPLATE + "/content",
)


async def test_clause_3_3_a_the_integer_contract_is_checked_from_its_own_listings() -> None:
    config = load_tenancy(FILE)
    assert all(config.plan(template).refusal is None for template in PATHS)
    tree = TenantTree.generate(20260401, debtors=5, companies=3, employees=40, integer_ids=True)
    assert all(ident.isdigit() for ident in [*tree.debtors, *tree.companies, *tree.employees])
    tenants = TenantResolver(config, tree.fetch)
    roots = consent_roots(config, tree.debtors[:2])
    decided = 0
    for employee, company in tree.employees.items():
        debtor = tree.companies[company]
        params = {"companyId": company, "employeeId": employee, "documentId": "x"}
        plan = config.plan(TEMPLATE)
        outcome = check_path(plan, plan.ids_of(params), roots, tenants)
        if isinstance(outcome, tuple):
            outcome = await settle(outcome, roots, tenants)
        assert (outcome is None) == (debtor in roots)
        decided += 1
    assert decided == len(tree.employees) > 100
    listings = [target.split("?")[0] for target in tree.requests]
    assert len(listings) == len(set(listings))  # each listing walked once, one page each
    assert "/api/companies" in listings  # to place the other customers' companies

    leading_zero = check_path(config.plan(TEMPLATE), ("0" + company, employee), roots, tenants)
    assert isinstance(leading_zero, TenantRefusal)
    assert re.search("not a company id", leading_zero.reason)
    assert config.plan("/api/documents/{documentId}").refusal is not None
