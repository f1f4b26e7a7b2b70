"""The payroll world of one seed: debtors → companies → employees, and the product's end users.

Debtors and companies are few and made at start; an employee is only a number until something
reads it: `person(index)` derives its identity from a per-employee seed (and memoises the most
recent ones), and its GUID is its number enciphered (`guids`), so 100,000 employees cost neither
memory nor start-up time. Employees that `POST .../employees` creates are kept beside them.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from termgate.reference_api import dutch
from termgate.reference_api.defaults import DEFAULT_EMPLOYEES, DEFAULT_SEED
from termgate.reference_api.guids import GuidCodec, Kind
from termgate.reference_api.seeding import seeded

REFERENCE_DATE = date(2026, 4, 1)  # "today" of the world; fixed so data does not follow the clock
PERSON_CACHE = 8192
MAIL_DOMAINS = ("gmail.com", "ziggo.nl", "kpnmail.nl", "outlook.com", "hotmail.com")
SECTORS = ("Zakelijke dienstverlening", "Horeca", "Bouw", "Detailhandel", "Zorg", "Transport")


@dataclass(frozen=True, slots=True)
class Debtor:
    index: int
    id: str
    number: str
    name: str
    street: str
    house_number: str
    postal_code: str
    city: str


@dataclass(frozen=True, slots=True)
class Company:
    index: int
    id: str
    debtor: int
    number: str
    name: str
    sector: str
    kvk: str
    payroll_tax_number: str
    iban: str
    street: str
    house_number: str
    postal_code: str
    city: str
    first_employee: int
    employee_count: int


@dataclass(slots=True)
class Person:
    index: int
    id: str
    company: int
    number: int
    first_name: str
    prefix: str | None
    last_name: str
    initials: str
    gender: str
    birth_date: date
    email: str
    phone: str
    bsn: str
    iban: str
    street: str
    house_number: str
    postal_code: str
    city: str
    hire_date: date
    hours_per_week: float
    monthly_salary: float
    job_title: str
    department: str

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.prefix, self.last_name) if part)


@dataclass(frozen=True, slots=True)
class EndUser:
    """A login of the payroll product and the debtors it may see."""

    id: str
    username: str
    email: str
    display_name: str
    debtor_ids: tuple[str, ...]


@dataclass
class World:
    seed: int
    codec: GuidCodec
    pools: dutch.Pools
    debtors: list[Debtor] = field(default_factory=list)
    companies: list[Company] = field(default_factory=list)
    debtor_by_id: dict[str, Debtor] = field(default_factory=dict)
    company_by_id: dict[str, Company] = field(default_factory=dict)
    base_employees: int = 0
    created: dict[int, Person] = field(default_factory=dict)
    created_by_company: dict[int, list[int]] = field(default_factory=dict)
    created_types: dict[int, str] = field(default_factory=dict)  # employeeType given at creation
    end_users: tuple[EndUser, ...] = ()

    def __post_init__(self) -> None:
        self.starts: list[int] = []  # the first employee index of each company
        self.person = lru_cache(maxsize=PERSON_CACHE)(self._person)

    def companies_of(self, debtor: Debtor) -> list[Company]:
        return [company for company in self.companies if company.debtor == debtor.index]

    def employee_count(self, company: Company) -> int:
        return company.employee_count + len(self.created_by_company.get(company.index, ()))

    def employee_indices(self, company: Company, start: int, stop: int) -> list[int]:
        """Indices of the company's employees in positions start..stop (created ones last)."""
        stop = min(stop, self.employee_count(company))
        base = company.employee_count
        found = [company.first_employee + n for n in range(start, min(stop, base))]
        extra = self.created_by_company.get(company.index, [])
        return found + extra[max(start - base, 0) : max(stop - base, 0)]

    def employee_index(self, guid: str) -> int | None:
        decoded = self.codec.decode(guid)
        if decoded is None or decoded.kind != Kind.EMPLOYEE or decoded.b or decoded.c:
            return None
        if decoded.a < self.base_employees or decoded.a in self.created:
            return decoded.a
        return None

    def employee_type(self, index: int) -> str:
        """Most employees are on the payroll; about one in twenty has left (cheap: no person)."""
        if index in self.created:
            return self.created_types.get(index, "newHire")
        return "formerPayroll" if (index * 2654435761 + self.seed) % 20 == 0 else "payroll"

    def employee_id(self, index: int) -> str:
        return self.codec.encode(Kind.EMPLOYEE, index)

    def company_of(self, index: int) -> Company:
        if index in self.created:
            return self.companies[self.created[index].company]
        return self.companies[bisect.bisect_right(self.starts, index) - 1]

    def _person(self, index: int) -> Person:
        if index in self.created:
            return self.created[index]
        company = self.company_of(index)
        rng = seeded(f"{self.seed}:employee:{index}")
        return make_person(self, rng, index, company, index - company.first_employee + 1)


