"""Clause 3.3 a as a property over the published contract: whatever customers (debtors) an end
user consented to and whatever ids a client puts in a path, no answer through the gateway holds
another customer's data.

Every operation of the document with a tenant parameter (debtorId, companyId, employeeId and the
records under them: contractId, employmentId, payrollRunId, ...), any method, is called through
the real gateway in front of the real reference API, with consents over random sets of four
customers and ids drawn from the consented customers' real data (mostly records that belong
together), from another customer's real data, and made up. The oracle is the upstream's own data,
read directly (`customers.py`): an answer naming another customer's debtor, company or employee in
its path is refused 403 `40303`; a made-up debtor too; no 2xx answer names an id that is not the
consented customers', in its path or anywhere in its body. Writes (a `{}` body where one is taken)
only ever reach the four customers' own data. A sweep calls every operation once with each kind
of id; hypothesis then draws further examples (a fresh seed each run, printed).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import uuid
from collections import Counter
from dataclasses import dataclass

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from termgate.reference_api import Operation, operations
from tests.contract.conftest import Contract
from tests.contract.customers import Customers, records
from tests.support.contract_errors import error_schema_violations
from tests.support.published_answers import YEAR

UNTENANTED = {"Year", "subscriptionName", "salaryTableId", "taskId"}
ROOTS = ("debtorId", "companyId", "employeeId")
OPERATIONS = [op for op in operations() if set(op.path_params) - UNTENANTED]
MIXED = ("mixed",)
SWEEP = (("own",), ("foreign", "own"), ("own", "foreign"), ("made-up", "own"))
SWEEP_SEED = 16
EXAMPLES = 100
TENANT_NOT_COVERED = 40303
# The path parameter each one is found under (the rest: under the employee).
PARENTS = {"employeeId": "companyId", "payrollRunId": "companyId", "wageTaxId": "companyId",
           "salaryTableVersionId": "companyId"}  # fmt: skip


@dataclass(frozen=True)
class Probe:
    operation: Operation
    consent: frozenset[str]
    values: dict[str, str]  # path parameter → id
    kinds: dict[str, str]  # path parameter → own, foreign or made-up

    @property
    def path(self) -> str:
        path = self.operation.template
        for name, value in self.values.items():
            path = path.replace("{" + name + "}", value)
        return path

    def __str__(self) -> str:
        kinds = ", ".join(f"{name} {kind}" for name, kind in self.kinds.items())
        return f"{self.operation.method} {self.path} ({kinds}) for {sorted(self.consent)}"


def _candidates(
    customers: Customers, consent: frozenset[str], chosen: dict[str, tuple[str, str]], name: str,
    kind: str,
) -> list[str]:  # fmt: skip
    """Ids of `name` of the consented customers (own) or of the others (foreign); own ones
    under the own parent chosen before them in the path when it has any."""
    parent = chosen.get(PARENTS.get(name, "employeeId"))
    if kind == "own" and parent is not None and parent[1] == "own":
        held = (customers.employees.get(parent[0], []) if name == "employeeId"
                else customers.children_of(name, parent[0]))  # fmt: skip
        if held:
            return held
    debtors = [d for d in customers.debtors if (d in consent) == (kind == "own")]
    return [value for debtor in debtors for value in customers.ids_of(debtor, name)]


def probe_for(
    customers: Customers, operation: Operation, consent: frozenset[str], rng: random.Random,
    kinds: tuple[str, ...] = MIXED,
) -> Probe:  # fmt: skip
    """A call of `operation`: its n-th path parameter takes an id of kind `kinds[n]` (the last
    one for the rest; MIXED: a random kind each)."""
    chosen: dict[str, tuple[str, str]] = {}  # path parameter → (id, kind)
    for position, name in enumerate(operation.path_params):
        kind = kinds[min(position, len(kinds) - 1)]
        if kind == "mixed":
            kind = rng.choice(("own", "own", "own", "foreign", "made-up"))
        candidates = (
            [] if kind == "made-up" else _candidates(customers, consent, chosen, name, kind)
        )
        if candidates:
            chosen[name] = (rng.choice(candidates), kind)
        else:
            chosen[name] = (str(uuid.UUID(int=rng.getrandbits(128), version=4)), "made-up")
    values = {name: value for name, (value, _) in chosen.items()}
    return Probe(operation, consent, values, {name: kind for name, (_, kind) in chosen.items()})


def refused_ids(customers: Customers, probe: Probe) -> list[str]:
    """The path's debtor, company and employee ids the gateway itself must refuse (403 40303):
    another customer's, and a debtor id of no customer (a consent names its debtors)."""
    refused = []
    for name, value in probe.values.items():
        holder = customers.owner.get(value)
        nobodys = holder is None and name == "debtorId"
        if name in ROOTS and (nobodys or (holder is not None and holder not in probe.consent)):
            refused.append(name)
    return refused


