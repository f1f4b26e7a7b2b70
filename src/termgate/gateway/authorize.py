"""Step 3, authorize: the operation belongs to the subscribed product (clause 3.2), the token
grants one of its scope alternatives (clause 3.3 e), and the consent covers the tenant in the
path (clause 3.3 a).

A `companyId` the gateway has not seen yet cannot be decided without asking the upstream; then
`authorize` answers `LEARN_COMPANY`, the pipeline awaits the company directory and finishes with
`decide_company`. An unknown company is refused like another tenant's: the answer does not tell
whether it exists.
"""

from __future__ import annotations

from termgate.gateway.catalog import DEBTOR
from termgate.gateway.exchange import Exchange, refuse
from termgate.gateway.tenants import CompanyDirectory, canonical_id
from termgate.problems import (
    INSUFFICIENT_SCOPE,
    ONE_DEBTOR_REQUIRED,
    OPERATION_NOT_IN_PRODUCT,
    TENANT_NOT_CONSENTED,
    ProblemResponse,
)

# Not a refusal: the pipeline must look the company up first (see the module's docstring).
LEARN_COMPANY = ProblemResponse(0, b"")


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
        return None if tenant_id in bearer.debtor_ids else tenant_refused(exchange)
    owner = companies.owner.get(tenant_id)
    if owner is None:
        return LEARN_COMPANY if canonical_id(tenant_id) else tenant_refused(exchange)
    return None if owner in bearer.debtors else tenant_refused(exchange)


def decide_company(exchange: Exchange, owner: int | None) -> ProblemResponse | None:
    """The tenant decision once the directory has answered for the path's company."""
    bearer = exchange.bearer
    assert bearer is not None
    return None if owner is not None and owner in bearer.debtors else tenant_refused(exchange)
