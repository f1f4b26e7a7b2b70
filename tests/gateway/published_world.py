"""The data of the published API the gateway tests run against: `published_upstream` serves
`generate(PUBLISHED_SEED, PUBLISHED_EMPLOYEES)`, so its ids are known before it starts."""

from __future__ import annotations

from functools import cache

from termgate.reference_api import World, generate

PUBLISHED_SEED, PUBLISHED_EMPLOYEES = 7, 300
# A GUID that names no record of the world (the generator scrambles its numbers into GUIDs).
NOWHERE = "0f3c2d1e-0000-4000-8000-00000000beef"


@cache
def world() -> World:
    return generate(PUBLISHED_SEED, PUBLISHED_EMPLOYEES)


def debtor(index: int) -> str:
    """The id of the world's debtor `index` (0..4)."""
    return world().debtors[index].id


def companies(debtor_index: int) -> list[str]:
    """The ids of the companies of debtor `debtor_index`."""
    the_world = world()
    return [company.id for company in the_world.companies_of(the_world.debtors[debtor_index])]


def employees(company_id: str, count: int | None = None) -> list[str]:
    """The ids of the company's employees (the first `count` of them), in listing order."""
    the_world = world()
    company = the_world.company_by_id[company_id]
    total = the_world.employee_count(company)
    indices = the_world.employee_indices(company, 0, total if count is None else count)
    return [the_world.employee_id(index) for index in indices]
