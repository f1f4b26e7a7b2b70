"""Step 4, limit (snapshot part): page size (clause 3.3 e) and cap on users served (4.4)."""

from __future__ import annotations

from termgate.gateway.exchange import Exchange
from termgate.gateway.traffic.page_size import page_size
from termgate.gateway.traffic.step import users_served
from termgate.problems import USERS_SERVED_CAP, VALIDATION, ProblemResponse
from tests.unit.builders import grant, operation, ready, refused_with


def limit(exchange: Exchange) -> ProblemResponse | None:
    """The snapshot's part of the limit step, in the order `TrafficPolicy.before` runs it."""
    grant = exchange.grant
    assert grant is not None
    return users_served(exchange, grant) or page_size(exchange, grant)


PAGED = operation(paged=True, default_page_size=100)


def test_clause_4_4_consent_beyond_the_cap_is_refused() -> None:
    ex = ready(grant(over_cap=frozenset({"user-1"})))
    problem = refused_with(limit(ex), USERS_SERVED_CAP, ex)
    assert problem["detail"] == (
        "This end user's consent came after your plan's cap on end users or customer "
        "accounts served was reached; upgrade the plan to serve them."
    )


def test_clause_4_4_end_user_within_the_cap_passes_whatever_consent_its_token_names() -> None:
    assert limit(ready(grant(over_cap=frozenset({"user-2", "consent-1"})))) is None


def test_clause_3_3_e_page_size_up_to_the_plan_passes() -> None:
    ex = ready(query="pageSize=50&x=1")
    assert limit(ex) is None
    assert ex.query == "pageSize=50&x=1"


def test_clause_3_3_e_page_size_over_the_plan_is_refused() -> None:
    ex = ready(query="pageSize=51")
    problem = refused_with(limit(ex), VALIDATION, ex)
    assert problem["detail"] == "pageSize may be at most 50 on your plan."
    assert problem["invalid-params"] == [{"name": "pageSize", "reason": "must be at most 50"}]


def test_clause_3_3_e_page_size_must_be_ascii_digits() -> None:
    for raw in ("١٠", "-1", "1e2", ""):
        ex = ready(query=f"pageSize={raw}")
        problem = refused_with(limit(ex), VALIDATION, ex)
        reason = "must be a whole number in ASCII digits"
        assert problem["detail"] == f"pageSize {reason}."
        assert problem["invalid-params"] == [{"name": "pageSize", "reason": reason}]


def test_clause_3_3_e_unreadable_query_is_refused() -> None:
    ex = ready(query="pageSize=1&pageSize=2")
    problem = refused_with(limit(ex), VALIDATION, ex)
    reason = "is given more than once; send it once"
    assert problem["invalid-params"] == [{"name": "pageSize", "reason": reason}]
    assert problem["detail"] == f"pageSize {reason}."


def test_clause_3_3_e_plan_maximum_is_asked_when_the_default_is_larger() -> None:
    ex = ready(op=PAGED)
    assert limit(ex) is None
    assert ex.query == "pageSize=50"
    ex = ready(op=PAGED, query="x=1")
    assert limit(ex) is None
    assert ex.query == "x=1&pageSize=50"
    ex = ready(op=operation(paged=True))
    assert limit(ex) is None
    assert ex.query == "pageSize=50"


def test_clause_3_3_e_default_within_the_plan_is_left_alone() -> None:
    for default in (50, 20):
        ex = ready(op=operation(paged=True, default_page_size=default), query="x=1")
        assert limit(ex) is None
        assert ex.query == "x=1"
    ex = ready(op=operation(paged=False), query="x=1")
    assert limit(ex) is None
    assert ex.query == "x=1"
    unresolved = ready(query="")
    unresolved.operation = None
    assert limit(unresolved) is None
    assert unresolved.query == ""
