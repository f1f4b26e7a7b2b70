"""The published contract's error model (`components/responses` of ../shared/contract), for tests
that check termgate's own problem documents against it with a JSON Schema validator."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT.parent / "shared" / "contract" / "payroll-api-openapi.yaml"
CONTRACT_MEDIA_TYPE = "application/json"
# termgate's additions to the contract's members.
ADDITIONS = ("clause", "status")

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def contract() -> dict[str, Any]:
    document: dict[str, Any] = yaml.load(CONTRACT.read_text(), Loader=Loader)
    return document


def _json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.0 schema object as JSON Schema: `nullable` becomes a `null` type."""
    converted = copy.deepcopy(schema)
    for member in converted.get("properties", {}).values():
        if member.pop("nullable", False):
            member["type"] = [member["type"], "null"]
    return converted


@cache
def _validator(status: int) -> Draft4Validator:
    components = contract()["components"]
    response = components["responses"].get(f"{status}-error")
    if response is not None:
        schema = response["content"][CONTRACT_MEDIA_TYPE]["schema"]
    else:  # a status the contract describes no response for: its ErrorResponse schema
        schema = components["schemas"]["ErrorResponse"]
    return Draft4Validator(_json_schema(schema))


def error_schema_violations(problem: dict[str, Any], status: int) -> list[str]:
    """What makes `problem` not an error document of the contract for `status` (none: valid)."""
    violations = [error.message for error in _validator(status).iter_errors(problem)]
    if problem.get("httpStatus") != status:
        violations.append(f"httpStatus {problem.get('httpStatus')!r} is not {status}")
    return violations


def examples() -> list[dict[str, Any]]:
    """Every example error document of the contract's `components/responses`."""
    found = []
    for response in contract()["components"]["responses"].values():
        for example in response["content"][CONTRACT_MEDIA_TYPE].get("examples", {}).values():
            found.append(example["value"])
    return found


def assert_contract_problem(problem: dict[str, Any], status: int, code: int, clause: str) -> None:
    """A refusal of termgate's as a client of the contract reads it: valid against the error
    schema, with termgate's clause, the request id and a link to the code's documentation."""
    assert not error_schema_violations(problem, status), problem
    assert (problem["code"], problem["clause"], problem["status"]) == (code, clause, status)
    assert str(problem["docUrl"]).endswith(f"/portal/errors#{code}"), problem
    assert problem["instance"], problem
