"""The payroll world of the reference API: debtors → companies → employees, and their end users.

Everything derives from one seed: the same seed gives byte-identical data. Debtors, companies,
employees and end users are generated at start and indexed (dicts by id, lists per parent); an
employee's sub-resources are derived on first use from a per-employee seed (see `details`), so
100,000 employees start in seconds without holding millions of records that nobody reads.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from termgate.reference_api import identifiers
from termgate.reference_api.details import DetailCache, EmployeeDetails
from termgate.reference_api.pools import COLLECTIVE_AGREEMENTS, COMPANY_SUFFIXES, Pools, build_pools
from termgate.reference_api.records import (
    REFERENCE_DATE,
    Record,
    address,
    day,
    formatted_name,
    mailbox,
    phone_number,
    split_last_name,
)

DEFAULT_SEED = 20260401
DEFAULT_EMPLOYEES = 2000
FIRST_DEBTOR_ID = 1001
FIRST_COMPANY_ID = 2001
FIRST_EMPLOYEE_ID = 100001
SECTORS = ("Zakelijke dienstverlening", "Horeca", "Bouw", "Detailhandel", "Zorg", "Transport")


@dataclass(frozen=True, slots=True)
class EndUser:
    """A login of the payroll product and the debtors it may see (its consent can cover these)."""

    id: int
    username: str
    email: str
    display_name: str
    debtor_ids: tuple[int, ...]

    def as_json(self) -> Record:
        return {
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "displayName": self.display_name,
            "debtorIds": list(self.debtor_ids),
        }


@dataclass(slots=True)
class PayrollData:
    """All records of one seed, indexed the way the routes read them."""

    seed: int
    pools: Pools
    debtors: list[Record] = field(default_factory=list)
    debtor_by_id: dict[int, Record] = field(default_factory=dict)
    companies: list[Record] = field(default_factory=list)
    company_by_id: dict[int, Record] = field(default_factory=dict)
    companies_by_debtor: dict[int, list[Record]] = field(default_factory=dict)
    payroll_settings: dict[int, Record] = field(default_factory=dict)
    employees_by_company: dict[int, list[Record]] = field(default_factory=dict)
    employee_by_id: dict[int, Record] = field(default_factory=dict)
    personal_info: dict[int, Record] = field(default_factory=dict)
    end_users: tuple[EndUser, ...] = ()
    end_user_by_id: dict[int, EndUser] = field(default_factory=dict)
    leave_requests: dict[int, list[Record]] = field(default_factory=dict)
    detail_cache: DetailCache | None = None

    def company_debtor(self, company_id: int) -> int | None:
        company = self.company_by_id.get(company_id)
        return None if company is None else int(company["debtorId"])

    def details(self, employee_id: int) -> EmployeeDetails:
        """The employee's sub-resources (the employee must exist)."""
        assert self.detail_cache is not None
        return self.detail_cache.get(self.employee_by_id[employee_id])

    def fingerprint(self) -> Any:
        """Everything generated at start, for comparing two generations."""
        return (
            self.debtors,
            self.companies,
            self.payroll_settings,
            self.personal_info,
            [user.as_json() for user in self.end_users],
        )


def generate(
    seed: int = DEFAULT_SEED,
    employees: int = DEFAULT_EMPLOYEES,
    *,
    debtors: int = 5,
    companies: int = 12,
) -> PayrollData:
    """Generate the payroll world for `seed`; `employees` may reach 100,000 and more."""
    if debtors < 1 or companies < debtors or employees < companies:
        raise ValueError("need 1 ≤ debtors ≤ companies ≤ employees")
    rng = random.Random(seed)
    data = PayrollData(seed=seed, pools=build_pools(seed))
    data.detail_cache = DetailCache(seed, data.pools)
    for index in range(debtors):
        _add_debtor(data, rng, FIRST_DEBTOR_ID + index)
    for index in range(companies):
        debtor_id = FIRST_DEBTOR_ID + (index % debtors)
        _add_company(data, rng, FIRST_COMPANY_ID + index, debtor_id)
    _add_employees(data, rng, employees)
    # Own generator: the logins stay the same whatever the number of employees.
    data.end_users = _end_users(data, random.Random(f"{seed}:end-users"))
    data.end_user_by_id = {user.id: user for user in data.end_users}
    return data


def _add_debtor(data: PayrollData, rng: random.Random, debtor_id: int) -> None:
    name = f"{rng.choice(data.pools.company_names)} Groep"
    debtor = {
        "id": debtor_id,
        "debtorNumber": f"D{debtor_id:06d}",
        "name": name,
        "email": f"administratie@{mailbox(name.replace(' Groep', ''))}.nl",
        "phoneNumber": phone_number(rng, mobile=False),
        "address": address(rng, data.pools),
        "customerSince": day(rng, date(2008, 1, 1), date(2024, 12, 31)).isoformat(),
    }
    data.debtors.append(debtor)
    data.debtor_by_id[debtor_id] = debtor
    data.companies_by_debtor[debtor_id] = []


