"""An employee's sub-resources, derived on first use from a per-employee seed and memoised.

Addresses, employments, salaries, payments, bank accounts, leave and documents of employee E under
seed S always come out the same, whenever and in whichever process they are first asked for.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from termgate.reference_api import identifiers
from termgate.reference_api.pools import COLLECTIVE_AGREEMENTS, JOB_TITLES, Pools
from termgate.reference_api.records import REFERENCE_DATE, Record, address, day, money

CACHE_LIMIT = 20_000
LEAVE_TYPES = ("statutory", "extra-statutory", "special", "unpaid")
DOCUMENT_BLOCK = 64 * 1024


@dataclass(frozen=True, slots=True)
class EmployeeDetails:
    addresses: list[Record]
    employments: list[Record]
    salaries: list[Record]
    payments: list[Record]
    bank_accounts: list[Record]
    leave: list[Record]
    leave_balances: list[Record]
    documents: list[Record]

    @property
    def current_salary(self) -> Record:
        return self.salaries[-1]


class DetailCache:
    """Derives details per employee; holds at most `CACHE_LIMIT`, forgetting the oldest first."""

    def __init__(self, seed: int, pools: Pools, limit: int = CACHE_LIMIT) -> None:
        self.seed = seed
        self.pools = pools
        self.limit = limit
        self._cache: dict[int, EmployeeDetails] = {}

    def get(self, employee: Record) -> EmployeeDetails:
        employee_id: int = employee["id"]
        found = self._cache.get(employee_id)
        if found is None:
            if len(self._cache) >= self.limit:
                del self._cache[next(iter(self._cache))]
            found = derive_details(self.seed, self.pools, employee)
            self._cache[employee_id] = found
        return found


def employee_rng(seed: int, employee_id: int) -> random.Random:
    return random.Random(f"{seed}:employee:{employee_id}")


def derive_details(seed: int, pools: Pools, employee: Record) -> EmployeeDetails:
    rng = employee_rng(seed, employee["id"])
    hired = date.fromisoformat(employee["startDate"])
    employments = _employments(rng, employee, hired)
    salaries = _salaries(rng, employee, employments)
    return EmployeeDetails(
        addresses=_addresses(rng, pools, employee, hired),
        employments=employments,
        salaries=salaries,
        payments=_payments(rng, employee, salaries[-1]),
        bank_accounts=_bank_accounts(rng, employee),
        leave=_leave(rng, employee),
        leave_balances=_leave_balances(rng, employee, employments[-1]),
        documents=_documents(rng, employee, hired),
    )


def _addresses(rng: random.Random, pools: Pools, employee: Record, hired: date) -> list[Record]:
    moved = day(rng, hired, REFERENCE_DATE)
    current = {"id": identifiers.stable_uuid(rng), "employeeId": employee["id"], "type": "home"}
    current |= address(rng, pools) | {"startDate": moved.isoformat(), "endDate": None}
    if rng.random() < 0.6:
        return [current]
    earlier = {"id": identifiers.stable_uuid(rng), "employeeId": employee["id"], "type": "home"}
    earlier |= address(rng, pools)
    earlier |= {"startDate": hired.isoformat(), "endDate": (moved - timedelta(1)).isoformat()}
    return [earlier, current]


def _employments(rng: random.Random, employee: Record, hired: date) -> list[Record]:
    starts = [hired]
    if rng.random() < 0.35 and (REFERENCE_DATE - hired).days > 400:
        starts.append(hired + timedelta(days=rng.randint(365, (REFERENCE_DATE - hired).days)))
    records = []
    for index, start in enumerate(starts):
        last = index == len(starts) - 1
        end = None if last else (starts[index + 1] - timedelta(1)).isoformat()
        permanent = not last or rng.random() < 0.7
        records.append(
            {
                "id": identifiers.stable_uuid(rng),
                "employeeId": employee["id"],
                "companyId": employee["companyId"],
                "startDate": start.isoformat(),
                "endDate": end,
                "jobTitle": rng.choice(JOB_TITLES),
                "contractType": "permanent" if permanent else "fixed-term",
                "hoursPerWeek": rng.choice((16, 20, 24, 28, 32, 36, 38, 40)),
                "collectiveAgreement": rng.choice(COLLECTIVE_AGREEMENTS),
                "payrollPeriod": "month",
            }
        )
    return records


def _salaries(rng: random.Random, employee: Record, employments: list[Record]) -> list[Record]:
    records: list[Record] = []
    monthly = rng.uniform(2_100, 6_500)
    for employment in employments:
        start = date.fromisoformat(employment["startDate"])
        end = employment["endDate"]
        stop = date.fromisoformat(end) if end else REFERENCE_DATE
        raises = [start] + [date(year, 1, 1) for year in range(start.year + 1, stop.year + 1)]
        for index, begins in enumerate(raises):
            last = index == len(raises) - 1
            records.append(
                {
                    "id": identifiers.stable_uuid(rng),
                    "employeeId": employee["id"],
                    "employmentId": employment["id"],
                    "startDate": begins.isoformat(),
                    "endDate": end if last else (raises[index + 1] - timedelta(1)).isoformat(),
                    "type": "monthly",
                    "grossAmount": money(monthly * employment["hoursPerWeek"] / 40),
                    "fullTimeGrossAmount": money(monthly),
                }
            )
            monthly *= rng.uniform(1.01, 1.05)
    return records[-6:]


def _payments(rng: random.Random, employee: Record, salary: Record) -> list[Record]:
    gross: float = salary["grossAmount"]["amount"]
    records = []
    for back in range(6, 0, -1):
        year, month = divmod(REFERENCE_DATE.year * 12 + REFERENCE_DATE.month - 1 - back, 12)
        net = gross * rng.uniform(0.68, 0.74)
        records.append(
            {
                "id": identifiers.stable_uuid(rng),
                "employeeId": employee["id"],
                "period": f"{year}-{month + 1:02d}",
                "paymentDate": date(year, month + 1, 25).isoformat(),
                "grossAmount": money(gross),
                "netAmount": money(net),
                "wageTax": money(gross - net),
            }
        )
    return records


def _bank_accounts(rng: random.Random, employee: Record) -> list[Record]:
    records = []
    for index in range(1 if rng.random() < 0.85 else 2):
        iban, bic = identifiers.dutch_iban(rng)
        records.append(
            {
                "id": identifiers.stable_uuid(rng),
                "employeeId": employee["id"],
                "iban": iban,
                "bic": bic,
                "accountHolder": employee["formattedName"],
                "isPrimary": index == 0,
                "purpose": "salary" if index == 0 else "savings",
            }
        )
    return records


def _leave(rng: random.Random, employee: Record) -> list[Record]:
    records = []
    for _ in range(rng.randint(1, 6)):
        start = day(rng, date(REFERENCE_DATE.year - 1, 1, 1), REFERENCE_DATE + timedelta(90))
        days = rng.randint(1, 10)
        records.append(
            {
                "id": identifiers.stable_uuid(rng),
                "employeeId": employee["id"],
                "leaveType": rng.choice(LEAVE_TYPES[:3]),
                "startDate": start.isoformat(),
                "endDate": (start + timedelta(days - 1)).isoformat(),
                "hours": days * 8,
                "status": "approved" if start <= REFERENCE_DATE else "requested",
                "comment": None,
            }
        )
    records.sort(key=lambda record: str(record["startDate"]))
    return records


def _leave_balances(rng: random.Random, employee: Record, employment: Record) -> list[Record]:
    hours_per_week: int = employment["hoursPerWeek"]
    statutory = 4 * hours_per_week
    extra = rng.choice((0, 0, 1, 2, 3)) * hours_per_week / 5
    return [
        {
            "employeeId": employee["id"],
            "year": REFERENCE_DATE.year,
            "leaveType": leave_type,
            "entitlementHours": float(entitled),
            "takenHours": float(taken := round(rng.uniform(0, entitled / 3))),
            "balanceHours": float(entitled - taken),
        }
        for leave_type, entitled in (("statutory", statutory), ("extra-statutory", extra))
    ]


def _documents(rng: random.Random, employee: Record, hired: date) -> list[Record]:
    kinds = [("contract", f"Arbeidsovereenkomst {hired.year}", hired)]
    for back in (3, 2, 1):
        year, month = divmod(REFERENCE_DATE.year * 12 + REFERENCE_DATE.month - 1 - back, 12)
        kinds.append(("payslip", f"Loonstrook {year}-{month + 1:02d}", date(year, month + 1, 25)))
    return [
        {
            "id": identifiers.stable_uuid(rng),
            "employeeId": employee["id"],
            "category": category,
            "title": title,
            "fileName": title.lower().replace(" ", "-") + ".pdf",
            "contentType": "application/pdf",
            "size": rng.randint(1_000_000, 4_000_000),
            "createdAt": f"{created.isoformat()}T09:00:00Z",
        }
        for category, title, created in kinds
    ]
