"""Path ids to records, or the not-found problem the contract names for each kind."""

from __future__ import annotations

from termgate.reference_api.data import PayrollData
from termgate.reference_api.http import ProblemError
from termgate.reference_api.records import Record
from termgate.reference_api.refusals import COMPANY_NOT_FOUND, RESOURCE_NOT_FOUND


def _int_id(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


def debtor(data: PayrollData, raw_id: str) -> Record:
    found = data.debtor_by_id.get(_int_id(raw_id) or 0)
    if found is None:
        raise ProblemError(RESOURCE_NOT_FOUND, f"No debtor with id {raw_id}")
    return found


def company(data: PayrollData, raw_id: str) -> Record:
    found = data.company_by_id.get(_int_id(raw_id) or 0)
    if found is None:
        raise ProblemError(COMPANY_NOT_FOUND, f"No company with id {raw_id}")
    return found


def employee(data: PayrollData, company_id: str, raw_id: str) -> Record:
    """Employee `raw_id` of company `company_id`; another company's employee is not found."""
    owner = company(data, company_id)
    found = data.employee_by_id.get(_int_id(raw_id) or 0)
    if found is None or found["companyId"] != owner["id"]:
        detail = f"No employee with id {raw_id} in company {company_id}"
        raise ProblemError(RESOURCE_NOT_FOUND, detail)
    return found


def by_id(records: list[Record], raw_id: str, kind: str) -> Record:
    for record in records:
        if record["id"] == raw_id:
            return record
    raise ProblemError(RESOURCE_NOT_FOUND, f"No {kind} with id {raw_id}")
