"""Step 2, admit: nothing between the key and its developer is suspended (clause 3.1), and the
developer has accepted the current terms where their deadline has passed (clause 9)."""

from __future__ import annotations

from termgate.db.models import Status
from termgate.gateway.exchange import Exchange, refuse
from termgate.problems import SUSPENDED, TERMS_NOT_ACCEPTED, ProblemResponse

ACTIVE = Status.ACTIVE


def admit(exchange: Exchange) -> ProblemResponse | None:
    grant = exchange.grant
    assert grant is not None
    deadline = grant.terms_deadline
    if deadline is not None and exchange.started_at >= deadline:
        return refuse(
            exchange,
            TERMS_NOT_ACCEPTED,
            "Your developer account has not accepted the current API Terms of Use and their "
            "re-acceptance deadline has passed; accept them in the developer portal.",
        )
    if (
        grant.key_status is ACTIVE
        and grant.subscription_status is ACTIVE
        and grant.application_status is ACTIVE
        and grant.developer_status is ACTIVE
    ):
        return None
    for party, status in (
        ("developer account", grant.developer_status),
        ("application", grant.application_status),
        ("subscription", grant.subscription_status),
        ("subscription key", grant.key_status),
    ):
        if status is not ACTIVE:
            return refuse(
                exchange, SUSPENDED, f"The {party} is {status.value}; see your portal inbox."
            )
    return None
