"""The OpenAPI document: every route, its scopes as alternatives, and its data category."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from termgate.reference_api import ROUTES, build_openapi


@pytest.fixture(scope="module")
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _declared_scopes(document: dict[str, Any]) -> dict[str, str]:
    flows = document["components"]["securitySchemes"]["oauth2"]["flows"]
    scopes: dict[str, str] = flows["authorizationCode"]["scopes"]
    return scopes


def test_served_document_is_the_one_built_from_the_route_table(document: dict[str, Any]) -> None:
    assert document == build_openapi()
    assert document["openapi"].startswith("3.1")


def test_every_route_appears_with_its_operation_id(document: dict[str, Any]) -> None:
    for route in ROUTES:
        operation = document["paths"][route.template][route.method.lower()]
        assert operation["operationId"] == route.operation_id
    operation_ids = [route.operation_id for route in ROUTES]
    assert len(set(operation_ids)) == len(operation_ids)


def test_every_operation_names_only_declared_scopes(document: dict[str, Any]) -> None:
    declared = _declared_scopes(document)
    assert all(description.strip() for description in declared.values())
    for path_item in document["paths"].values():
        for operation in path_item.values():
            assert operation["security"], operation["operationId"]
            for requirement in operation["security"]:
                assert set(requirement) == {"oauth2"}
                assert set(requirement["oauth2"]) <= set(declared)
            assert operation["x-data-category"]


def _alternatives(document: dict[str, Any], method: str, path: str) -> list[list[str]]:
    security = document["paths"][path][method]["security"]
    return [requirement["oauth2"] for requirement in security]


@pytest.mark.parametrize(
    ("path", "area"),
    [
        ("/api/companies", "company.info"),
        ("/api/companies/{companyId}/employees", "employee.info"),
        ("/api/companies/{companyId}/employees/salaries", "employee.employment"),
        ("/api/debtors/{debtorId}/companies", "company.info"),
        ("/api/companies/{companyId}/payroll-settings", "company.payrollsettings"),
        ("/api/companies/{companyId}/employees/{employeeId}/bank-accounts", "employee.bankaccount"),
    ],
)
def test_design_examples_need_the_read_or_the_full_scope(
    document: dict[str, Any], path: str, area: str
) -> None:
    assert _alternatives(document, "get", path) == [[f"{area}.read"], [area]]


def test_user_info_needs_user_info_read_only(document: dict[str, Any]) -> None:
    assert _alternatives(document, "get", "/api/user/info") == [["user.info.read"]]


def test_writes_need_the_full_scope(document: dict[str, Any]) -> None:
    employee = "/api/companies/{companyId}/employees/{employeeId}"
    assert _alternatives(document, "put", employee + "/personal-info") == [["employee.info"]]
    assert _alternatives(document, "post", employee + "/leave") == [["employee.leave"]]


def test_scope_descriptions_are_plain_words(document: dict[str, Any]) -> None:
    declared = _declared_scopes(document)
    assert declared["employee.info.read"] == (
        "Read employees' names, dates of birth and contact details"
    )


def test_lists_document_the_envelope_and_problems(document: dict[str, Any]) -> None:
    operation = document["paths"]["/api/companies"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["properties"]["pagination"] == {"$ref": "#/components/schemas/Pagination"}
    assert {parameter["name"] for parameter in operation["parameters"]} == {
        "pageNumber",
        "pageSize",
    }
    problem = operation["responses"]["400"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}
    assert "Problem" in document["components"]["schemas"]


def test_every_schema_reference_resolves(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if "$ref" in node else []
            return found + [ref for value in node.values() for ref in refs(value)]
        if isinstance(node, list):
            return [ref for value in node for ref in refs(value)]
        return []

    for reference in refs(document):
        assert reference.removeprefix("#/components/schemas/") in schemas
