"""The catalog over the published contract (`../shared/contract/payroll-api-openapi.yaml`):
every operation mapped with the scopes its `security` lists (clauses 3.2 and 3.3 e), the
document's four spec errors reported while the rest is served."""

from __future__ import annotations

from functools import cache
from typing import Any

from termgate.core.wire import METHODS
from termgate.gateway.authorize import authorize
from termgate.gateway.catalog import Catalog, Operation
from termgate.gateway.openapi_source import check_document
from termgate.problems import INSUFFICIENT_SCOPE
from tests.support.contract import published_document
from tests.unit.builders import PUBLISHED_TENANCY, bearer, body, ready, resolver

GUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


@cache
def catalog() -> Catalog:
    return Catalog.from_openapi(published_document())


def documented() -> list[tuple[str, str, dict[str, Any]]]:
    """(method, template, operation object) of every operation the document describes."""
    return [
        (method.upper(), template, item[method])
        for template, item in published_document()["paths"].items()
        for method in METHODS
        if method in item
    ]


def declared_scopes() -> set[str]:
    flows = published_document()["components"]["securitySchemes"]["Bearer"]["flows"]
    return {scope for flow in flows.values() for scope in flow["scopes"]}


def listed_scopes(operation: dict[str, Any]) -> list[str]:
    (requirement,) = operation["security"]
    (scopes,) = requirement.values()
    return list(scopes)


def scope_refused(op: Operation, scopes: set[str]) -> bool:
    """Whether the authorize step refuses a token holding `scopes` for lack of scope (a tenant
    refusal or a pending tenant lookup is no scope refusal)."""
    exchange = ready(op=op, token=bearer(scopes=frozenset(scopes)))
    exchange.tenant_ids = tuple(GUID for _ in op.tenancy.tenants)
    problem = authorize(exchange, resolver(config=PUBLISHED_TENANCY))
    return problem is not None and body(problem)["code"] == INSUFFICIENT_SCOPE.code


def filled(template: str) -> str:
    return "/".join(GUID if part.startswith("{") else part for part in template.split("/"))


def test_clause_3_2_every_operation_of_the_published_document_is_mapped() -> None:
    operations = documented()
    assert len(operations) == 123
    assert len(catalog().operations) == 123
    for method, template, spec in operations:
        found = catalog().match(method, filled(template))
        assert found is not None, (method, template)
        assert (found.template, found.operation_id) == (template, spec["operationId"])


def test_clause_3_3_e_any_scope_an_operation_lists_satisfies_it() -> None:
    for method, template, spec in documented():
        op = catalog().match(method, filled(template))
        assert op is not None
        for scope in listed_scopes(spec):
            assert not scope_refused(op, {scope}), (op.operation_id, scope)


def test_clause_3_3_e_a_token_without_the_listed_scopes_is_refused() -> None:
    everything = declared_scopes()
    for method, template, spec in documented():
        op = catalog().match(method, filled(template))
        assert op is not None
        listed = set(listed_scopes(spec))
        writes_of_reads = {s.removesuffix(".read") for s in listed if s.endswith(".read")}
        others = everything - listed - writes_of_reads
        assert scope_refused(op, others), op.operation_id
        assert scope_refused(op, set()), op.operation_id


def test_clause_3_3_e_write_scope_x_satisfies_a_requirement_of_x_read() -> None:
    reads_only = [
        (method, template, spec)
        for method, template, spec in documented()
        if all(scope.endswith(".read") for scope in listed_scopes(spec))
    ]
    assert any(t == "/api/companies/{companyId}/hourcodes" for _, t, _ in reads_only)
    for method, template, spec in reads_only:
        op = catalog().match(method, filled(template))
        assert op is not None
        for scope in listed_scopes(spec):
            assert not scope_refused(op, {scope.removesuffix(".read")}), op.operation_id


def test_clause_3_3_e_a_read_scope_does_not_satisfy_a_write() -> None:
    op = catalog().match("POST", f"/api/companies/{GUID}/employees")
    assert op is not None
    assert op.scope_alternatives == (frozenset({"employee.info"}),)
    assert scope_refused(op, {"employee.info.read"})
    assert not scope_refused(op, {"employee.info"})


