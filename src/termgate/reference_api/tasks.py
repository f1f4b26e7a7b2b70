"""Document downloads: operations answer a `taskId`; `GET /api/documents/{taskId}` the file.

A task id is a GUID naming the document kind, its owner (employee or company), the year and
period and the run or wage tax it is for, so any worker can render it, whenever it is asked for,
without keeping tasks in memory. Payslips and annual statements are PDFs; wage tax returns,
payment files (SEPA pain.001), journals and wage codes are XML.

A task id is bound to the consent it is fetched under: when the gateway's `X-Termgate-Debtors`
names the caller's debtors, a task whose employee or company belongs to another debtor is not
found, as any id this caller does not know (the gateway takes `taskId` as issued to the caller).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import orjson

from termgate.reference_api import paperwork
from termgate.reference_api.errors import bad_parameter, not_found
from termgate.reference_api.guids import Kind
from termgate.reference_api.http import Request, Response
from termgate.reference_api.state import PublishedApi
from termgate.reference_api.world import REFERENCE_DATE

OCTET_STREAM = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class TaskKind:
    operation_id: str
    owner: str  # "employee" or "company"
    record: str | None  # the company collection the path's second id names (runs, wagetaxes)
    render: Callable[[PublishedApi, int, int, int, int], tuple[str, bytes]]


KINDS: tuple[TaskKind, ...] = (
    TaskKind("getEmployeePayslipPerPeriod", "employee", None, paperwork.payslip),
    TaskKind("getEmployeeAnnualStatement", "employee", None, paperwork.annual_statement),
    TaskKind("getWageTaxXML", "company", "wagetaxes", paperwork.wage_tax_return),
    TaskKind("getWageTaxSEPA", "company", "wagetaxes", paperwork.wage_tax_sepa),
    TaskKind("getPayrollRunSEPA", "company", "runs", paperwork.salary_sepa),
    TaskKind("getPayrollRunJournals", "company", "runs", paperwork.journals("total")),
    TaskKind("getPayrollRunJournalsByCostCenterCostUnit", "company", "runs",
             paperwork.journals("costCenterCostUnit")),
    TaskKind("getPayrollRunJournalsByEmployee", "company", "runs", paperwork.journals("employee")),
    TaskKind("getPayrollRunJournalsByDepartment", "company", "runs",
             paperwork.journals("department")),
    TaskKind("getPayrollRunJournalsByCostCenter", "company", "runs",
             paperwork.journals("costCenter")),
    TaskKind("getPayrollRunWageCodes", "company", "runs", paperwork.wage_codes),
)  # fmt: skip
BY_OPERATION = {kind.operation_id: number for number, kind in enumerate(KINDS)}


def _whole(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if not isinstance(raw, str):
        return default
    value = int(raw)
    if not low <= value <= high:
        reason = "It needs to be a valid year." if name == "year" else "It needs to be a period."
        raise bad_parameter(name, f"The parameter is invalid. {reason}")
    return value


def start_task(api: PublishedApi, operation_id: str, request: Request) -> Response:
    """Check the task's owner and record exist, and answer its `taskId`."""
    number = BY_OPERATION[operation_id]
    kind = KINDS[number]
    year = _whole(request, "year", REFERENCE_DATE.year - 1, 1990, 2100)
    period = _whole(request, "period", 12, 1, 13)
    position = 0
    if kind.owner == "employee":
        owner = api.employee(request.params["employeeId"])
    else:
        company = api.company(request.params["companyId"])
        owner = company.index
        raw = request.params.get("payrollRunId") or request.params["wageTaxId"]
        found = api.records.belongs(raw, "company", owner, kind.record or "")
        if found is None:
            raise not_found(kind.record or "record", raw)
        position = found
    extra = (year << 16) | (period << 8) | position
    task_id = api.world.codec.encode(Kind.TASK, owner, number, extra)
    return Response(200, orjson.dumps({"taskId": task_id}))


def _debtor_of(api: PublishedApi, kind: TaskKind, owner: int) -> str | None:
    """The id of the debtor whose employee or company `owner` is, None if there is no such one."""
    world = api.world
    if kind.owner == "employee":
        if world.employee_index(world.employee_id(owner)) is None:
            return None
        company = world.company_of(owner)
    elif owner < len(world.companies):
        company = world.companies[owner]
    else:
        return None
    return world.debtors[company.debtor].id


def document(api: PublishedApi, request: Request) -> Response:
    raw = request.params["taskId"]
    decoded = api.world.codec.decode(raw)
    if decoded is None or decoded.kind != Kind.TASK or decoded.b >= len(KINDS):
        raise not_found("document task", raw)
    kind = KINDS[decoded.b]
    year, period, position = decoded.c >> 16, (decoded.c >> 8) & 0xFF, decoded.c & 0xFF
    debtor = _debtor_of(api, kind, decoded.a)
    if debtor is None or (request.debtors is not None and debtor not in request.debtors):
        raise not_found("document task", raw)
    name, body = kind.render(api, decoded.a, year, period, position)
    headers = [(b"content-disposition", f'attachment; filename="{name}"'.encode())]
    return Response(200, body, OCTET_STREAM, headers)
