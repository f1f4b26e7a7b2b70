"""The OpenAPI 3.1 document of the admin API, built from the same route table as the routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from termgate import __version__
from termgate.web.admin_api.framework import Operation
from termgate.web.admin_api.models import Problem

REF = "#/components/schemas/{model}"
PROBLEM = "application/problem+json"
ID_PATTERN = r"^[^\x00-\x1f\x7f/]+$"


def _schema(model: type[BaseModel], mode: str, components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(
        by_alias=True,
        ref_template=REF,
        mode="validation" if mode == "validation" else "serialization",
    )
    components.update(schema.pop("$defs", {}))
    name = model.__name__.replace("[", "_").replace("]", "_")
    components[name] = schema
    return {"$ref": REF.format(model=name)}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    branches = [b for b in schema.get("anyOf", []) if b != {"type": "null"}]
    if len(branches) == 1:
        merged = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
        return {**merged, **branches[0]}
    return schema


def _parameters(operation: Operation) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": ID_PATTERN},
        }
        for name in operation.path_parameters
    ]
    if operation.query is not None:
        properties = operation.query.model_json_schema(by_alias=True)["properties"]
        for name, schema in properties.items():
            parameters.append(
                {"name": name, "in": "query", "required": False, "schema": _without_null(schema)}
            )
    return parameters


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM: {"schema": {"$ref": REF.format(model="Problem")}}},
    }


def _responses(operation: Operation, components: dict[str, Any]) -> dict[str, Any]:
    success: dict[str, Any] = {
        "description": "the resource" if operation.method == "GET" else "the result",
        "content": {
            "application/json": {"schema": _schema(operation.response, "serialization", components)}
        },
    }
    if operation.status == 201:
        success["headers"] = {
            "Location": {"description": "where the new resource is", "schema": {"type": "string"}}
        }
    responses: dict[str, Any] = {
        str(operation.status): success,
        "400": _problem("the request does not have the documented shape (see invalid-params)"),
        "401": _problem("no administrator token, or one that is unknown or revoked"),
    }
    if operation.path_parameters:
        responses["404"] = _problem("no resource with that id")
    if operation.method != "GET":
        responses["409"] = _problem("refused in the current state; nothing changed")
    return responses


def _operation(operation: Operation, components: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "description": f"{operation.summary} (clause {operation.clause} of the terms).",
        "tags": [operation.tag],
        "x-clause": operation.clause,
        "parameters": _parameters(operation),
        "responses": _responses(operation, components),
    }
    if operation.body is not None:
        document["requestBody"] = {
            "required": operation.body_required,
            "content": {
                "application/json": {
                    "schema": _schema(operation.body, "validation", components),
                }
            },
        }
    return document


def openapi_document(operations: Sequence[Operation], base_path: str) -> dict[str, Any]:
    components: dict[str, Any] = {}
    _schema(Problem, "serialization", components)
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(
            operation, components
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "termgate admin API",
            "version": __version__,
            "description": (
                "The provider's API for the developer programme: developers, applications, "
                "production reviews, subscriptions and keys, terms versions and the audit "
                "trail. Authenticate with `Authorization: Bearer tga_…` "
                "(`termgate admin token EMAIL`). Refusals are RFC 9457 problem documents "
                "with a numeric `code` and the `clause` of the terms they enforce."
            ),
        },
        "servers": [{"url": base_path}],
        "security": [{"adminToken": []}],
        "tags": [{"name": tag} for tag in sorted({op.tag for op in operations})],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "adminToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "an administrator token (tga_…)",
                }
            },
        },
    }
