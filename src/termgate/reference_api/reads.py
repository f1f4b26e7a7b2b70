"""The `GET` listings: each answers (total records, the records of one page) for its template.

Cross-debtor listings (`/api/debtors`, `/api/companies`, `/api/debtors/info`, `/api/user/info`)
show only the debtors of the gateway's `X-Termgate-Debtors` header when it is present, and all of
them when the API is called directly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from termgate.reference_api.errors import not_found
from termgate.reference_api.http import Request
from termgate.reference_api.operations import Operation
from termgate.reference_api.state import EMPLOYEE_PATHS, EMPLOYEE_VIEWS, PublishedApi
from termgate.reference_api.world import Company, Debtor

Record = dict[str, Any]
Page = tuple[int, list[Record]]
Listing = Callable[[PublishedApi, Operation, Request, int, int], Page]
COMPANY = "/api/companies/{companyId}/"
DEBTOR = "/api/debtors/{debtorId}/"
COUNTRIES = (
    ("NL", "Nederland", "Nederlandse"), ("BE", "België", "Belgische"),
    ("DE", "Duitsland", "Duitse"), ("FR", "Frankrijk", "Franse"),
    ("GB", "Verenigd Koninkrijk", "Britse"), ("PL", "Polen", "Poolse"),
    ("ES", "Spanje", "Spaanse"), ("IT", "Italië", "Italiaanse"), ("PT", "Portugal", "Portugese"),
    ("TR", "Turkije", "Turkse"), ("MA", "Marokko", "Marokkaanse"), ("SR", "Suriname", "Surinaamse"),
)  # fmt: skip


def _visible(request: Request, debtor: Debtor) -> bool:
    return request.debtors is None or debtor.id in request.debtors


def debtor_record(debtor: Debtor) -> Record:
    return {"debtorId": debtor.id, "number": debtor.number, "name": debtor.name}


def company_record(company: Company, debtor: Debtor) -> Record:
    return {"companyId": company.id, "number": company.number, "name": company.name,
            "debtorId": debtor.id}  # fmt: skip


def _all(records: list[Record], start: int, stop: int) -> Page:
    return len(records), records[start:stop]


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _since(request: Request, records: list[Record]) -> list[Record]:
    """Records created (`createdFrom`) or changed (`changedFrom`) at or after the given moment;
    records that do not carry the moment stay."""
    for param, field in (("createdFrom", "createdAt"), ("changedFrom", "changedAt")):
        raw = request.query.get(param)
        if isinstance(raw, str):
            since = _moment(raw)
            records = [r for r in records if not isinstance(r.get(field), str)
                       or _moment(r[field]) >= since]  # fmt: skip
    return records


def in_period(request: Request, data: list[Record]) -> list[Record]:
    """Records as of the `year` and `period` asked for (the current period when not given):
    their `year`, `period` and `{year, period}` fields say so; their ids and content stay."""
    year, period = request.query.get("year"), request.query.get("period")
    if not isinstance(year, str) and not isinstance(period, str):
        return data
    wanted = {"year": int(year) if isinstance(year, str) else None,
              "period": int(period) if isinstance(period, str) else None}  # fmt: skip
    return [_dated(record, wanted, 0) for record in data]


def _dated(value: Any, wanted: dict[str, int | None], depth: int) -> Any:
    if isinstance(value, list) and depth < 4:
        return [_dated(item, wanted, depth + 1) for item in value]
    if not isinstance(value, dict) or depth >= 4:
        return value
    dated = {}
    for key, item in value.items():
        given = wanted.get(key)
        if given is not None and isinstance(item, int) and not isinstance(item, bool):
            dated[key] = given
        else:
            dated[key] = _dated(item, wanted, depth + 1)
    return dated


def _filtered_view(request: Request, record: Record) -> Record:
    if "createdFrom" not in request.query and "changedFrom" not in request.query:
        return record
    return {key: _since(request, value) if isinstance(value, list) else value
            for key, value in record.items()}  # fmt: skip


def list_debtors(api: PublishedApi, op: Operation, request: Request, start: int, stop: int) -> Page:
    debtors = [debtor_record(d) for d in api.world.debtors if _visible(request, d)]
    return _all(debtors, start, stop)


def list_companies(
    api: PublishedApi, op: Operation, request: Request, start: int, stop: int
) -> Page:
    world = api.world
    companies = [
        company_record(company, world.debtors[company.debtor])
        for company in world.companies
        if _visible(request, world.debtors[company.debtor])
    ]
    return _all(companies, start, stop)


def list_debtor_companies(
    api: PublishedApi, op: Operation, request: Request, start: int, stop: int
) -> Page:
    debtor = api.debtor(request.params["debtorId"])
    companies = [company_record(c, debtor) for c in api.world.companies_of(debtor)]
    return _all(companies, start, stop)


def _employee_page(api: PublishedApi, request: Request, company: Company, start: int, stop: int
                   ) -> tuple[int, list[int]]:  # fmt: skip
    wanted = request.query.get("employeeId")
    if isinstance(wanted, str):
        index = api.world.employee_index(wanted)
        if index is None or api.world.company_of(index).index != company.index:
            return 0, []
        return 1, [index][start:stop]
    types = request.query.get("employeeType")
    total = api.world.employee_count(company)
    if isinstance(types, str):
        allowed = {part.strip() for part in types.split(",")}
        every = api.world.employee_indices(company, 0, total)
        chosen = [index for index in every if api.world.employee_type(index) in allowed]
        return len(chosen), chosen[start:stop]
    return total, api.world.employee_indices(company, start, stop)


def employee_view(name: str) -> Listing:
    """A company listing with one record per employee (`.../employees/contracts`)."""

    def listing(api: PublishedApi, op: Operation, request: Request, start: int, stop: int) -> Page:
        company = api.company(request.params["companyId"])
        if "payrollRunId" in request.params:
            _company_record(api, company, "runs", request.params["payrollRunId"])
        total, indices = _employee_page(api, request, company, start, stop)
        views = [api.records.view("employee", i, name, op.schema) for i in indices]
        return total, [_filtered_view(request, view) for view in views]

    return listing


def employee_list(name: str) -> Listing:
    def listing(api: PublishedApi, op: Operation, request: Request, start: int, stop: int) -> Page:
        index = api.employee(request.params["employeeId"])
        return _all(_since(request, api.collection(index, name)), start, stop)

    return listing


def employee_info(
    api: PublishedApi, op: Operation, request: Request, start: int, stop: int
) -> Page:
    index = api.employee(request.params["employeeId"])
    return _all([api.records.view("employee", index, "employeeInfo", op.schema)], start, stop)


def _company_record(api: PublishedApi, company: Company, collection: str, raw: str) -> int:
    position = api.records.belongs(raw, "company", company.index, collection)
    if position is None:
        raise not_found(collection.removesuffix("s"), raw)
    return position


def company_list(name: str) -> Listing:
    def listing(api: PublishedApi, op: Operation, request: Request, start: int, stop: int) -> Page:
        company = api.company(request.params["companyId"])
        if name == "salarytable/{salaryTableVersionId}/content":
            _company_record(api, company, "salarytableversions",
                            request.params["salaryTableVersionId"])  # fmt: skip
        records = api.records.items("company", company.index, name, op.schema)
        return _all(_since(request, records), start, stop)

    return listing


def debtor_list(name: str) -> Listing:
    def listing(api: PublishedApi, op: Operation, request: Request, start: int, stop: int) -> Page:
        debtor = api.debtor(request.params["debtorId"])
        return _all(api.records.items("debtor", debtor.index, name, op.schema), start, stop)

    return listing


def salary_table_versions(
    api: PublishedApi, op: Operation, request: Request, start: int, stop: int
) -> Page:
    raw = request.params["salaryTableId"]
    decoded = api.world.codec.decode(raw)
    if decoded is None or decoded.a >= len(api.world.companies):
        raise not_found("salary table", raw)
    company = api.world.companies[decoded.a]
    _company_record(api, company, "salarytables", raw)
    records = api.records.items("company", company.index, "salarytableversions", op.schema)
    return _all(records, start, stop)


def countries(api: PublishedApi, op: Operation, request: Request, start: int, stop: int) -> Page:
    records = [{"codeISO": code, "country": name, "nationality": nationality}
               for code, name, nationality in COUNTRIES]  # fmt: skip
    return _all(records, start, stop)


def debtors_info(api: PublishedApi, op: Operation, request: Request, start: int, stop: int) -> Page:
    records = []
    for debtor in api.world.debtors:
        if _visible(request, debtor):
            record = api.records.view("debtor", debtor.index, "debtors/info", op.schema)
            record["debtor"] = debtor_record(debtor)
            records.append(record)
    return _all(records, start, stop)


def user_info(api: PublishedApi, op: Operation, request: Request, start: int, stop: int) -> Page:
    users = [user for user in api.world.end_users if user.id == request.user_id]
    if request.user_id is None:  # called directly: the first login speaks
        users = list(api.world.end_users[:1])
    records = [
        {"name": user.display_name, "email": user.email, "language": "NL", "debtorId": debtor,
         "userId": user.id}
        for user in users
        for debtor in user.debtor_ids
        if request.debtors is None or debtor in request.debtors
    ]  # fmt: skip
    return _all(records, start, stop)


def api_list(name: str) -> Listing:
    def listing(api: PublishedApi, op: Operation, request: Request, start: int, stop: int) -> Page:
        return _all(api.records.items("api", 0, name, op.schema), start, stop)

    return listing


SPECIAL: dict[str, Listing] = {
    "/api/debtors": list_debtors,
    "/api/companies": list_companies,
    "/api/debtors/{debtorId}/companies": list_debtor_companies,
    "/api/companies/{companyId}/employees": employee_view("employee"),
    "/api/companies/{companyId}/runs/{payrollRunId}/employees": employee_view("runEmployee"),
    "/api/employees/{employeeId}": employee_info,
    "/api/salarytable/{salaryTableId}": salary_table_versions,
    "/api/countries": countries,
    "/api/debtors/info": debtors_info,
    "/api/user/info": user_info,
}


def listing_for(op: Operation) -> Listing:
    template = op.template
    if template in SPECIAL:
        return SPECIAL[template]
    if template.startswith(EMPLOYEE_VIEWS):
        return employee_view(template.removeprefix(EMPLOYEE_VIEWS))
    if template.startswith(EMPLOYEE_PATHS):
        return employee_list(template.removeprefix(EMPLOYEE_PATHS))
    if template.startswith(COMPANY):
        return company_list(template.removeprefix(COMPANY))
    if template.startswith(DEBTOR):
        return debtor_list(template.removeprefix(DEBTOR))
    return api_list(template.removeprefix("/api/"))
