"""Field-name-aware values: what a property called `postalCode` or `IBAN` holds in Dutch payroll.

`hint(name, ctx)` proposes a value for a property by its (case-insensitive) name, taken from the
record's context (the employee a record belongs to, the company, the debtor) where it has one; the
generator (`fake`) keeps the proposal only if it fits the property's schema.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from termgate.reference_api import dutch
from termgate.reference_api.guids import Kind
from termgate.reference_api.vocabulary import (
    CARS,
    CODES,
    COLLECTIVE_AGREEMENTS,
    DESCRIPTIONS,
    END_REASONS,
    LEASE_COMPANIES,
    RELATIONSHIPS,
    SCALES,
    WAGE_COMPONENTS,
)
from termgate.reference_api.world import REFERENCE_DATE, Company, Debtor, Person, World, make_person

MISSING: Any = object()


@dataclass(slots=True)
class Ctx:
    """Where a record is generated: its owner, its collection, its position, its generator."""

    world: World
    rng: random.Random
    collection: str = ""
    position: int = 0
    person: Person | None = None
    company: Company | None = None
    debtor: Debtor | None = None
    year: int = REFERENCE_DATE.year
    period: int = REFERENCE_DATE.month
    entity: str | None = None  # what `name` means here: "company", "debtor" or a person
    parent: str = ""  # the property holding the object being filled (`department`, `sector`)
    _stranger: Person | None = field(default=None)

    def someone(self) -> Person:
        """The employee of the record, or a person made up for it (a manager, a contact)."""
        if self.person is not None:
            return self.person
        if self._stranger is None:
            company = self.company or self.world.companies[0]
            self._stranger = make_person(self.world, self.rng, -1, company, self.position + 1)
        return self._stranger


def _moment(ctx: Ctx) -> datetime:
    start = ctx.person.hire_date if ctx.person else date(2019, 1, 1)
    days = ctx.rng.randint(0, max((REFERENCE_DATE - start).days, 1))
    when = start + timedelta(days=days)
    return datetime(when.year, when.month, when.day, ctx.rng.randint(7, 18), ctx.rng.randint(0, 59))


def _name(ctx: Ctx) -> str:
    if ctx.entity == "company" and ctx.company is not None:
        return ctx.company.name
    if ctx.entity == "debtor" and ctx.debtor is not None:
        return ctx.debtor.name
    if ctx.entity == "record":
        return _description(ctx)
    return ctx.someone().full_name


def _description(ctx: Ctx) -> str:
    pool = DESCRIPTIONS.get(ctx.parent.lower()) or DESCRIPTIONS.get(ctx.collection.lower())
    if pool is None and "wage" in ctx.collection.lower():
        pool = WAGE_COMPONENTS
    if pool is None:
        return f"{ctx.collection[:1].upper()}{ctx.collection[1:]} {ctx.position + 1}"
    return pool[ctx.position % len(pool)]


def _number(ctx: Ctx) -> int | str:
    if ctx.entity == "company" and ctx.company is not None:
        return ctx.company.number
    if ctx.entity == "debtor" and ctx.debtor is not None:
        return ctx.debtor.number
    return ctx.position + 1


def _employee_type(ctx: Ctx) -> str:
    return ctx.world.employee_type(ctx.person.index) if ctx.person is not None else "payroll"


def _business_email(ctx: Ctx) -> str:
    person = ctx.someone()
    company = ctx.world.companies[person.company] if person.company >= 0 else ctx.world.companies[0]
    domain = dutch.mailbox(company.name.split(" ")[0])
    return f"{dutch.mailbox(person.first_name, person.prefix, person.last_name)}@{domain}.nl"


def _iban(ctx: Ctx) -> str:
    if ctx.entity == "company" and ctx.company is not None:
        return ctx.company.iban
    return ctx.someone().iban if ctx.position == 0 else dutch.dutch_iban(ctx.rng)


def _plate(rng: random.Random) -> str:
    letters = "BDFGHJKLNPRSTVXZ"
    return (
        f"{rng.choice(letters)}-{rng.randint(100, 999)}-{rng.choice(letters)}{rng.choice(letters)}"
    )


Hint = Callable[[Ctx], Any]
_P = Ctx.someone
HINTS: dict[str, Hint] = {
    "firstname": lambda c: _P(c).first_name,
    "firstnameinfull": lambda c: _P(c).first_name,
    "lastname": lambda c: _P(c).last_name,
    "prefix": lambda c: _P(c).prefix,
    "initials": lambda c: _P(c).initials,
    "partnerprefix": lambda c: c.rng.choice((None, "van", "de", "van der")),
    "partnername": lambda c: dutch.split_last_name(c.rng.choice(c.world.pools.last_names))[1],
    "name": _name,
    "number": _number,
    "employeetype": _employee_type,
    "reason": lambda c: END_REASONS[c.position % len(END_REASONS)],
    "group": _description,
    "gender": lambda c: _P(c).gender,
    "birthdate": lambda c: _P(c).birth_date,
    "birthday": lambda c: _P(c).birth_date,
    "email": lambda c: _P(c).email,
    "privateemail": lambda c: _P(c).email,
    "businessemail": _business_email,
    "street": lambda c: _P(c).street,
    "housenumber": lambda c: _P(c).house_number,
    "housenumberaddition": lambda c: c.rng.choice((None, None, None, "A", "B", "bis")),
    "postalcode": lambda c: _P(c).postal_code,
    "city": lambda c: _P(c).city,
    "stateprovince": lambda c: None,
    "countryisocode": lambda c: "NL",
    "codeiso": lambda c: "NL",
    "countrycode": lambda c: "NL",
    "birthcountrycodeiso": lambda c: "NL",
    "nationalitycodeiso": lambda c: "NL",
    "country": lambda c: "Nederland",
    "nationality": lambda c: "Nederlandse",
    "iban": _iban,
    "bic": lambda c: dutch.bank_of(_iban(c))[0],
    "bankname": lambda c: dutch.bank_of(_iban(c))[1],
    "bankaccountnumber": lambda c: _iban(c)[8:],
    "bsn": lambda c: _P(c).bsn,
    "socialsecuritynumber": lambda c: _P(c).bsn,
    "language": lambda c: "nl",
    "description": _description,
    "hourcodedescription": _description,
    "title": lambda c: _P(c).job_title,
    "employeenumber": lambda c: _P(c).number,
    "year": lambda c: c.year,
    "endyear": lambda c: c.year + 1,
    "period": lambda c: c.period,
    "endperiod": lambda c: 12,
    "month": lambda c: c.period,
    "hoursperweek": lambda c: _P(c).hours_per_week,
    "daysperweek": lambda c: round(_P(c).hours_per_week / 8, 1),
    "parttimepercentage": lambda c: round(_P(c).hours_per_week / 40 * 100, 1),
    "hours": lambda c: float(c.rng.choice((4, 8, 8, 16, 24, 32))),
    "days": lambda c: c.rng.randint(1, 5),
    "amountmonth": lambda c: _P(c).monthly_salary,
    "amountfourweeks": lambda c: round(_P(c).monthly_salary * 12 / 13, 2),
    "amountweek": lambda c: round(_P(c).monthly_salary * 3 / 13, 2),
    "amounthour": lambda c: round(_P(c).monthly_salary * 3 / 13 / _P(c).hours_per_week, 2),
    "value": lambda c: round(c.rng.uniform(25, 450), 2),
    "startdate": lambda c: _P(c).hire_date,
    "inservicedate": lambda c: _P(c).hire_date,
    "senioritydate": lambda c: _P(c).hire_date,
    "trialperiod": lambda c: _P(c).hire_date + timedelta(days=30),
    "enddate": lambda c: None,
    "endofservicedate": lambda c: None,
    "deceasedon": lambda c: None,
    "createdat": _moment,
    "changedat": _moment,
    "changeddate": _moment,
    "creationdate": _moment,
    "sentat": _moment,
    "percentage": lambda c: 100,
    "paymentreference": lambda c: f"{c.rng.randrange(10**15, 10**16)}",
    "licenseplate": lambda c: _plate(c.rng),
    "brand": lambda c: CARS[c.position % len(CARS)][0],
    "model": lambda c: CARS[c.position % len(CARS)][1],
    "phonenumber": lambda c: _P(c).phone,
    "privatemobilephone": lambda c: _P(c).phone,
    "mobilephonenumber": lambda c: _P(c).phone,
    "cellphone": lambda c: _P(c).phone,
    "privatephone": lambda c: dutch.phone_number(c.rng, mobile=False),
    "businessphone": lambda c: dutch.phone_number(c.rng, mobile=False),
    "businessmobilephone": lambda c: dutch.phone_number(c.rng, mobile=True),
    "otherphone": lambda c: None,
    "comment": lambda c: None,
    "filename": lambda c: f"{c.collection}-{c.position + 1}.pdf",
    "fileextension": lambda c: "pdf",
    "costperhour": lambda c: f"{c.rng.uniform(25, 95):.2f}",
    "docurl": lambda c: "https://developer.nmbrs.com/docs/errors",
}


HINTS.update({
    "code": lambda c: 100 + 10 * c.position,
    "tablename": lambda c: COLLECTIVE_AGREEMENTS[c.position % len(COLLECTIVE_AGREEMENTS)],
    "caodescription": lambda c: COLLECTIVE_AGREEMENTS[c.position % len(COLLECTIVE_AGREEMENTS)],
    "scalecode": lambda c: SCALES[c.position % len(SCALES)],
    "scaledescription": lambda c: f"Schaal {SCALES[c.position % len(SCALES)]}",
    "stepcode": lambda c: str(c.rng.randint(0, 12)),
    "stepdescription": lambda c: f"Trede {c.rng.randint(0, 12)}",
    "emergencycontact": lambda c: make_person(
        c.world, c.rng, -1, c.company or c.world.companies[0], 0).full_name,
    "emergencyphone": lambda c: dutch.phone_number(c.rng, mobile=True),
    "emergencyrelationship": lambda c: c.rng.choice(RELATIONSHIPS),
    "casemanager": lambda c: make_person(
        c.world, c.rng, -1, c.company or c.world.companies[0], 0).full_name,
    "contractleasecompany": lambda c: c.rng.choice(LEASE_COMPANIES),
    "contractnumber": lambda c: f"LC-{c.year}-{c.rng.randrange(10**5):05d}",
    "tagnumber": lambda c: f"T{c.position + 1:02d}",
    "displayperiod": lambda c: f"{c.period:02d}-{c.year}",
    "fax": lambda c: dutch.phone_number(c.rng, mobile=False),
    "scaleid": lambda c: c.world.codec.encode(Kind.RECORD, c.position, 7),
    "stepid": lambda c: c.world.codec.encode(Kind.RECORD, c.rng.randrange(64), 8),
    "href": lambda c: f"https://api.nmbrsapp.com/api/{c.collection.lower()}",
})  # fmt: skip


def hint(name: str, ctx: Ctx) -> Any:
    lowered = name.lower()
    found = HINTS.get(lowered)
    if found is not None:
        return found(ctx)
    return CODES.get(lowered, MISSING)
