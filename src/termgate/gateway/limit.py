"""Step 4, limit, the part the snapshot decides: the plan's page size (clause 3.3 e) and its
cap on users served (clause 4.4). The counters (rate, quota, bandwidth) follow in
`limits.gate.Limits`, over the configured backend."""

from __future__ import annotations

from urllib.parse import parse_qsl

from termgate.gateway.exchange import Exchange, refuse
from termgate.problems import USERS_SERVED_CAP, VALIDATION, ProblemResponse


def limit(exchange: Exchange) -> ProblemResponse | None:
    grant = exchange.grant
    assert grant is not None
    if grant.over_cap:
        bearer = exchange.bearer
        assert bearer is not None
        if bearer.consent_id in grant.over_cap:
            return refuse(
                exchange,
                USERS_SERVED_CAP,
                "This end user's consent came after your plan's cap on end users or customer "
                "accounts served was reached; upgrade the plan to serve them.",
            )
    if "pageSize" not in exchange.query:
        return None
    for name, value in parse_qsl(exchange.query):
        if name == "pageSize" and value.isdigit() and int(value) > grant.max_page_size:
            return refuse(
                exchange,
                VALIDATION,
                f"pageSize may be at most {grant.max_page_size} on your plan.",
                invalid_params=[
                    {"name": "pageSize", "reason": f"must be at most {grant.max_page_size}"}
                ],
            )
    return None
