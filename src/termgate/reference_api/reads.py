"""Handlers of the read operations: debtors, companies, employees and their sub-resources."""

from __future__ import annotations

from termgate.reference_api import lookup
from termgate.reference_api.data import PayrollData
from termgate.reference_api.http import ProblemError, Request, Response, json_response
from termgate.reference_api.paging import paginate
from termgate.reference_api.records import Record
from termgate.reference_api.refusals import NOT_SIGNED_IN, RESOURCE_NOT_FOUND
from termgate.strict import whole_number


def list_debtors(data: PayrollData, request: Request) -> Response:
    debtors = data.debtors
    if request.debtors is not None:
        debtors = [debtor for debtor in debtors if debtor["id"] in request.debtors]
    return paginate(request, debtors)


def get_debtor(data: PayrollData, request: Request) -> Response:
    return json_response(lookup.debtor(data, request.params[0]))


def list_debtor_companies(data: PayrollData, request: Request) -> Response:
    debtor = lookup.debtor(data, request.params[0])
    return paginate(request, data.companies_by_debtor[debtor["id"]])


def list_companies(data: PayrollData, request: Request) -> Response:
    companies = data.companies
    if request.debtors is not None:
        companies = [item for item in companies if item["debtorId"] in request.debtors]
    return paginate(request, companies)


def get_company(data: PayrollData, request: Request) -> Response:
    return json_response(lookup.company(data, request.params[0]))


def get_payroll_settings(data: PayrollData, request: Request) -> Response:
    company = lookup.company(data, request.params[0])
    return json_response(data.payroll_settings[company["id"]])


def list_employees(data: PayrollData, request: Request) -> Response:
    company = lookup.company(data, request.params[0])
    return paginate(request, data.employees_by_company[company["id"]])


def list_company_salaries(data: PayrollData, request: Request) -> Response:
    """The current salary of every employee of the company, one record per employee."""
    company = lookup.company(data, request.params[0])

    def current(employee: Record) -> Record:
        return data.details(employee["id"]).current_salary

    return paginate(request, data.employees_by_company[company["id"]], current)


def get_employee(data: PayrollData, request: Request) -> Response:
    return json_response(lookup.employee(data, *request.params[:2]))


def get_personal_info(data: PayrollData, request: Request) -> Response:
    employee = lookup.employee(data, *request.params[:2])
    return json_response(data.personal_info[employee["id"]])


def _details_list(data: PayrollData, request: Request, part: str) -> Response:
    employee = lookup.employee(data, *request.params[:2])
    records: list[Record] = getattr(data.details(employee["id"]), part)
    return paginate(request, records)


def list_addresses(data: PayrollData, request: Request) -> Response:
    return _details_list(data, request, "addresses")


def list_employments(data: PayrollData, request: Request) -> Response:
    return _details_list(data, request, "employments")


def list_salaries(data: PayrollData, request: Request) -> Response:
    return _details_list(data, request, "salaries")


def list_payments(data: PayrollData, request: Request) -> Response:
    return _details_list(data, request, "payments")


def list_bank_accounts(data: PayrollData, request: Request) -> Response:
    return _details_list(data, request, "bank_accounts")


def list_leave_balances(data: PayrollData, request: Request) -> Response:
    return _details_list(data, request, "leave_balances")


def list_documents(data: PayrollData, request: Request) -> Response:
    return _details_list(data, request, "documents")


def list_leave(data: PayrollData, request: Request) -> Response:
    """Generated leave followed by the requests made through the API since start."""
    employee = lookup.employee(data, *request.params[:2])
    generated = data.details(employee["id"]).leave
    return paginate(request, generated + data.leave_requests.get(employee["id"], []))


def get_user_info(data: PayrollData, request: Request) -> Response:
    if request.user_id is None:
        raise ProblemError(NOT_SIGNED_IN, "The gateway named no end user (X-Termgate-User)")
    user_id = whole_number(request.user_id)
    user = data.end_user_by_id.get(user_id) if user_id is not None else None
    if user is None:
        raise ProblemError(RESOURCE_NOT_FOUND, f"No end user with id {request.user_id}")
    shown = user.as_json()
    if request.debtors is not None:  # only the debtors this request's consent covers
        shown["debtorIds"] = [debtor for debtor in user.debtor_ids if debtor in request.debtors]
    return json_response(shown)
