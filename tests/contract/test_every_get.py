"""Every GET operation of the published document, through the gateway, with a token holding every
scope of the document over two consented customers: each answer's status and body validate
against the document (the same check the reference API's own walk uses), with real ids read from
the listings through the gateway. A cross-customer listing the contract answers for one debtor
only refuses the two-customer token with 403 `40306` (itself a document of the contract's error
model) and is walked again with a one-customer token.
"""

from __future__ import annotations

import asyncio
import re

import httpx

from termgate.reference_api import Operation, operations
from tests.contract.conftest import Contract
from tests.contract.customers import records
from tests.support.contract_errors import error_schema_violations
from tests.support.published_answers import YEAR, answer_errors, listed_ids

GETS = [op for op in operations() if op.method == "GET"]
SINGLE_DEBTOR = 40306


def _path(operation: Operation, ids: dict[str, str]) -> str:
    return re.sub(r"\{([^{}]+)\}", lambda m: ids[m.group(1)], operation.template)


def _single_debtor_refusal(operation: Operation, response: httpx.Response) -> bool:
    """Whether the answer is the gateway's `40306` (a valid one: the test fails otherwise)."""
    if response.status_code != 403 or response.json().get("code") != SINGLE_DEBTOR:
        return False
    assert answer_errors(operation, response) == [], response.text
    assert error_schema_violations(response.json(), 403) == [], response.text
    assert not operation.path_params, f"{operation.template} names its tenant, yet 40306"
    return True


def _check(operation: Operation, response: httpx.Response, contract: Contract,
           consented: set[str]) -> None:  # fmt: skip
    label = f"{operation.operation_id} {response.request.url}"
    assert response.status_code == operation.status, f"{label}: {response.text}"
    assert answer_errors(operation, response) == [], label
    if operation.kind == "list":
        body = response.json()
        assert body["pagination"]["totalRecords"] >= len(body["data"]), label
        owners = {contract.customers.owner.get(value) for record in records(body)
                  for value in record.values() if isinstance(value, str)}  # fmt: skip
        assert owners - {None} <= consented, f"{label}: another customer's ids"
    if operation.kind == "document":
        assert response.content.startswith(b"%PDF-1.4"), label
        assert response.content.rstrip().endswith(b"%%EOF"), label


def _walk(contract: Contract, two: dict[str, str], one: dict[str, str]) -> list[str]:
    """Walks every GET; returns the operations that needed the one-customer token."""
    consented = set(contract.customers.debtors[:2])
    single: list[str] = []
    with (
        httpx.Client(base_url=contract.gateway, headers=two, timeout=30) as client,
        httpx.Client(base_url=contract.gateway, headers=one, timeout=30) as one_debtor,
    ):
        ids = listed_ids(client.get, contract.customers.debtors[0])
        for operation in GETS:
            path = _path(operation, ids)
            query = {p.name: YEAR for p in operation.query_params
                     if p.required and p.name == "year"}  # fmt: skip
            response = client.get(path, params=query)
            if _single_debtor_refusal(operation, response):
                single.append(f"{operation.method} {operation.template}")
                response = one_debtor.get(path, params=query)
            _check(operation, response, contract, consented)
    return single


async def test_clause_3_3_a_every_get_operation_through_the_gateway_answers_within_the_document(
    contract: Contract,
) -> None:
    first, second = contract.customers.debtors[:2]
    two = await contract.headers(first, second)
    one = await contract.headers(first)
    single = await asyncio.to_thread(_walk, contract, two, one)
    print(f"walked {len(GETS)} GET operations through the gateway; "
          f"{len(single)} with a one-customer token after 40306: {single}")  # fmt: skip
    assert len(GETS) == 84
    assert "GET /api/companies" in single
