"""Handlers of the write operations: replace personal info, request leave."""

from __future__ import annotations

import random
from datetime import date

from termgate.reference_api import lookup
from termgate.reference_api.data import PayrollData
from termgate.reference_api.details import LEAVE_TYPES
from termgate.reference_api.http import ProblemError, Request, Response, json_response
from termgate.reference_api.identifiers import stable_uuid
from termgate.reference_api.records import REFERENCE_DATE, Record, formatted_name
from termgate.reference_api.refusals import VALIDATION
from termgate.reference_api.validation import (
    EMAIL,
    PHONE,
    Field,
    citizen_service_number,
    iso_date,
    number,
    one_of,
    text,
    validate,
)

PERSONAL_INFO_FIELDS = {
    "firstName": Field(text(1, 100)),
    "initials": Field(text(1, 20), required=False),
    "prefix": Field(text(1, 20, nullable=True), required=False),
    "lastName": Field(text(1, 100)),
    "dateOfBirth": Field(iso_date(date(1900, 1, 1), REFERENCE_DATE)),
    "gender": Field(one_of("male", "female", "other", "unknown")),
    "nationality": Field(text(2, 2), required=False),
    "citizenServiceNumber": Field(citizen_service_number, required=False),
    "email": Field(EMAIL, required=False),
    "phoneNumber": Field(PHONE, required=False),
}
# Clients may send back what they read; these are not theirs to change.
PERSONAL_INFO_READ_ONLY = frozenset({"employeeId", "formattedName"})
# Fields shown in employee lists too, kept in step with personal info.
_LISTED = ("firstName", "initials", "prefix", "lastName", "dateOfBirth", "gender", "email")

LEAVE_REQUEST_FIELDS = {
    "leaveType": Field(one_of(*LEAVE_TYPES)),
    "startDate": Field(iso_date(date(2000, 1, 1), date(2100, 12, 31))),
    "endDate": Field(iso_date(date(2000, 1, 1), date(2100, 12, 31))),
    "hours": Field(number(0, 24 * 366)),
    "comment": Field(text(0, 500, nullable=True), required=False),
}


def replace_personal_info(data: PayrollData, request: Request) -> Response:
    employee = lookup.employee(data, *request.params[:2])
    changes = validate(request.body, PERSONAL_INFO_FIELDS, read_only=PERSONAL_INFO_READ_ONLY)
    personal = data.personal_info[employee["id"]]
    if "initials" not in changes and changes["firstName"] != personal["firstName"]:
        changes["initials"] = changes["firstName"][0].upper() + "."
    updated: Record = personal | changes
    updated["nationality"] = str(updated["nationality"]).upper()
    updated["formattedName"] = formatted_name(
        updated["initials"], updated["prefix"], updated["lastName"]
    )
    data.personal_info[employee["id"]] = updated
    for name in (*_LISTED, "formattedName"):
        employee[name] = updated[name]
    return json_response(updated)


def request_leave(data: PayrollData, request: Request) -> Response:
    employee = lookup.employee(data, *request.params[:2])
    fields = validate(request.body, LEAVE_REQUEST_FIELDS)
    start, end = date.fromisoformat(fields["startDate"]), date.fromisoformat(fields["endDate"])
    days = (end - start).days + 1
    if days < 1 or days > 366:
        raise ProblemError(
            VALIDATION,
            "The leave period is not valid",
            invalid_params=[
                {"name": "endDate", "reason": "must be on or after startDate, within a year"}
            ],
        )
    if fields["hours"] > 24 * days:
        reason = f"must be at most {24 * days} for {days} days"
        raise ProblemError(
            VALIDATION, "Too many hours", invalid_params=[{"name": "hours", "reason": reason}]
        )
    requests = data.leave_requests.setdefault(employee["id"], [])
    # Ids of new requests are deterministic too: the seed, the employee and the request's ordinal.
    rng = random.Random(f"{data.seed}:leave:{employee['id']}:{len(requests)}")
    record: Record = {
        "id": stable_uuid(rng),
        "employeeId": employee["id"],
        "leaveType": fields["leaveType"],
        "startDate": fields["startDate"],
        "endDate": fields["endDate"],
        "hours": fields["hours"],
        "status": "requested",
        "comment": fields.get("comment"),
    }
    requests.append(record)
    response = json_response(record, status=201)
    response.headers.append((b"location", f"{request.path}/{record['id']}".encode()))
    return response
