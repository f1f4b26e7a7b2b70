"""Step 3, authorize: the operation belongs to the subscribed product (clause 3.2), the token
grants one of its scope alternatives (clause 3.3 e), and the consent covers the tenant in the
path (clause 3.3 a).

A `companyId` the gateway has not seen yet cannot be decided without asking the upstream; then
`authorize` marks the exchange `company_pending` and the pipeline awaits `resolve_tenant`, the
step's asynchronous half (one upstream lookup, then remembered). An unknown company is refused
like another tenant's: the answer does not tell whether it exists.

Debtor ids compare as canonical strings (`termgate.core.tenant_ids`): the bearer's set holds
them, made once per token. A path's id found in that set as written is canonical by definition
(one set lookup, no parsing); only a miss is canonicalised, so `ABC…` finds the consented
`abc…` while `01001`, `1001 ` or `1001,1002` find nothing and are refused.
"""

from __future__ import annotations

from termgate.core.tenant_ids import debtor_id
from termgate.gateway.catalog import DEBTOR
from termgate.gateway.exchange import Exchange, refuse
from termgate.gateway.tenants import CompanyDirectory, canonical_id
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


def tenant_refused(exchange: Exchange) -> ProblemResponse:
    operation = exchange.operation
    assert operation is not None
    return refuse(
        exchange,
        TENANT_NOT_CONSENTED,
        f"The end user's consent does not cover {operation.tenant} {exchange.tenant_id}.",
    )


def authorize(exchange: Exchange, companies: CompanyDirectory) -> ProblemResponse | None:
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
    tenant = operation.tenant
    if tenant is None:
        if operation.single_debtor and bearer.several_debtors:
            return refuse(
                exchange,
                ONE_DEBTOR_REQUIRED,
                f"The end user's consent spans several debtors; {operation.operation_id} answers "
                "for one. List per debtor: GET /api/debtors/{debtorId}/companies.",
            )
        return None
    tenant_id = exchange.tenant_id
    assert tenant_id is not None
    if tenant == DEBTOR:
        debtors = bearer.debtors  # a hit as written needs no parsing; only a miss is parsed
        if tenant_id in debtors or debtor_id(tenant_id) in debtors:
            return None
        return tenant_refused(exchange)
    owner = companies.owner.get(tenant_id)
    if owner is None:
        if not canonical_id(tenant_id):
            return tenant_refused(exchange)
        exchange.company_pending = True  # decided by `resolve_tenant`
        return None
    return None if owner in bearer.debtors else tenant_refused(exchange)


async def resolve_tenant(exchange: Exchange, companies: CompanyDirectory) -> ProblemResponse | None:
    """The tenant decision for a company `authorize` left pending: the directory asks the
    upstream which debtor owns it (clause 3.3 a)."""
    bearer, tenant_id = exchange.bearer, exchange.tenant_id
    assert bearer is not None
    assert tenant_id is not None
    try:
        owner = await companies.learn(tenant_id)
    except UpstreamError as error:
        return refuse(exchange, UPSTREAM_ERROR, str(error))
    return None if owner is not None and owner in bearer.debtors else tenant_refused(exchange)
