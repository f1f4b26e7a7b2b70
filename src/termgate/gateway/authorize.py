"""Step 3, authorize: the operation belongs to the subscribed product (clause 3.2)."""

from __future__ import annotations

from termgate.gateway.exchange import Exchange, refuse
from termgate.problems import OPERATION_NOT_IN_PRODUCT, ProblemResponse


def authorize(exchange: Exchange) -> ProblemResponse | None:
    grant, operation = exchange.grant, exchange.operation
    assert grant is not None
    assert operation is not None
    if grant.operations is None or operation.operation_id in grant.operations:
        return None
    return refuse(
        exchange,
        OPERATION_NOT_IN_PRODUCT,
        f"{operation.operation_id} is not part of the {grant.product_slug} product.",
    )
