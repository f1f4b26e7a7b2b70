"""The plan's page size (clause 3.3 e), the first check of the limit step (`step.TrafficPolicy`).

The query is read with the API's own parser (`termgate.query`), so the page size the gateway
checks is the page size the API serves; when the request names none and the API's default is
larger than the plan allows (or unknown), the gateway asks for the plan's maximum explicitly.

What a query names is remembered per query text: the same few queries recur
(`pageNumber=1&pageSize=20`), and reading one is most of this check's cost. The reading is a
pure function of the text, so a remembered answer is the answer; the memory is bounded in
entries and in the length of the queries it keeps, and emptied when full.
"""

from __future__ import annotations

from termgate.core.memo import Memo
from termgate.gateway.exchange import Exchange, refuse
from termgate.gateway.snapshot import KeyGrant
from termgate.problems import VALIDATION, ProblemResponse
from termgate.query import QueryError, parse_query, whole_number

PAGE_SIZE = "pageSize"
NOT_A_NUMBER = "must be a whole number in ASCII digits"

# The page size a query names (None: none), or the parameter at fault and why (unreadable).
Named = int | tuple[str, str] | None
# What recent queries name, each in a 1-tuple: a query that names none is remembered too.
NAMED: Memo[tuple[Named]] = Memo(capacity=4096, longest=256)


def _read(query: str) -> Named:
    try:
        raw = parse_query(query).get(PAGE_SIZE)
    except QueryError as error:
        return error.name, error.reason
    if raw is None:
        return None
    size = whole_number(raw)
    return (PAGE_SIZE, NOT_A_NUMBER) if size is None else size


def named_page_size(query: str) -> Named:
    """What `query` names for the page size, remembered (see the module's docstring)."""
    known = NAMED.get(query)
    if known is not None:
        return known[0]
    named = _read(query)
    NAMED.remember(query, (named,))
    return named


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
    named = named_page_size(query) if query else None
    cap = grant.max_page_size
    if named is None:
        operation = exchange.operation
        if operation is not None and operation.paged:
            default = operation.default_page_size
            if default is None or default > cap:
                exchange.query = f"{query}&{PAGE_SIZE}={cap}" if query else f"{PAGE_SIZE}={cap}"
        return None
    if isinstance(named, tuple):
        return _invalid(exchange, *named)
    if named > cap:
        reason = f"must be at most {cap}"
        return _invalid(exchange, PAGE_SIZE, reason, f"pageSize may be at most {cap} on your plan.")
    return None
