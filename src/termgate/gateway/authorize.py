"""Step 3, authorize: the operation belongs to the subscribed product (clause 3.2), the token
grants one of its scope alternatives (clause 3.3 e), and the consent covers every tenant id in
the path (clause 3.3 a).

The tenant check (`tenancy.check`) decides from memory what the gateway has learnt of the
upstream's listings. An id it has not placed yet cannot be decided without asking the upstream;
then `authorize` leaves it in `exchange.unplaced` and the pipeline awaits `resolve_tenant`, the
step's asynchronous half (one walk of the listings under the consent, then remembered). An id
of another customer is refused (403 40303); one the listings prove exists nowhere is the
upstream's own 404.
"""

from __future__ import annotations

from termgate.core.tenant_ids import clipped
from termgate.gateway.exchange import Exchange, refuse, upstream_failed
from termgate.gateway.tenancy.check import TenantRefusal, check_path, settle
from termgate.gateway.tenancy.resolver import TenantResolver
from termgate.problems import (
    INSUFFICIENT_SCOPE,
    ONE_DEBTOR_REQUIRED,
    OPERATION_NOT_IN_PRODUCT,
    TENANT_NOT_CONSENTED,
    UPSTREAM_ERROR,
    ProblemResponse,
)
from termgate.upstream_client.pool import UpstreamError


def _insufficient_scope(exchange: Exchange) -> ProblemResponse:
    operation, bearer = exchange.operation, exchange.bearer
    assert operation is not None
    assert bearer is not None
    required = list(operation.required_scopes)
    problem = refuse(
        exchange,
        INSUFFICIENT_SCOPE,
        f"{operation.operation_id} needs one of the scopes {', '.join(required)}; "
        "the end user did not grant it to your application.",
        required=required,
        granted=list(bearer.scopes),
    )
    challenge = f'Bearer realm="termgate", error="insufficient_scope", scope="{required[0]}"'
    problem.headers.append(("www-authenticate", challenge))
    return problem


def tenant_refused(exchange: Exchange, refusal: TenantRefusal) -> ProblemResponse:
    operation = exchange.operation
    assert operation is not None
    if not refusal.parameter:
        detail = f"{operation.operation_id} cannot be checked: {refusal.reason}."
        return refuse(exchange, TENANT_NOT_CONSENTED, detail)
    detail = f"{refusal.parameter} {clipped(refusal.value)} is {refusal.reason}."
    invalid = [{"name": refusal.parameter, "reason": refusal.reason}]
    return refuse(exchange, TENANT_NOT_CONSENTED, detail, invalid_params=invalid)


def authorize(exchange: Exchange, resolver: TenantResolver) -> ProblemResponse | None:
    grant, operation, bearer = exchange.grant, exchange.operation, exchange.bearer
    assert grant is not None
    assert operation is not None
    assert bearer is not None
    if grant.operations is not None and operation.operation_id not in grant.operations:
        return refuse(
            exchange,
            OPERATION_NOT_IN_PRODUCT,
            f"{operation.operation_id} is not part of the {grant.product_slug} product.",
        )
    alternatives = operation.scope_alternatives
    if alternatives:
        any_scope = operation.any_scope
        granted = bearer.granted
        if (
            any_scope.isdisjoint(granted)
            if any_scope is not None
            else not any(alternative <= granted for alternative in alternatives)
        ):
            return _insufficient_scope(exchange)
    plan = operation.tenancy
    if not plan.tenants and plan.refusal is None:
        if plan.one_root and bearer.several_debtors:
            return refuse(
                exchange,
                ONE_DEBTOR_REQUIRED,
                f"The end user's consent spans several debtors; {operation.operation_id} answers "
                "for one. List per debtor: GET /api/debtors/{debtorId}/companies.",
            )
        return None
    roots = resolver.consent_roots(bearer.debtors)
    decided = check_path(plan, exchange.tenant_ids, roots, resolver)
    if decided is None:
        return None
    if isinstance(decided, TenantRefusal):
        return tenant_refused(exchange, decided)
    exchange.unplaced = decided  # decided by `resolve_tenant`
    return None


async def resolve_tenant(exchange: Exchange, resolver: TenantResolver) -> ProblemResponse | None:
    """The tenant decision for the ids `authorize` left unplaced: the resolver walks the
    upstream's listings under the consent (clause 3.3 a)."""
    bearer, unplaced = exchange.bearer, exchange.unplaced
    assert bearer is not None
    assert unplaced is not None
    try:
        refusal = await settle(unplaced, resolver.consent_roots(bearer.debtors), resolver)
    except UpstreamError as error:
        return upstream_failed(exchange, UPSTREAM_ERROR, error)
    return None if refusal is None else tenant_refused(exchange, refusal)
