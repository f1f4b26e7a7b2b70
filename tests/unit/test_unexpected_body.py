"""A body on an operation the API describes without one (clause 3.2, 40003): refused before
anything is counted. The server hands the headers over with lower-case names."""

from __future__ import annotations

import pytest

from termgate.gateway.catalog import Operation
from termgate.gateway.exchange import Exchange
from termgate.gateway.identify import unexpected_body
from termgate.problems import UNEXPECTED_BODY, ProblemResponse
from tests.unit.builders import exchange, operation, refused_with

BODILESS_OP = operation(accepts_body=False)
BODY_OP = operation(accepts_body=True)


def check(
    method: str, headers: dict[str, str], op: Operation | None = BODILESS_OP
) -> tuple[Exchange, ProblemResponse | None]:
    ex = exchange(method=method, headers=headers)
    ex.operation = op
    return ex, unexpected_body(ex)


@pytest.mark.parametrize("method", ["GET", "HEAD", "DELETE", "OPTIONS"])
def test_clause_3_2_content_length_on_a_bodiless_operation_is_refused(method: str) -> None:
    ex, response = check(method, {"content-length": "5"})
    problem = refused_with(response, UNEXPECTED_BODY, ex)
    assert problem["detail"] == f"{method} requests here take no body."


def test_clause_3_2_chunked_body_without_a_length_is_refused() -> None:
    ex, response = check("GET", {"transfer-encoding": "chunked"})
    refused_with(response, UNEXPECTED_BODY, ex)


def test_clause_3_2_chunked_body_with_a_zero_length_is_refused() -> None:
    ex, response = check("DELETE", {"content-length": "0", "transfer-encoding": "chunked"})
    refused_with(response, UNEXPECTED_BODY, ex)


@pytest.mark.parametrize(
    "headers", [{}, {"content-length": "0"}, {"accept": "application/json"}], ids=str
)
def test_clause_3_2_bodiless_request_passes(headers: dict[str, str]) -> None:
    ex, response = check("GET", headers)
    assert response is None
    assert (ex.status, ex.code) == (0, None)


def test_clause_3_2_body_passes_where_the_api_describes_one() -> None:
    """A GET the API describes with a request body forwards it (the catalog decides, not the
    method)."""
    ex, response = check("GET", {"content-length": "5"}, BODY_OP)
    assert response is None
    assert ex.code is None


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_clause_3_2_body_methods_are_not_judged_here(method: str) -> None:
    """A POST to an operation described without a body is the upstream's to validate: the rule
    is for the methods whose body the upstream would not read."""
    assert check(method, {"content-length": "5"})[1] is None
    assert check(method, {"transfer-encoding": "chunked"})[1] is None
