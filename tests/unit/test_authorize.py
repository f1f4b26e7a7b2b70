"""Step 3, authorize, decided over objects built in memory: clauses 3.2, 3.3 a and 3.3 e."""

from __future__ import annotations

import logging

import orjson
import pytest

from termgate.gateway.authorize import authorize, resolve_tenant
from termgate.gateway.tenancy.resolver import Fetch, TenantResolver
from termgate.problems import (
    INSUFFICIENT_SCOPE,
    ONE_DEBTOR_REQUIRED,
    OPERATION_NOT_IN_PRODUCT,
    TENANT_NOT_CONSENTED,
    UPSTREAM_ERROR,
)
from tests.unit.builders import bearer, grant, operation, ready, refused_with, resolver

READ = frozenset({"employee.info.read"})
COMPANY_OP = operation("/api/companies/{companyId}/employees", operation_id="listCompanyEmployees")


def directory(companies: dict[str, str] | None = None) -> TenantResolver:
    return resolver(companies)


def test_clause_3_2_operation_outside_the_product_is_refused() -> None:
    ex = ready(grant(operations=frozenset({"getEmployee"})))
    problem = refused_with(authorize(ex, directory()), OPERATION_NOT_IN_PRODUCT, ex)
    assert problem["detail"] == "listEmployees is not part of the payroll product."


def test_clause_3_2_operation_inside_the_product_passes() -> None:
    ex = ready(grant(operations=frozenset({"getEmployee", "listEmployees"})))
    assert authorize(ex, directory()) is None


def test_clause_3_3_e_missing_scope_is_refused_with_the_challenge() -> None:
    ex = ready(token=bearer(scopes=frozenset({"payroll.read"})))
    response = authorize(ex, directory())
    problem = refused_with(response, INSUFFICIENT_SCOPE, ex)
    assert problem["detail"] == (
        "listEmployees needs one of the scopes employee.info.read; "
        "the end user did not grant it to your application."
    )
    assert problem["required"] == ["employee.info.read"]
    assert problem["granted"] == ["payroll.read"]
    assert response is not None
    assert response.headers == [
        (
            "www-authenticate",
            'Bearer realm="termgate", error="insufficient_scope", scope="employee.info.read"',
        )
    ]


def test_clause_3_3_e_write_scope_grants_its_read_scope() -> None:
    assert authorize(ready(token=bearer(scopes=frozenset({"employee.info"}))), directory()) is None


def test_clause_3_3_e_any_single_scope_alternative_suffices() -> None:
    op = operation(scopes=(frozenset({"a.read"}), frozenset({"employee.info.read"})))
    assert authorize(ready(op=op), directory()) is None
    neither = ready(token=bearer(scopes=frozenset({"b.read"})), op=op)
    problem = refused_with(authorize(neither, directory()), INSUFFICIENT_SCOPE, neither)
    assert problem["detail"] == (
        "listEmployees needs one of the scopes a.read, employee.info.read; "
        "the end user did not grant it to your application."
    )


def test_clause_3_3_e_combined_alternative_needs_every_scope() -> None:
    op = operation(scopes=(frozenset({"a.read", "b.read"}), frozenset({"c.read"})))
    both = bearer(scopes=frozenset({"a.read", "b.read"}))
    assert authorize(ready(token=both, op=op), directory()) is None
    one = bearer(scopes=frozenset({"a.read"}))
    problem = refused_with(authorize(ready(token=one, op=op), directory()), INSUFFICIENT_SCOPE)
    assert problem["required"] == ["a.read b.read", "c.read"]
    only_c = bearer(scopes=frozenset({"c.read"}))
    assert authorize(ready(token=only_c, op=op), directory()) is None


def test_clause_3_3_e_operation_without_scopes_needs_none() -> None:
    op = operation("/api/ping", scopes=())
    assert authorize(ready(token=bearer(scopes=frozenset()), op=op), directory()) is None


def test_clause_3_3_a_consented_debtor_passes_another_is_refused() -> None:
    assert authorize(ready(tenant_id="7"), directory()) is None
    ex = ready(tenant_id="8", path="/api/debtors/8/employees")
    problem = refused_with(authorize(ex, directory()), TENANT_NOT_CONSENTED, ex)
    assert problem["detail"] == "debtorId 8 is not covered by the consent."
    assert problem["invalid-params"] == [
        {"name": "debtorId", "reason": "not covered by the consent"}
    ]


def test_clause_3_3_a_company_of_a_consented_debtor_passes() -> None:
    ex = ready(op=COMPANY_OP, tenant_id="30")
    assert authorize(ex, directory({"30": "7", "31": "8"})) is None


