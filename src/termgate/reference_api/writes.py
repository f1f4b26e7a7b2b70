"""The writes (POST, PUT, DELETE): applied to the employee's collections so later reads show them.

Each write names the collection it changes (by the name the company's employee views use:
`POST /api/employees/{id}/address` adds to `addresses`, which `GET .../employees/addresses`
lists) and how: add a record, update the record its body names, or delete the one its path names.
The body was already checked against the operation's request schema; its values overlay a record
generated for the collection wherever the collection's schema has a property of that name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import orjson

from termgate.reference_api.contract import Schema
from termgate.reference_api.errors import bad_parameter, not_found
from termgate.reference_api.fake import merged, primary_id
from termgate.reference_api.guids import Kind
from termgate.reference_api.http import Request, Response
from termgate.reference_api.operations import Operation
from termgate.reference_api.state import PublishedApi
from termgate.reference_api.validation import fits

Record = dict[str, Any]
Mode = Literal["add", "update", "delete", "end-of-service"]
SYNONYMS = {"periodDetails": "period"}


@dataclass(frozen=True, slots=True)
class Write:
    collections: tuple[str, ...]
    mode: Mode
    key: str | None = None  # the body property (update) or path parameter (delete) naming it


WRITES: dict[str, Write] = {
    "createEmployeeAddress": Write(("addresses",), "add"),
    "createEmployeeSVWSettings": Write(("employeeSVWSettings",), "add"),
    "updateEmployeeDepartment": Write(("departments",), "add"),
    "createFixedHourComponent": Write(("fixedhours",), "add"),
    "updateEmployeeFixedHours": Write(("fixedhours",), "update", "hourComponentId"),
    "updateEmployeeFunction": Write(("functions",), "add"),
    "updateEmployeeManager": Write(("managers",), "add"),
    "createEmployeeSalary": Write(("salaries",), "add"),
    "createVariableHourComponent": Write(("variablehours",), "add"),
    "updateEmployeeVariableHours": Write(("variablehours",), "update", "hourComponentId"),
    "createEmployeeLeaveRequest": Write(("EmployeeLeaveRequests",), "add"),
    "createEmployeeSchedule": Write(("schedules",), "add"),
    "createEmployeeContract": Write(("contracts",), "add"),
    "updateEmployeeContract": Write(("contracts",), "update", "contractId"),
    "deleteEmployeeContract": Write(("contracts",), "delete", "contractId"),
    "createEmployeeBankAccount": Write(("bankAccounts",), "add"),
    "updateBankAccount": Write(("bankAccounts",), "update", "bankAccountId"),
    "createEmployeeAbsence": Write(("employeeAbsenceDossiers",), "add"),
    "updateEmployeeCostCenter": Write(("employeeCostCenters",), "add"),
    "createEmployeeWageTaxSettings": Write(("wageTaxSettings",), "add"),
    "UpdateEmployeePersonalInfo": Write(("info",), "add"),
    "createEmployeeFixedWageComponent": Write(("fixedWageComponents",), "add"),
    "updateEmployeeFixedWagecomponent": Write(
        ("fixedWageComponents",), "update", "fixedWageComponentId"
    ),
    "createEmployeeVariableWageComponent": Write(("variablewagecomponents",), "add"),
    "updateEmployeeVariableWagecomponent": Write(
        ("variablewagecomponents",), "update", "variableWagecomponentId"
    ),
    "createEmployment": Write(("employments",), "add"),
    "UpdateEmploymentD": Write(("employments",), "update", "employmentId"),
    "deleteEmployeeEmployment": Write(("employments",), "delete", "employmentId"),
    "deleteEmploymentEndOfServiceDate": Write(("employments",), "end-of-service", "employmentId"),
    "CreateVariableWorkedDays": Write(("variabledays",), "add"),
    "CreateFixedWorkedDays": Write(("fixeddays",), "add"),
    "deleteEmployeeHours": Write(("fixedhours", "variablehours"), "delete", "hourcomponentId"),
    "deleteEmployeeLeaveRequest": Write(("EmployeeLeaveRequests",), "delete", "leaverequestId"),
    "deleteEmployeeWagecomponent": Write(
        ("fixedWageComponents", "variablewagecomponents"), "delete", "wagecomponentId"
    ),
}


def overlay(record: Record, body: Any, schema: Schema) -> None:
    """Copy the body's values into `record` where `schema` has a property they fit."""
    if not isinstance(body, dict):
        return
    properties = merged(schema).get("properties", {})
    by_lower = {name.lower(): name for name in properties}
    for key, value in body.items():
        name = by_lower.get(str(SYNONYMS.get(key, key)).lower())
        if name is None:
            continue
        target = merged(properties[name])
        if (
            isinstance(value, dict)
            and isinstance(record.get(name), dict)
            and "properties" in target
        ):
            overlay(record[name], value, target)
        else:
            if isinstance(value, str) and target.get("format") == "date-time" and len(value) == 10:
                value = f"{value}T00:00:00Z"  # a request's date where the record keeps a moment
            if fits(properties[name], value):
                record[name] = value


def _id_of(record: Record, schema: Schema) -> str | None:
    key = primary_id(schema)
    return None if key is None else record.get(key)


def _find(items: list[Record], schema: Schema, wanted: str) -> int | None:
    key = primary_id(schema)
    for position, item in enumerate(items):
        if key is not None and str(item.get(key, "")).lower() == wanted.lower():
            return position
    return None


def _answer(api: PublishedApi, op: Operation, record_id: str | None) -> Response:
    if op.kind == "empty":
        return Response(op.status, b"", None)
    names = list(op.schema.get("properties", {}))
    answer = {}
    for number, name in enumerate(names):
        api.records.changes += 1
        fresh = api.world.codec.encode(Kind.CREATED, 0, number, api.records.changes)
        answer[name] = record_id if number == 0 and record_id else fresh
    return Response(op.status, orjson.dumps(answer))


def apply(api: PublishedApi, op: Operation, request: Request, body: Any) -> Response:
    write = WRITES[op.operation_id]
    index = api.employee(request.params["employeeId"])
    if "companyId" in request.params:  # the employee must be the company's own
        company = api.company(request.params["companyId"])
        if api.world.company_of(index).index != company.index:
            raise not_found("employee", request.params["employeeId"])
    if write.mode == "add":
        name = write.collections[0]
        schema = api.collections[name]
        record = api.records.new_record("employee", index, name, schema)
        overlay(record, body, schema)
        api.editable(index, name).append(record)
        return _answer(api, op, _id_of(record, schema))
    assert write.key is not None
    wanted = request.params.get(write.key) or (body or {}).get(write.key)
    if not isinstance(wanted, str):
        if 400 in op.statuses:
            raise bad_parameter(write.key, "The parameter is required.")
        raise not_found(write.key.removesuffix("Id"), "(none given)")
    for name in write.collections:
        schema = api.collections[name]
        found = _find(api.collection(index, name), schema, wanted)
        if found is None:
            continue
        items = api.editable(index, name)
        if write.mode == "delete":
            del items[found]
        elif write.mode == "end-of-service":
            for key in items[found]:
                if key.lower() == "enddate" or key.lower() == "endofservicedate":
                    items[found][key] = None
        else:
            items[found] = dict(items[found])
            overlay(items[found], body, schema)
        return _answer(api, op, wanted)
    raise not_found(write.key.removesuffix("Id").removesuffix("id"), wanted)
