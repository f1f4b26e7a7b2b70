"""The plan's page size (clause 3.3 e), the first check of the limit step (`step.TrafficPolicy`).

The query is read with the API's own parser (`termgate.query`), so the page size the gateway
checks is the page size the API serves; when the request names none and the API's default is
larger than the plan allows (or unknown), the gateway asks for the plan's maximum explicitly.
"""

from __future__ import annotations

from termgate.gateway.exchange import Exchange, refuse
from termgate.gateway.snapshot import KeyGrant
from termgate.problems import VALIDATION, ProblemResponse
from termgate.query import QueryError, parse_query, whole_number

PAGE_SIZE = "pageSize"


def _invalid(exchange: Exchange, name: str, reason: str, detail: str = "") -> ProblemResponse:
    return refuse(
        exchange,
        VALIDATION,
        detail or f"{name} {reason}.",
        invalid_params=[{"name": name, "reason": reason}],
    )


def page_size(exchange: Exchange, grant: KeyGrant) -> ProblemResponse | None:
    """The refusal of a page larger than the plan allows; none asked for: the plan's maximum
    asked for explicitly when the API's default may be larger."""
    query = exchange.query
    try:
        parameters = parse_query(query) if query else {}
    except QueryError as error:
        return _invalid(exchange, error.name, error.reason)
    cap = grant.max_page_size
    raw = parameters.get(PAGE_SIZE)
    if raw is None:
        operation = exchange.operation
        if operation is not None and operation.paged:
            default = operation.default_page_size
            if default is None or default > cap:
                exchange.query = f"{query}&{PAGE_SIZE}={cap}" if query else f"{PAGE_SIZE}={cap}"
        return None
    size = whole_number(raw)
    if size is None:
        return _invalid(exchange, PAGE_SIZE, "must be a whole number in ASCII digits")
    if size > cap:
        reason = f"must be at most {cap}"
        return _invalid(exchange, PAGE_SIZE, reason, f"pageSize may be at most {cap} on your plan.")
    return None
