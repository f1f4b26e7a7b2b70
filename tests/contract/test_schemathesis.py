"""Schemathesis runs the published document against the gateway in front of the reference API,
with a key and a token holding every scope of the document over one customer (the last of the
upstream: the writes the fuzzer makes stay in that customer's data): 0 server errors and 0
schema violations.

The gateway's own refusals are answers of the API too: where the document declares their status
they are checked against the declared response like any other answer; wherever they come, they
must be error documents of the contract's model (`components/responses`, termgate's `clause`
added). One check, `status_code_conformance`, is left out for some answers, each for a reason:
- a 404 of the two operations whose paths name something that may not exist yet declare no 404
  (as in the reference API's own run);
- the gateway's 403 `40303` (clause 3.3 a) on an operation that declares no 403
  (`GET /api/salarytable/{salaryTableId}` declares only 200, `POST
  /api/employees/{employeeId}/documents` only 201): a made-up employee id is not the consenting
  customer's, and refusing it is what the terms require of the gateway whatever the document
  lists;
- the gateway's 400 for a request it refuses before any operation sees it (a path holding
  control characters, clause 3.3 c) on an operation that declares no 400 (the salary table
  above, and the PUTs of an employee's department, manager, contract, employment and cost
  center): no upstream could answer such a request either.
Those answers are still checked against the contract's error document of their status.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field

import httpx
from schemathesis.core.transport import Response

from termgate.reference_api import operations
from tests.contract.conftest import Contract
from tests.support.contract_errors import error_schema_violations
from tests.support.fuzz_contract import fuzz, media_type
from tests.support.published_answers import listed_ids

MAX_EXAMPLES = 8
UNDECLARED_NOT_FOUND = {
    "GET /api/salarytable/{salaryTableId}",
    "POST /api/employees/{employeeId}/documents",
}
TENANT_NOT_COVERED = 40303
DECLARED = {f"{op.method} {op.template}": op.statuses for op in operations()}


def _problem(response: Response) -> dict[str, object] | None:
    """The gateway's own refusal (a problem document naming its clause), else None."""
    if response.status_code < 400 or media_type(response) != "application/json":
        return None
    body = json.loads(response.content)
    return body if isinstance(body, dict) and "clause" in body else None


@dataclass
class Exclusions:
    """Which answers `status_code_conformance` leaves out, and a tally of those whose status
    the operation indeed does not declare."""

    excused: Counter[str] = field(default_factory=Counter)

    def __call__(self, label: str, response: Response) -> bool:
        status = response.status_code
        problem = _problem(response)
        left_out = (label in UNDECLARED_NOT_FOUND and status == 404) or (
            problem is not None and (status == 400 or problem.get("code") == TENANT_NOT_COVERED)
        )
        if left_out and status not in DECLARED[label]:
            self.excused[f"{status} {label}"] += 1
        return left_out


def judge(label: str, response: Response) -> list[str]:
    """A refusal of the gateway's is an error document of the contract for its status."""
    problem = _problem(response)
    if problem is None:
        return []
    return [f"{response.status_code}: {v}" for v in error_schema_violations(
        problem, response.status_code)]  # fmt: skip


async def test_clause_3_2_schemathesis_through_the_gateway_finds_no_server_error_and_no_answer_off_the_document(  # noqa: E501
    contract: Contract,
) -> None:
    customer = contract.customers.debtors[-1]
    headers = await contract.headers(customer)
    with httpx.Client(base_url=contract.gateway, headers=headers, timeout=30) as client:
        known = await asyncio.to_thread(listed_ids, client.get, customer)
    exclusions = Exclusions()
    run = await asyncio.to_thread(
        fuzz, contract.gateway, known, exclusions, headers=headers,
        max_examples=MAX_EXAMPLES, judge=judge,
    )  # fmt: skip
    print(f"schemathesis through the gateway: {run.summary()}; "
          f"undeclared statuses left out: {dict(exclusions.excused)}")  # fmt: skip
    assert run.failures == [], f"{len(run.failures)} failures"
    assert (run.server_errors, run.schema_violations) == (0, 0)
    assert len(run.statuses) == 123
    assert len(run.answered()) >= 100, sorted(set(run.statuses) - run.answered())
