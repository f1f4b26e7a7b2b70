"""What tests read of answers of the published contract, whether the reference API gives them
directly or through the gateway: how an answer departs from the document, and one real id of
every kind a path takes, each taken from the listing that hands it out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from termgate.reference_api import Operation
from termgate.reference_api.contract import document
from termgate.reference_api.validation import pointer, response_errors

# A GET of a path (with its query string) on the API under test, credentials included.
Get = Callable[[str], httpx.Response]
YEAR = "2025"
SUBSCRIPTION = "payroll"


def answer_errors(operation: Operation, response: httpx.Response) -> list[str]:
    """How an answer departs from the document: its status, media type and schema."""
    responses = _responses(operation)
    status = str(response.status_code)
    if status not in responses:
        return [f"status {status} is not declared for {operation.operation_id}"]
    content = responses[status].get("content") or {}
    if not content:
        return [] if not response.content else [f"{status} declares no body"]
    media_type = response.headers.get("content-type", "").split(";")[0]
    if media_type not in content:
        return [f"{media_type} is not among {sorted(content)}"]
    if media_type != "application/json":
        return []
    ref = f"{responses[status]['ref']}/content/application~1json/schema"
    return response_errors(ref, response.json())


def _responses(operation: Operation) -> dict[str, Any]:
    entry = document()["paths"][operation.template][operation.method.lower()]["responses"]
    found = {}
    for status, value in entry.items():
        if "$ref" in value:
            name = value["$ref"].rsplit("/", 1)[1]
            ref = pointer("components", "responses", name)
            value = document()["components"]["responses"][name]
        else:
            ref = pointer(
                "paths", operation.template, operation.method.lower(), "responses", status
            )
        found[status] = {**value, "ref": ref}
    return found


def first_listed(get: Get, path: str, field: str) -> str:
    """`field` of the first item a listing answers (the listing must answer 200)."""
    response = get(path)
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
    return str(response.json()["data"][0][field])


def listed_ids(get: Get, debtor: str | None = None) -> dict[str, str]:
    """One id of every kind a path of the document takes, each read from a listing that hands
    it out (under `debtor`, or the first debtor listed)."""
    found = {"debtorId": debtor or first_listed(get, "/api/debtors", "debtorId")}
    found["companyId"] = first_listed(get, f"/api/debtors/{found['debtorId']}/companies",
                                      "companyId")  # fmt: skip
    company = f"/api/companies/{found['companyId']}"
    found["employeeId"] = first_listed(get, f"{company}/employees", "employeeId")
    found["payrollRunId"] = first_listed(get, f"{company}/runs", "payrollRunId")
    found["wageTaxId"] = first_listed(get, f"{company}/wagetaxes", "wageTaxId")
    found["salaryTableId"] = first_listed(get, f"{company}/salarytables", "salaryTableId")
    found["salaryTableVersionId"] = first_listed(
        get, f"/api/salarytable/{found['salaryTableId']}", "versionId"
    )
    employee = f"/api/employees/{found['employeeId']}"
    task = get(f"{employee}/payslipperperiod?year={YEAR}")
    assert task.status_code == 200, task.text
    found["taskId"] = task.json()["taskId"]
    contracts = get(f"{company}/employees/contracts?employeeId={found['employeeId']}")
    assert contracts.status_code == 200, contracts.text
    found["contractId"] = contracts.json()["data"][0]["contracts"][0]["contractId"]
    found["Year"] = YEAR
    found["subscriptionName"] = SUBSCRIPTION
    return found
