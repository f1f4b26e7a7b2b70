"""Schemathesis runs the published document against the reference API directly: no server error
and no answer off the document's schemas, status codes or media types (how the document is read
and the examples drawn: `tests/support/fuzz_contract.py`)."""

from __future__ import annotations

import httpx
from schemathesis.core.transport import Response

from termgate.reference_api import LoopbackServer
from tests.support.fuzz_contract import fuzz
from tests.support.published_answers import listed_ids

MAX_EXAMPLES = 12
# Two operations declare no 404 although their paths name something that may not exist: an
# unknown salary table, or an upload for an unknown employee, is still answered 404.
UNDECLARED_NOT_FOUND = {
    "GET /api/salarytable/{salaryTableId}",
    "POST /api/employees/{employeeId}/documents",
}


def undeclared_not_found(label: str, response: Response) -> bool:
    return label in UNDECLARED_NOT_FOUND and response.status_code == 404


def test_schemathesis_finds_no_server_error_and_no_answer_off_the_document(
    server: LoopbackServer, client: httpx.Client
) -> None:
    run = fuzz(server.url, listed_ids(client.get), undeclared_not_found, max_examples=MAX_EXAMPLES)
    print(f"schemathesis: {run.summary()}")
    assert run.failures == []
    assert (run.server_errors, run.schema_violations) == (0, 0)
    assert len(run.statuses) == 123
    assert len(run.answered()) >= 100, sorted(set(run.statuses) - run.answered())
