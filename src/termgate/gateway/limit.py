"""Step 4, limit: the plan's data caps (clause 3.3 e: no more data than needed)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from termgate.gateway.exchange import Exchange, refuse
from termgate.problems import VALIDATION, ProblemResponse


def limit(exchange: Exchange) -> ProblemResponse | None:
    grant = exchange.grant
    assert grant is not None
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
