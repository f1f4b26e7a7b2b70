"""Clause 3.3 e over the published contract: every operation of the document, any method, needs
the scope its `security` requirement names, through the gateway.

What each operation needs is read here from the document itself, as the issue states it: the
`Bearer` requirement's scopes, where a write scope listed beside its own read scope
(`employee.info` and `employee.info.read`) counts once, as the read scope, which the write scope
grants too. For every operation: a token holding just that scope is let through; a token holding
just the write scope of a read it needs is let through; a token holding just the read scope of a
write it needs, or an unrelated scope, is refused 403 `40302`, an error document of the
contract. Path ids are made up, so no request let through reaches anyone's data (it ends at the
tenant check or the API's 404).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx

from termgate.reference_api import Operation, operations
from termgate.reference_api.contract import document
from tests.contract.conftest import Contract, full_scope
from tests.support.contract_errors import assert_contract_problem

READ = ".read"
SCOPE_NOT_GRANTED = 40302
UNRELATED = ("user.info.read", "debtor.info.read")


def needed_scope(operation: Operation) -> str:
    """The one scope the operation's requirement comes to (each names one scope, or a write
    scope with its own read scope)."""
    entry = document()["paths"][operation.template][operation.method.lower()]
    (requirement,) = entry["security"]
    (listed,) = requirement.values()
    needed = {scope for scope in listed if scope + READ not in listed}
    (scope,) = needed
    return str(scope)


def expectations(operation: Operation, scopes: set[str]) -> list[tuple[str, bool]]:
    """(the one scope a token holds, whether the operation lets it through)."""
    needed = needed_scope(operation)
    cases = [(needed, True)]
    if needed.endswith(READ) and needed.removesuffix(READ) in scopes:
        cases.append((needed.removesuffix(READ), True))  # a write scope grants its read
    if not needed.endswith(READ) and needed + READ in scopes:
        cases.append((needed + READ, False))  # a read scope grants no write
    cases.append((next(s for s in UNRELATED if s != needed), False))
    return cases


def _call(client: httpx.Client, operation: Operation, headers: dict[str, str]) -> httpx.Response:
    path = operation.template
    for name in operation.path_params:
        path = path.replace("{" + name + "}", str(uuid.uuid4()))
    body: dict[str, object] | None = {} if operation.body_media_type is not None else None
    return client.request(operation.method, path, json=body, headers=headers)


def _walk(contract: Contract, tokens: dict[str, dict[str, str]]) -> tuple[list[str], Counter[str]]:
    failures: list[str] = []
    tally: Counter[str] = Counter()
    with httpx.Client(base_url=contract.gateway, timeout=30) as client:
        for operation in operations():
            for scope, let_through in expectations(operation, set(tokens)):
                response = _call(client, operation, tokens[scope])
                refused = response.status_code == 403 and response.json()["code"] == 40302
                tally["let through" if not refused else "refused"] += 1
                label = f"{operation.method} {operation.template} with {scope}"
                if refused == let_through or response.status_code >= 500:
                    failures.append(f"{label}: {response.status_code} {response.text[:200]}")
                elif refused:
                    assert_contract_problem(response.json(), 403, SCOPE_NOT_GRANTED, "3.3 e")
    return failures, tally


async def test_clause_3_3_e_every_operation_needs_the_scope_its_security_requirement_names(
    contract: Contract,
) -> None:
    customer = contract.customers.debtors[2]
    scopes = full_scope().split()
    tokens = {scope: await contract.headers(customer, scope=scope, wait=False) for scope in scopes}
    await contract.admitted(await contract.headers(customer))  # the snapshot holds them all
    failures, tally = await asyncio.to_thread(_walk, contract, tokens)
    print(f"scopes: {len(operations())} operations, {sum(tally.values())} calls, {dict(tally)}")
    assert failures == [], "\n".join(failures)
