"""The route table: the one source of truth for the router and the OpenAPI document.

Each route names its handler, the resource area whose scope it needs (a read needs `area.read` or
`area`, a write needs `area`), its data category and its response shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from termgate.reference_api import documents, reads, writes
from termgate.reference_api.data import PayrollData
from termgate.reference_api.http import Request, Response, StreamResponse

Handler = Callable[[PayrollData, Request], Response | StreamResponse]
Kind = Literal["item", "list", "stream", "created"]

# Areas that have no write level: their read scope is the only one.
READ_ONLY_AREAS = frozenset({"user.info"})


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    template: str
    operation_id: str
    summary: str
    handler: Handler
    area: str
    data_category: str
    schema: str
    kind: Kind = "item"
    write: bool = False
    request_schema: str | None = None
    tag: str = "employees"

    @property
    def scope_alternatives(self) -> tuple[tuple[str, ...], ...]:
        """Each entry is one set of scopes that satisfies the route on its own."""
        if self.write:
            return ((self.area,),)
        if self.area in READ_ONLY_AREAS:
            return ((f"{self.area}.read",),)
        return ((f"{self.area}.read",), (self.area,))

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(part[1:-1] for part in self.template.split("/") if part.startswith("{"))


_C = "/api/companies/{companyId}"
_E = _C + "/employees/{employeeId}"
_D = _E + "/documents/{documentId}"
# fmt: off
ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/user/info", "getUserInfo", "The signed-in end user",
          reads.get_user_info, "user.info", "user account", "UserInfo", tag="user"),
    Route("GET", "/api/debtors", "listDebtors", "Debtors (customer accounts)",
          reads.list_debtors, "debtor.info", "customer account", "Debtor", "list", tag="debtors"),
    Route("GET", "/api/debtors/{debtorId}", "getDebtor", "One debtor",
          reads.get_debtor, "debtor.info", "customer account", "Debtor", tag="debtors"),
    Route("GET", "/api/debtors/{debtorId}/companies", "listDebtorCompanies",
          "Companies of a debtor", reads.list_debtor_companies, "company.info", "company",
          "Company", "list", tag="companies"),
    Route("GET", "/api/companies", "listCompanies", "Companies",
          reads.list_companies, "company.info", "company", "Company", "list", tag="companies"),
    Route("GET", _C, "getCompany", "One company",
          reads.get_company, "company.info", "company", "Company", tag="companies"),
    Route("GET", _C + "/payroll-settings", "getPayrollSettings", "Payroll settings of a company",
          reads.get_payroll_settings, "company.payrollsettings", "payroll settings",
          "PayrollSettings", tag="companies"),
    Route("GET", _C + "/employees", "listEmployees", "Employees of a company",
          reads.list_employees, "employee.info", "personal", "Employee", "list"),
    Route("GET", _C + "/employees/salaries", "listCompanySalaries",
          "Current salary of every employee of a company", reads.list_company_salaries,
          "employee.employment", "salary", "Salary", "list"),
    Route("GET", _E, "getEmployee", "One employee",
          reads.get_employee, "employee.info", "personal", "Employee"),
    Route("GET", _E + "/personal-info", "getPersonalInfo", "Personal information of an employee",
          reads.get_personal_info, "employee.info", "personal", "PersonalInfo"),
    Route("PUT", _E + "/personal-info", "replacePersonalInfo",
          "Replace the personal information of an employee", writes.replace_personal_info,
          "employee.info", "personal", "PersonalInfo", write=True,
          request_schema="PersonalInfoUpdate"),
    Route("GET", _E + "/addresses", "listAddresses", "Addresses of an employee",
          reads.list_addresses, "employee.info", "address", "Address", "list"),
    Route("GET", _E + "/employments", "listEmployments", "Employments (contracts) of an employee",
          reads.list_employments, "employee.employment", "employment", "Employment", "list"),
    Route("GET", _E + "/salaries", "listSalaries", "Salaries of an employee",
          reads.list_salaries, "employee.employment", "salary", "Salary", "list"),
    Route("GET", _E + "/payments", "listPayments", "Salary payments (pay slips) of an employee",
          reads.list_payments, "employee.payment", "payment", "Payment", "list"),
    Route("GET", _E + "/bank-accounts", "listBankAccounts", "Bank accounts of an employee",
          reads.list_bank_accounts, "employee.bankaccount", "bank account", "BankAccount",
          "list"),
    Route("GET", _E + "/leave", "listLeave", "Leave taken and requested by an employee",
          reads.list_leave, "employee.leave", "leave", "Leave", "list"),
    Route("POST", _E + "/leave", "requestLeave", "Request leave for an employee",
          writes.request_leave, "employee.leave", "leave", "Leave", "created", write=True,
          request_schema="LeaveRequest"),
    Route("GET", _E + "/leave-balances", "listLeaveBalances", "Leave balances of an employee",
          reads.list_leave_balances, "employee.leave", "leave", "LeaveBalance", "list"),
    Route("GET", _E + "/documents", "listDocuments", "Documents of an employee",
          reads.list_documents, "employee.document", "document", "Document", "list"),
    Route("GET", _D, "getDocument", "Metadata of one document",
          documents.get_document, "employee.document", "document", "Document"),
    Route("GET", _D + "/content", "getDocumentContent", "The content of one document",
          documents.get_document_content, "employee.document", "document", "DocumentContent",
          "stream"),
)
# fmt: on


def routes() -> tuple[Route, ...]:
    return ROUTES
