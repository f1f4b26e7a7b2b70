"""The OpenAPI 3.1 document of the payroll API, built from the route table the router uses.

Each operation carries `security` as alternative requirement objects (any one suffices) and the
vendor extension `x-data-category` naming the kind of personal data it reveals.
"""

from __future__ import annotations

from typing import Any

from termgate.problems import PROBLEM_CONTENT_TYPE
from termgate.reference_api.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from termgate.reference_api.routes import ROUTES, Route
from termgate.reference_api.schemas import INTEGER, SCHEMAS, Schema, ref

SECURITY_SCHEME = "oauth2"

# Plain-words meaning of each resource area; a read scope reads it, the bare scope also changes it.
AREAS: dict[str, str] = {
    "employee.info": "employees' names, dates of birth and contact details",
    "employee.employment": "employees' employments, contracts and salaries",
    "employee.payment": "employees' salary payments and pay slips",
    "employee.leave": "employees' leave and leave balances",
    "employee.bankaccount": "employees' bank accounts",
    "employee.document": "employees' documents, such as contracts and pay slips",
    "company.info": "companies' names, registration numbers and addresses",
    "company.payrollsettings": "companies' payroll settings",
    "debtor.info": "the customer accounts (debtors) the companies belong to",
}
READ_ONLY_SCOPES: dict[str, str] = {
    "user.info.read": "Read the name and e-mail address of the signed-in user",
}
_PARAMETER_TYPES: dict[str, Schema] = {"documentId": {"type": "string", "format": "uuid"}}


def scope_descriptions() -> dict[str, str]:
    scopes: dict[str, str] = {}
    for area, what in AREAS.items():
        scopes[f"{area}.read"] = f"Read {what}"
        scopes[area] = f"Read and change {what}"
    scopes.update(READ_ONLY_SCOPES)
    return scopes


def _parameters(route: Route) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": _PARAMETER_TYPES.get(name, INTEGER),
        }
        for name in route.path_params
    ]
    if route.kind == "list":
        parameters += [
            {
                "name": "pageNumber",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "default": 1},
            },
            {
                "name": "pageSize",
                "in": "query",
                "required": False,
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_PAGE_SIZE,
                    "default": DEFAULT_PAGE_SIZE,
                },
            },
        ]
    return parameters


def _success(route: Route) -> tuple[str, dict[str, Any]]:
    if route.kind == "stream":
        binary = {"schema": {"type": "string", "format": "binary"}}
        return "200", {
            "description": "The document, sent in chunks",
            "content": {"application/pdf": binary},
        }
    schema = ref(route.schema)
    if route.kind == "list":
        schema = {
            "type": "object",
            "properties": {
                "data": {"type": "array", "items": schema},
                "pagination": ref("Pagination"),
            },
            "required": ["data", "pagination"],
        }
    status = "201" if route.kind == "created" else "200"
    return status, {"description": "OK", "content": {"application/json": {"schema": schema}}}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_CONTENT_TYPE: {"schema": ref("Problem")}},
    }


def _responses(route: Route) -> dict[str, Any]:
    status, success = _success(route)
    responses: dict[str, Any] = {status: success}
    if route.kind == "list" or route.request_schema:
        responses["400"] = _problem("The request is not valid (see invalid-params)")
    if route.area == "user.info":
        responses["401"] = _problem("No end user on the request")
    if route.path_params:
        responses["404"] = _problem("The resource, or the company, does not exist")
    responses["default"] = _problem("A problem document")
    return responses


def operation(route: Route) -> dict[str, Any]:
    document: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": [route.tag],
        "parameters": _parameters(route),
        "responses": _responses(route),
        "security": [{SECURITY_SCHEME: list(scopes)} for scopes in route.scope_alternatives],
        "x-data-category": route.data_category,
    }
    if route.request_schema:
        body = {"application/json": {"schema": ref(route.request_schema)}}
        document["requestBody"] = {"required": True, "content": body}
    return document


def build_openapi(server_url: str = "/", routes: tuple[Route, ...] = ROUTES) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.template, {})[route.method.lower()] = operation(route)
    flows = {
        "authorizationCode": {
            "authorizationUrl": "/connect/authorize",
            "tokenUrl": "/connect/token",
            "refreshUrl": "/connect/token",
            "scopes": scope_descriptions(),
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Payroll API (termgate reference upstream)",
            "version": "1.0.0",
            "description": "Debtors, companies, employees and their payroll data. Fake data.",
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                SECURITY_SCHEME: {"type": "oauth2", "flows": flows},
            },
        },
    }
