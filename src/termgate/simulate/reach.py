"""Whom a scenario's consents reach: the logins that consent to its applications (a harvester
wins more of them until it reaches the breadth it seeks), and the debtors, companies and
employees those logins open to it, with the foreign ids beside them that a prober tries."""

from __future__ import annotations

import random

from termgate.reference_api import World
from termgate.simulate.plays import Reach
from termgate.simulate.scenarios import Scenario


def reach_of(world: World, logins: list[str], apps: int) -> Reach:
    users = {user.username: user for user in world.end_users}
    debtors = tuple(dict.fromkeys(d for name in logins for d in users[name].debtor_ids))
    companies = {d.id: tuple(c.id for c in world.companies_of(d)) for d in world.debtors}
    employees = {
        c.id: tuple(
            world.employee_id(i) for i in world.employee_indices(c, 0, world.employee_count(c))
        )
        for c in world.companies
    }
    covered_by: dict[str, int] = {}
    for index, name in enumerate(logins):
        for debtor in users[name].debtor_ids:
            for company in companies[debtor]:
                covered_by.update(dict.fromkeys((debtor, company, *employees[company]), index))
    foreign = tuple(d.id for d in world.debtors if d.id not in debtors)
    foreign_companies = tuple(c for d in foreign for c in companies[d])
    return Reach(
        debtors,
        {d: companies[d] for d in debtors},
        {c: employees[c] for d in debtors for c in companies[d]},
        foreign,
        foreign_companies,
        tuple(e for c in foreign_companies for e in employees[c][:20]),
        tuple(users),
        apps,
        covered_by,
    )


def employees_reached(world: World, logins: list[str]) -> int:
    users = {user.username: user for user in world.end_users}
    debtors = {d for name in logins for d in users[name].debtor_ids}
    return sum(
        world.employee_count(c)
        for d in world.debtors
        if d.id in debtors
        for c in world.companies_of(d)
    )


def choose_logins(world: World, scenario: Scenario) -> list[str]:
    """`scenario.logins` of the world's logins; a scenario whose notes ask to reach at least so
    many employees (a harvester seeks breadth) wins the consent of more logins until it does."""
    rng = random.Random(f"{scenario.seed}:{scenario.name}:logins")
    names = [user.username for user in world.end_users]
    chosen = rng.sample(names, min(scenario.logins, len(names)))
    wanted = scenario.notes.get("reach_at_least")
    others = [name for name in names if name not in chosen]
    rng.shuffle(others)
    for name in others:
        if not isinstance(wanted, int) or employees_reached(world, chosen) >= wanted:
            break
        chosen.append(name)
    return chosen