def test_clause_3_2_literal_segments_win_over_parameters() -> None:
    cases = {
        ("GET", "/api/debtors/info"): "/api/debtors/info",
        ("GET", f"/api/companies/{GUID}/employees/addresses"): (
            "/api/companies/{companyId}/employees/addresses"
        ),
        ("POST", f"/api/companies/{GUID}/employees/{GUID}/absences"): (
            "/api/companies/{companyId}/employees/{employeeId}/absences"
        ),
        # the literal branch cannot complete the path: the parameter's branch takes it
        ("POST", f"/api/companies/{GUID}/employees/addresses/absences"): (
            "/api/companies/{companyId}/employees/{employeeId}/absences"
        ),
        ("GET", "/api/debtors/endcontractreasons/companies"): (
            "/api/debtors/endcontractreasons/{Year}"
        ),
        ("GET", "/api/debtors/endcontractreasons/2026"): "/api/debtors/endcontractreasons/{Year}",
    }
    for (method, path), template in cases.items():
        op = catalog().match(method, path)
        assert op is not None, path
        assert op.template == template, path


def test_clause_3_3_a_the_tenant_comes_from_the_same_match() -> None:
    other = "0b7f1e8c-0000-4000-8000-000000000001"
    resolved = catalog().resolve("PUT", f"/api/companies/{GUID}/employees/{other}/absences/x/y/z")
    assert resolved is None
    resolved = catalog().resolve(
        "PUT", f"/api/companies/{GUID}/employees/{other}/absences/d/registrations/a"
    )
    assert resolved is not None
    op, tenants = resolved
    assert [(name, kind.name) for name, kind in op.tenancy.tenants] == [
        ("companyId", "company"),
        ("employeeId", "employee"),
    ]
    assert tenants == (GUID, other)
    path = f"/api/companies/{GUID}/employees/{other}/absences/d/registrations/a"
    assert op.path_params(path) == {
        "companyId": GUID,
        "employeeId": other,
        "absenceDossierId": "d",
        "absenceId": "a",
    }


def test_clause_3_2_the_four_spec_errors_are_reported_and_the_rest_served() -> None:
    checked = [str(issue) for issue in check_document(published_document())]
    assert len(checked) == 4, checked
    assert any("CreateEmployeeWageTaxSettings" in line for line in checked)
    # the validator names one of the two empty enums (which one varies from run to run)
    assert any(
        ("specialTable" in line or "incomeType" in line) and "non-empty" in line for line in checked
    )
    assert sum("hourComponentId" in line or "hourcomponentId" in line for line in checked) == 2
    own = [str(issue) for issue in catalog().issues]
    assert own == [
        "DELETE /api/employees/{employeeId}/hours/{hourcomponentId}: path parameter "
        "'hourComponentId' is declared for the template's {hourcomponentId} (the case differs); "
        "the template is matched as written"
    ]
    op = catalog().match("DELETE", f"/api/employees/{GUID}/hours/{GUID}")
    assert op is not None
    assert op.path_params(f"/api/employees/{GUID}/hours/h1") == {
        "employeeId": GUID,
        "hourcomponentId": "h1",
    }
    assert op.scope_alternatives == (frozenset({"employee.payment"}),)


def test_clause_3_2_operations_not_in_the_document_are_not_matched() -> None:
    assert catalog().match("GET", f"/api/companies/{GUID}") is None  # the old contract's read
    assert catalog().match("GET", f"/api/employees/{GUID}/secrets") is None
    assert catalog().match("PATCH", "/api/debtors") is None
    assert catalog().match("GET", "/api/debtors/") is None
    assert catalog().allowed_methods("/api/debtors") == ["GET"]
    assert sorted(catalog().allowed_methods(f"/api/employees/{GUID}/fixedhours")) == [
        "GET",
        "POST",
        "PUT",
    ]