def judge(customers: Customers, probe: Probe, response: httpx.Response) -> list[str]:
    """What is wrong with the answer to `probe` (nothing: an empty list)."""
    status = response.status_code
    if status >= 500:
        return [f"{status}: {response.text[:300]}"]
    refused = refused_ids(customers, probe)
    if status == 403 or refused:
        body = response.json() if status == 403 else {}
        if body.get("code") != TENANT_NOT_COVERED:
            return [f"{status} where {refused} must be refused 40303: {response.text[:300]}"]
        return error_schema_violations(body, 403)
    if not 200 <= status < 300:
        return []
    owner = customers.owner
    theirs = [name for name, value in probe.values.items() if owner.get(value) not in probe.consent]
    if theirs:
        return [f"{status} with ids of no consented customer: {theirs}"]
    if "json" not in response.headers.get("content-type", "") or not response.content:
        return []
    allowed = {"", *probe.consent}
    texts = {
        v for record in records(response.json()) for v in record.values() if isinstance(v, str)
    }
    leaked = sorted(value for value in texts if owner.get(value, "") not in allowed)
    return [f"{status} holds another customer's ids {leaked[:5]}"] if leaked else []


def send(client: httpx.Client, probe: Probe, headers: dict[str, str]) -> httpx.Response:
    operation = probe.operation
    query = {p.name: YEAR for p in operation.query_params if p.required and p.name == "year"}
    body: dict[str, object] | None = {} if operation.body_media_type is not None else None
    return client.request(operation.method, probe.path, params=query, json=body, headers=headers)


async def test_clause_3_3_a_no_answer_through_the_gateway_holds_another_customers_data(
    contract: Contract,
) -> None:
    customers = contract.customers
    four = customers.debtors[:4]
    consents = [frozenset(subset) for size in range(1, 5)
                for subset in itertools.combinations(four, size)]  # fmt: skip
    tokens = {consent: await contract.headers(*sorted(consent)) for consent in consents}
    failures: list[str] = []
    seen: set[str] = set()
    tally: Counter[int] = Counter()

    def check(client: httpx.Client, probe: Probe) -> None:
        response = send(client, probe, tokens[probe.consent])
        seen.add(probe.operation.operation_id)
        tally[response.status_code] += 1
        findings = judge(customers, probe, response)
        if findings:
            failures.append(f"{probe}: {'; '.join(findings)}")
        assert not findings, failures[-1]

    def sweep() -> None:
        """Every operation with own ids, with another customer's id first or last (the rest
        own), and with a made-up id first."""
        rng = random.Random(SWEEP_SEED)
        with httpx.Client(base_url=contract.gateway, timeout=30) as client:
            for index, operation in enumerate(OPERATIONS):
                consent = consents[index % len(consents)]
                for kinds in SWEEP:
                    with contextlib.suppress(AssertionError):  # kept in `failures`
                        check(client, probe_for(customers, operation, consent, rng, kinds))

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(operation=st.sampled_from(OPERATIONS), consent=st.sampled_from(consents),
           rng=st.randoms(use_true_random=False))  # fmt: skip
    def property(operation: Operation, consent: frozenset[str], rng: random.Random) -> None:
        with httpx.Client(base_url=contract.gateway, timeout=30) as client:
            check(client, probe_for(customers, operation, consent, rng))

    def run() -> None:
        sweep()
        property()

    try:
        await asyncio.to_thread(run)
    finally:
        seed = getattr(property, "_hypothesis_internal_use_generated_seed", None)
        print(f"hypothesis seed: {seed} (rerun with --hypothesis-seed={seed}); "
              f"{len(seen)} operations, {sum(tally.values())} calls, "
              f"statuses {dict(sorted(tally.items()))}")  # fmt: skip
    assert failures == [], f"{len(failures)} failures"
    assert len(seen) == len(OPERATIONS) == 114
