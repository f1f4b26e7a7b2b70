"""Step 1, identify: the subscription key (clause 2) and the API operation asked for."""

from __future__ import annotations

from termgate.gateway.catalog import Catalog
from termgate.gateway.exchange import Exchange, refuse
from termgate.gateway.snapshot import AccessSnapshot
from termgate.problems import (
    METHOD_NOT_ALLOWED,
    MISSING_KEY,
    UNKNOWN_KEY,
    UNKNOWN_OPERATION,
    ProblemResponse,
)
from termgate.registry.secrets import hash_key

KEY_HEADER = "x-subscription-key"


def identify(
    exchange: Exchange, snapshot: AccessSnapshot, catalog: Catalog
) -> ProblemResponse | None:
    key = exchange.headers.get(KEY_HEADER)
    if not key:
        return refuse(
            exchange, MISSING_KEY, "Send your subscription key in the X-Subscription-Key header."
        )
    grant = snapshot.keys.get(hash_key(key))
    if grant is None:
        return refuse(exchange, UNKNOWN_KEY, "This subscription key is unknown or was revoked.")
    exchange.grant = grant
    operation = catalog.match(exchange.method, exchange.path)
    if operation is None:
        allowed = catalog.allowed_methods(exchange.path)
        if allowed:
            problem = refuse(
                exchange, METHOD_NOT_ALLOWED, f"{exchange.path} allows {', '.join(allowed)}."
            )
            problem.headers.append(("allow", ", ".join(allowed)))
            return problem
        return refuse(
            exchange,
            UNKNOWN_OPERATION,
            f"{exchange.method} {exchange.path} is not part of the API.",
        )
    exchange.operation = operation
    return None
