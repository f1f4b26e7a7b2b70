"""Mapping requests to the API's operations (the template match every step relies on)."""

from __future__ import annotations

from termgate.gateway.catalog import Catalog

DOCUMENT = {
    "paths": {
        "/api/companies": {
            "get": {
                "operationId": "listCompanies",
                "security": [{"oauth2": ["company.info.read"]}, {"oauth2": ["company.info"]}],
                "x-data-category": "company",
            }
        },
        "/api/companies/{companyId}/employees": {"get": {"operationId": "listEmployees"}},
        "/api/companies/{companyId}/employees/{employeeId}": {
            "get": {"operationId": "getEmployee"},
            "put": {"operationId": "updateEmployee"},
        },
        "/api/companies/{companyId}/employees/salaries": {"get": {"operationId": "listSalaries"}},
    }
}
catalog = Catalog.from_openapi(DOCUMENT)


def test_template_with_parameters_matches_concrete_path() -> None:
    operation = catalog.match("GET", "/api/companies/42/employees/7")
    assert operation is not None
    assert operation.operation_id == "getEmployee"
    assert operation.template == "/api/companies/{companyId}/employees/{employeeId}"
    assert operation.path_params("/api/companies/42/employees/7") == {
        "companyId": "42",
        "employeeId": "7",
    }


def test_literal_segment_wins_over_parameter() -> None:
    operation = catalog.match("GET", "/api/companies/42/employees/salaries")
    assert operation is not None
    assert operation.operation_id == "listSalaries"


def test_unknown_path_and_wrong_method() -> None:
    assert catalog.match("GET", "/api/companies/42/secrets") is None
    assert catalog.match("DELETE", "/api/companies/42/employees/7") is None
    assert catalog.allowed_methods("/api/companies/42/employees/7") == ["GET", "PUT"]


def test_parameters_do_not_span_segments() -> None:
    assert catalog.match("GET", "/api/companies/1/2/employees") is None


def test_scopes_and_data_category_come_from_the_document() -> None:
    operation = catalog.match("GET", "/api/companies")
    assert operation is not None
    assert operation.scope_alternatives == (
        frozenset({"company.info.read"}),
        frozenset({"company.info"}),
    )
    assert operation.data_category == "company"
