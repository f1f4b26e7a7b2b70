"""Clause 3.3 a as a property of the tenant check: whatever consents several customers' end users
hold and whatever ids their clients put in paths, no id of another customer passes.

Random tenant trees (debtors → companies → employees, GUIDs, some listed in upper case), random
consents over them sharing one resolver, and random probes: the consent's own ids, other
customers' ids, ids that exist nowhere, other spellings of real ids, in lower, upper and mixed
case, with the clock moving across the refresh period and memory bounds from tiny to large.
Each probe must be decided right, cost at most one walk of any listing, and cost nothing when
asked again; memory never exceeds its bound.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from termgate.gateway.tenancy.check import TenantRefusal, check_path, settle
from termgate.gateway.tenancy.config import consent_roots, load_tenancy
from termgate.gateway.tenancy.resolver import TenantResolver
from tests.support.tenant_upstream import TenantTree, guid

PUBLISHED = load_tenancy()
TEMPLATES = {
    "debtor": "/api/debtors/{debtorId}/companies",
    "company": "/api/companies/{companyId}/employees",
    "employee": "/api/employees/{employeeId}/annualstatement",
    "both": "/api/companies/{companyId}/employees/{employeeId}/absences",
    "child": "/api/employees/{employeeId}/contracts/{contractId}",
}
FIRST = "pageNumber=1&"
LARGE = 100_000  # memory for every id of the tree: nothing learnt is dropped
SOURCES = ("own", "foreign", "nowhere", "other spelling")
CASES = ("lower", "upper", "mixed")

Probe = tuple[str, str, str, str, int, float]
probes = st.tuples(
    st.sampled_from(sorted(TEMPLATES)),
    st.sampled_from(SOURCES),
    st.sampled_from(SOURCES[:3]),  # the second id of a path naming two tenants
    st.sampled_from(CASES),
    st.integers(0, 2**32),
    st.sampled_from([0.0, 1.0, 31.0]),
)


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def spell(value: str, case: str, rng: random.Random) -> str:
    if case == "upper":
        return value.upper()
    if case == "mixed":
        return "".join(c.upper() if rng.random() < 0.5 else c for c in value)
    return value


def other_spelling(value: str, rng: random.Random) -> str:
    """The same GUID as an upstream's parser might still read it (or nearly)."""
    forms = ["{%s}", "(%s)", " %s", "%s ", "urn:uuid:%s", "%s0", "%s\n"]
    if rng.random() < 0.3:
        return value.replace("-", "")
    return rng.choice(forms) % value


class World:
    def __init__(self, tree: TenantTree, rng: random.Random) -> None:
        self.tree, self.rng = tree, rng

    def owner(self, kind: str, value: str) -> str | None:
        """The debtor that truly owns an id (any case), None if it exists nowhere."""
        value = value.lower()
        if kind == "debtor":
            return value if value in self.tree.debtors else None
        if kind == "company":
            return self.tree.companies.get(value)
        company = self.tree.employees.get(value)
        return self.tree.companies[company] if company else None

    def pick(self, kind: str, source: str, consent: frozenset[str]) -> tuple[str, str]:
        """An id of that source, and the source it really has (a consent whose companies
        employ no one has no own employee: then one that exists nowhere)."""
        tree, rng = self.tree, self.rng
        pool = {
            "debtor": {d: d for d in tree.debtors},
            "company": dict(tree.companies),
            "employee": {e: tree.companies[c] for e, c in tree.employees.items()},
        }[kind]
        wanted = [i for i, d in pool.items() if (d in consent) == (source != "foreign")]
        if source == "nowhere" or not wanted:
            return guid(rng), "nowhere"
        return rng.choice(sorted(wanted)), source


async def run(seed: int, capacity: int, page_size: int, asked: list[Probe]) -> None:
    rng = random.Random(seed)
    tree = TenantTree.generate(seed, debtors=rng.randint(2, 5), companies=3, employees=12)
    world = World(tree, rng)
    clock = Clock()
    config = dataclasses.replace(PUBLISHED, page_size=page_size)
    tenants = TenantResolver(
        config, tree.fetch, capacity=capacity, refresh_seconds=30.0, clock=clock
    )
    for template_name, source, second_source, case, choice, later in asked:
        clock.now += later
        rng.seed(choice)
        consent = frozenset(d for d in tree.debtors if rng.random() < 0.5) or {tree.debtors[0]}
        roots = consent_roots(config, consent)
        kinds = [name for name, _ in config.plan(TEMPLATES[template_name]).tenants]
        params: dict[str, str] = {"contractId": guid(rng)}
        truths: list[tuple[str, str, str]] = []  # (parameter, kind, source)
        for index, parameter in enumerate(kinds):
            kind = parameter.removesuffix("Id")
            chosen = source if index == len(kinds) - 1 else second_source
            respelt = chosen == "other spelling"
            picked, chosen = world.pick(kind, "own" if respelt else chosen, consent)
            value = spell(picked, case, rng)
            params[parameter] = other_spelling(value, rng) if respelt else value
            truths.append((parameter, kind, "other spelling" if respelt else chosen))

        plan = config.plan(TEMPLATES[template_name])
        decided = check_path(plan, plan.ids_of(params), roots, tenants)
        if isinstance(decided, tuple):
            unplaced, decided = decided, None
            for one in unplaced:  # each unknown id: at most one walk of any listing
                before = len(tree.requests)
                decided = decided or await settle((one,), roots, tenants)
                walks = Counter(t.split("?")[0] for t in tree.requests[before:] if FIRST in t)
                assert all(count == 1 for count in walks.values()), walks

        allowed = decided is None
        for parameter, kind, chosen in truths:
            owner = world.owner(kind, params[parameter])
            if chosen == "other spelling":
                assert not allowed, params  # never forwarded: the upstream might read it
            elif allowed:  # no id of another customer passes (40303 otherwise)
                assert owner in roots or (owner is None and kind == "company"), params
        if all(chosen == "own" for _, _, chosen in truths):
            assert allowed, (params, decided)
        if not allowed:
            assert isinstance(decided, TenantRefusal)

        if allowed and capacity >= LARGE:  # asked again at once: decided without the upstream
            repeat = len(tree.requests)
            again = check_path(plan, plan.ids_of(params), roots, tenants)
            if isinstance(again, tuple):
                again = await settle(again, roots, tenants)
            assert again is None
            assert len(tree.requests) == repeat
        assert all(len(owners) <= capacity for owners in tenants.owners.values())
        assert tenants.rosters.total <= capacity


@given(
    seed=st.integers(0, 2**32),
    capacity=st.sampled_from([10, 60, LARGE]),
    page_size=st.sampled_from([4, 100]),
    asked=st.lists(probes, min_size=1, max_size=25),
)
@settings(max_examples=200, deadline=None)
def test_clause_3_3_a_no_id_of_another_customer_passes_the_tenant_check(
    seed: int, capacity: int, page_size: int, asked: list[Probe]
) -> None:
    asyncio.run(run(seed, capacity, page_size, asked))