def make_person(
    world: World, rng: random.Random, index: int, company: Company, number: int
) -> Person:
    pools = world.pools
    female = rng.random() < 0.5
    first = rng.choice(pools.female_first_names if female else pools.male_first_names)
    prefix, last = dutch.split_last_name(rng.choice(pools.last_names))
    initials = f"{first[0]}." if rng.random() < 0.7 else f"{first[0]}.{rng.choice('AEHJMW')}."
    born = _day(rng, date(1958, 1, 1), date(2007, 12, 31))
    hired = _day(rng, max(date(2005, 1, 1), date(born.year + 18, 9, 1)), REFERENCE_DATE)
    hours = rng.choice((16.0, 24.0, 32.0, 36.0, 38.0, 40.0, 40.0))
    return Person(
        index=index,
        id=world.employee_id(index),
        company=company.index,
        number=number,
        first_name=first,
        prefix=prefix,
        last_name=last,
        initials=initials,
        gender="female" if female else "male",
        birth_date=born,
        email=f"{dutch.mailbox(first, prefix, last)}@{rng.choice(MAIL_DOMAINS)}",
        phone=dutch.phone_number(rng, mobile=True),
        bsn=dutch.bsn(rng),
        iban=dutch.dutch_iban(rng),
        street=rng.choice(pools.streets),
        house_number=str(rng.randint(1, 250)),
        postal_code=rng.choice(pools.postcodes),
        city=rng.choice(pools.cities),
        hire_date=hired,
        hours_per_week=hours,
        monthly_salary=round(rng.uniform(2200, 6800) * hours / 40, 2),
        job_title=rng.choice(dutch.JOB_TITLES),
        department=rng.choice(dutch.DEPARTMENTS),
    )


def _day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def _sizes(rng: random.Random, companies: int, employees: int) -> list[int]:
    """Uneven company sizes (a few large, many small) that add up to `employees`."""
    weights = [rng.paretovariate(1.2) for _ in range(companies)]
    total = sum(weights)
    sizes = [1 + int((employees - companies) * weight / total) for weight in weights]
    sizes[0] += employees - sum(sizes)
    return sizes


def generate(seed: int = DEFAULT_SEED, employees: int = DEFAULT_EMPLOYEES) -> World:
    """The world of `seed`: 5+ debtors, 12+ companies (one per 500 employees beyond 6,000)."""
    companies = max(12, employees // 500)
    debtors = max(5, companies // 6)
    if employees < companies:
        raise ValueError(f"need at least {companies} employees")
    rng = random.Random(seed)
    world = World(seed, GuidCodec(seed), dutch.build_pools(seed))
    for index in range(debtors):
        name = f"{rng.choice(world.pools.company_names)} Groep"
        debtor = Debtor(
            index,
            world.codec.encode(Kind.DEBTOR, index),
            f"{index + 1:04d}",
            name,
            rng.choice(world.pools.streets),
            str(rng.randint(1, 300)),
            rng.choice(world.pools.postcodes),
            rng.choice(world.pools.cities),
        )
        world.debtors.append(debtor)
        world.debtor_by_id[debtor.id] = debtor
    first = 0
    for index, size in enumerate(_sizes(rng, companies, employees)):
        name = f"{rng.choice(world.pools.company_names)} {rng.choice(dutch.COMPANY_SUFFIXES)}"
        company = Company(
            index, world.codec.encode(Kind.COMPANY, index), index % debtors, str(index + 1), name,
            rng.choice(SECTORS), dutch.kvk_number(rng), dutch.payroll_tax_number(rng),
            dutch.dutch_iban(rng), rng.choice(world.pools.streets), str(rng.randint(1, 300)),
            rng.choice(world.pools.postcodes), rng.choice(world.pools.cities), first, size,
        )  # fmt: skip
        world.companies.append(company)
        world.company_by_id[company.id] = company
        world.starts.append(first)
        first += size
    world.base_employees = employees
    world.end_users = _end_users(world, random.Random(f"{seed}:end-users"))
    return world


def _end_users(world: World, rng: random.Random) -> tuple[EndUser, ...]:
    """One payroll administrator per debtor, and an accountant serving the first two debtors."""
    groups = [(debtor,) for debtor in world.debtors] + [tuple(world.debtors[:2])]
    users = []
    for number, group in enumerate(groups):
        first = rng.choice(world.pools.female_first_names + world.pools.male_first_names)
        prefix, last = dutch.split_last_name(rng.choice(world.pools.last_names))
        domain = (
            f"{dutch.mailbox(group[0].name.removesuffix(' Groep'))}.nl"
            if len(group) == 1
            else "boekhoudpartners.nl"
        )
        email = f"{dutch.mailbox(first, prefix, last)}@{domain}"
        display = " ".join(part for part in (first, prefix, last) if part)
        user_id = world.codec.encode(Kind.USER, number)
        users.append(EndUser(user_id, email, email, display, tuple(d.id for d in group)))
    return tuple(users)