def test_clause_3_3_a_company_of_another_debtor_is_refused() -> None:
    ex = ready(op=COMPANY_OP, tenant_id="31")
    problem = refused_with(
        authorize(ex, directory({"30": "7", "31": "8"})), TENANT_NOT_CONSENTED, ex
    )
    assert problem["detail"] == "companyId 31 is not covered by the consent."


def test_clause_3_3_a_unknown_canonical_company_is_looked_up_others_refused() -> None:
    pending = ready(op=COMPANY_OP, tenant_id="99")
    assert authorize(pending, directory()) is None
    assert pending.unplaced == (("companyId", pending.operation.tenancy.tenants[0][1], "99"),)
    ex = ready(op=COMPANY_OP, tenant_id="099")
    refused_with(authorize(ex, directory()), TENANT_NOT_CONSENTED, ex)


def listing(companies: dict[str, str]) -> Fetch:
    """The upstream's listings of companies per debtor (one page) and of all companies."""

    async def fetch(target: str) -> tuple[int, bytes]:
        path = target.split("?", 1)[0]
        if path == "/api/companies":
            items = [{"id": int(c), "debtorId": int(d)} for c, d in companies.items()]
        else:
            debtor = path.split("/")[3]
            items = [{"id": int(c)} for c, d in companies.items() if d == debtor]
        return 200, orjson.dumps({"data": items, "pagination": {"totalPages": 1}})

    return fetch


async def test_clause_3_3_a_resolve_tenant_decides_after_the_lookup() -> None:
    mine = ready(op=COMPANY_OP, tenant_id="99")
    tenants = resolver(fetch=listing({"99": "7"}))
    assert authorize(mine, tenants) is None
    assert await resolve_tenant(mine, tenants) is None
    ex = ready(op=COMPANY_OP, tenant_id="99")
    tenants = resolver(fetch=listing({"99": "8"}))
    assert authorize(ex, tenants) is None
    problem = refused_with(await resolve_tenant(ex, tenants), TENANT_NOT_CONSENTED, ex)
    assert problem["detail"] == "companyId 99 is not covered by the consent."


def test_clause_3_3_a_company_list_needs_a_single_debtor_consent() -> None:
    op = operation("/api/companies", operation_id="listCompanies")
    several = bearer(debtors=frozenset({"7", "8"}))
    ex = ready(token=several, op=op, tenant_id=None)
    problem = refused_with(authorize(ex, directory()), ONE_DEBTOR_REQUIRED, ex)
    assert problem["detail"] == (
        "The end user's consent spans several debtors; listCompanies answers "
        "for one. List per debtor: GET /api/debtors/{debtorId}/companies."
    )
    assert authorize(ready(op=op, tenant_id=None), directory()) is None


def test_clause_3_3_a_untenanted_operation_passes_for_several_debtors() -> None:
    op = operation("/api/ping", operation_id="ping")
    ex = ready(token=bearer(debtors=frozenset({"7", "8"})), op=op, tenant_id=None)
    assert authorize(ex, directory()) is None


def test_clause_3_3_e_scope_is_checked_before_the_tenant() -> None:
    ex = ready(token=bearer(scopes=frozenset({"x.read"})), tenant_id="8")
    refused_with(authorize(ex, directory()), INSUFFICIENT_SCOPE, ex)
    ex = ready(grant(operations=frozenset()), token=bearer(scopes=frozenset()), tenant_id="8")
    refused_with(authorize(ex, directory()), OPERATION_NOT_IN_PRODUCT, ex)


async def unreachable(target: str) -> tuple[int, bytes]:
    return 503, b""


async def test_clause_3_3_a_company_lookup_failure_is_a_502_logged_with_its_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The tenant cannot be placed without the upstream: 502, never a pass and never a 403 that
    would say the company belongs to someone else. The failed listing (an internal path) goes to
    the log under the request id; the client gets that id, not the path."""
    ex = ready(op=COMPANY_OP, tenant_id="99")
    tenants = resolver(fetch=unreachable)
    assert authorize(ex, tenants) is None
    with caplog.at_level(logging.WARNING, logger="termgate.gateway"):
        problem = refused_with(await resolve_tenant(ex, tenants), UPSTREAM_ERROR, ex)
    assert "/companies" not in problem["detail"]
    assert "req-1" in problem["detail"]
    [record] = [r for r in caplog.records if r.name == "termgate.gateway"]
    assert "req-1" in record.getMessage()
    assert "GET /api/debtors/7/companies?pageNumber=1&pageSize=100 answered 503" in (
        record.getMessage()
    )