def _add_company(data: PayrollData, rng: random.Random, company_id: int, debtor_id: int) -> None:
    name = f"{rng.choice(data.pools.company_names)} {rng.choice(COMPANY_SUFFIXES)}"
    company = {
        "id": company_id,
        "debtorId": debtor_id,
        "name": name,
        "chamberOfCommerceNumber": identifiers.kvk_number(rng),
        "payrollTaxNumber": identifiers.payroll_tax_number(rng),
        "sector": rng.choice(SECTORS),
        "address": address(rng, data.pools),
        "employeeCount": 0,
    }
    data.companies.append(company)
    data.company_by_id[company_id] = company
    data.companies_by_debtor[debtor_id].append(company)
    data.employees_by_company[company_id] = []
    data.payroll_settings[company_id] = {
        "companyId": company_id,
        "payrollPeriod": rng.choice(("month", "month", "month", "four-weeks")),
        "payDay": rng.choice((21, 23, 25, 28)),
        "collectiveAgreement": rng.choice(COLLECTIVE_AGREEMENTS),
        "holidayAllowancePercentage": 8.0,
        "holidayAllowanceMonth": 5,
        "pensionFund": rng.choice(("PFZW", "ABP", "PMT", "bpfBOUW", "Pensioenfonds Detailhandel")),
        "wageTaxTable": "white",
        "currency": "EUR",
    }


def _company_sizes(rng: random.Random, companies: int, employees: int) -> list[int]:
    """Uneven company sizes (a few large, many small) that add up to `employees`."""
    weights = [rng.paretovariate(1.2) for _ in range(companies)]
    total = sum(weights)
    spare = employees - companies
    sizes = [1 + int(spare * weight / total) for weight in weights]
    sizes[0] += employees - sum(sizes)
    return sizes


def _add_employees(data: PayrollData, rng: random.Random, employees: int) -> None:
    sizes = _company_sizes(rng, len(data.companies), employees)
    employee_id = FIRST_EMPLOYEE_ID
    for company, size in zip(data.companies, sizes, strict=True):
        staff = data.employees_by_company[company["id"]]
        for number in range(1, size + 1):
            employee, personal = _employee(data.pools, rng, employee_id, company["id"], number)
            staff.append(employee)
            data.employee_by_id[employee_id] = employee
            data.personal_info[employee_id] = personal
            employee_id += 1
        company["employeeCount"] = size


_OLDEST = date(1958, 1, 1)
_YOUNGEST = date(2007, 12, 31)
_FIRST_HIRE = date(2005, 1, 1)


def _employee(
    pools: Pools, rng: random.Random, employee_id: int, company_id: int, number: int
) -> tuple[Record, Record]:
    female = rng.random() < 0.5
    first = rng.choice(pools.female_first_names if female else pools.male_first_names)
    prefix, last = split_last_name(rng.choice(pools.last_names))
    initials = f"{first[0]}." if rng.random() < 0.7 else f"{first[0]}.{rng.choice('AEHJMW')}."
    born = day(rng, _OLDEST, _YOUNGEST)
    hired = day(rng, max(_FIRST_HIRE, date(born.year + 18, 9, 1)), REFERENCE_DATE)
    email = f"{mailbox(first, prefix or '', last)}@{rng.choice(pools.email_domains)}"
    name = formatted_name(initials, prefix, last)
    employee = {
        "id": employee_id,
        "companyId": company_id,
        "employeeNumber": number,
        "firstName": first,
        "initials": initials,
        "prefix": prefix,
        "lastName": last,
        "formattedName": name,
        "dateOfBirth": born.isoformat(),
        "gender": "female" if female else "male",
        "email": email,
        "startDate": hired.isoformat(),
        "employmentStatus": "active",
    }
    personal = {
        "employeeId": employee_id,
        "firstName": first,
        "initials": initials,
        "prefix": prefix,
        "lastName": last,
        "formattedName": name,
        "dateOfBirth": born.isoformat(),
        "gender": employee["gender"],
        "nationality": "NL" if rng.random() < 0.88 else rng.choice(("BE", "DE", "PL", "TR", "MA")),
        "citizenServiceNumber": identifiers.bsn(rng),
        "email": email,
        "phoneNumber": phone_number(rng, mobile=True),
    }
    return employee, personal


def _end_users(data: PayrollData, rng: random.Random) -> tuple[EndUser, ...]:
    """One payroll administrator per debtor, plus an accountant who serves the first two debtors."""
    users: list[EndUser] = []
    debtor_ids = [debtor["id"] for debtor in data.debtors]
    groups: list[tuple[int, ...]] = [(debtor_id,) for debtor_id in debtor_ids]
    if len(debtor_ids) >= 2:
        groups.append((debtor_ids[0], debtor_ids[1]))
    for user_id, group in enumerate(groups, start=1):
        first = rng.choice(data.pools.female_first_names + data.pools.male_first_names)
        prefix, last = split_last_name(rng.choice(data.pools.last_names))
        owner = data.debtor_by_id[group[0]]
        domain = owner["email"].split("@", 1)[1] if len(group) == 1 else "boekhoudpartners.nl"
        email = f"{mailbox(first, prefix or '', last)}@{domain}"
        display = f"{first} {prefix} {last}" if prefix else f"{first} {last}"
        users.append(EndUser(user_id, email, email, display, group))
    return tuple(users)
