"""The tenant check's cost per request once ids are learnt, beside the company lookup it is to
replace, in one run (ratios, not absolute times alone); and the upstream requests that learning
a consent's tenants took. Run: `python -m bench.tenancy_check`."""

from __future__ import annotations

import asyncio
import timeit

from tests.support.tenant_upstream import TenantTree

from termgate.gateway.tenancy.check import check_path, settle
from termgate.gateway.tenancy.config import consent_roots, load_tenancy
from termgate.gateway.tenancy.resolver import TenantResolver

CALLS = 200_000


def best_ns(call: object) -> float:
    return min(timeit.repeat(call, number=CALLS, repeat=7)) / CALLS * 1e9  # type: ignore[arg-type]


async def learn(tenants: TenantResolver, tree: TenantTree, roots: frozenset[str]) -> list[str]:
    config = tenants.config
    plan = config.plan("/api/employees/{employeeId}/fixedhours")
    employees = [e for e, c in tree.employees.items() if tree.companies[c] in roots]
    for employee in employees:
        unplaced = check_path(plan, {"employeeId": employee}, roots, tenants)
        if isinstance(unplaced, tuple):
            assert await settle(unplaced, roots, tenants) is None
    return employees


def main() -> None:
    config = load_tenancy()
    tree = TenantTree.generate(1, debtors=5, companies=4, employees=300)
    tenants = TenantResolver(config, tree.fetch)
    roots = consent_roots(config, tree.debtors[:2])
    employees = asyncio.run(learn(tenants, tree, roots))
    print(f"learnt {len(employees)} employees with {len(tree.requests)} upstream requests")
    employee = employees[len(employees) // 2]
    company = tree.employees[employee]
    one = config.plan("/api/employees/{employeeId}/fixedhours")
    two = config.plan("/api/companies/{companyId}/employees/{employeeId}/absences")
    both = {"companyId": company, "employeeId": employee}
    upper = {"employeeId": employee.upper()}
    owner, debtors = {"2001": "1001"}, frozenset({"1001", "1002"})  # the company lookup of today
    figures = {
        "today: company → debtor dict and consent set": best_ns(
            lambda: owner.get("2001") in debtors
        ),
        "one tenant id": best_ns(lambda: check_path(one, {"employeeId": employee}, roots, tenants)),
        "two tenant ids": best_ns(lambda: check_path(two, both, roots, tenants)),
        "one id in upper case": best_ns(lambda: check_path(one, upper, roots, tenants)),
    }
    base = figures["today: company → debtor dict and consent set"]
    for name, ns in figures.items():
        print(f"{name}: {ns:.0f} ns ({ns / base:.1f}x)")


if __name__ == "__main__":
    main()
