"""GUID debtor ids in access tokens and at the gateway (clause 3.3 a): the `debtors` claim is a
list of strings compared in canonical form; a token issued before ids were strings (a list of
integers) is still honoured, read as decimal strings; a claim that is neither is refused."""

from __future__ import annotations

import pytest

from termgate.core.wire import DEBTORS_HEADER
from termgate.gateway.authorize import authorize
from termgate.gateway.bearer import BearerTokens
from termgate.gateway.catalog import Operation
from termgate.gateway.tenancy.resolver import TenantResolver
from termgate.identity.tokens import TokenError, VerifiedTokens
from termgate.problems import TENANT_NOT_CONSENTED
from tests.unit.builders import PUBLISHED_TENANCY, bearer, operation, ready, refused_with, resolver
from tests.unit.tokens_support import ISSUED_AT, ISSUER, claims, jwks, raw_token, token

GUID = "5b6a77c7-6abe-4f31-93dc-2692169e3ea4"
OTHER = "0f3c2d1e-0000-4000-8000-00000000beef"
COMPANY, OTHER_COMPANY = (
    "a1b2c3d4-0000-4000-8000-000000000030",
    "a1b2c3d4-0000-4000-8000-000000000031",
)


def published(template: str, operation_id: str) -> Operation:
    return operation(template, operation_id=operation_id, tenancy=PUBLISHED_TENANCY.plan(template))


DEBTOR_OP = published("/api/debtors/{debtorId}/companies", "getCompanies")
COMPANY_OP = published("/api/companies/{companyId}/employees", "listCompanyEmployees")


def directory(owner: dict[str, str] | None = None) -> TenantResolver:
    return resolver(owner, config=PUBLISHED_TENANCY)


def test_clause_3_3_a_a_token_carries_guid_debtors_as_canonical_strings() -> None:
    verified = VerifiedTokens(jwks(), ISSUER).verify(token(debtors=(GUID.upper(), "7")), ISSUED_AT)
    assert verified.debtors == {GUID, "7"}
    signed = raw_token(claims(debtors=[GUID.upper(), OTHER]))
    assert VerifiedTokens(jwks(), ISSUER).verify(signed, ISSUED_AT).debtors == {GUID, OTHER}


def test_clause_3_3_a_a_token_issued_with_integer_debtors_is_still_honoured() -> None:
    """Tokens minted before ids were strings carry `"debtors": [1001, 1002]`: they live up to
    an hour, and running integrations must not fail for it."""
    old = raw_token(claims(debtors=[1002, 1001], scope="employee.info.read"))
    verified = VerifiedTokens(jwks(), ISSUER).verify(old, ISSUED_AT)
    assert verified.debtors == {"1001", "1002"}
    at_gateway = BearerTokens(jwks(), ISSUER).bearer(f"Bearer {old}", ISSUED_AT)
    assert at_gateway.debtors == {"1001", "1002"}
    assert f"{DEBTORS_HEADER}: 1001,1002\r\n" in at_gateway.upstream_headers
    # An API with integer debtors (the reference tenancy of `ready`'s operation) honours them.
    assert authorize(ready(token=at_gateway, tenant_id="1001"), resolver()) is None
    ex = ready(token=at_gateway, tenant_id="1003", path="/api/debtors/1003/employees")
    refused_with(authorize(ex, resolver()), TENANT_NOT_CONSENTED, ex)


@pytest.mark.parametrize(
    "debtors",
    [
        ["1001,1002"],
        ["1001 "],
        ["01001"],
        ["x"],
        [f"{GUID}\r\nx-termgate-user: 1"],
        ["{" + GUID + "}"],
        [-1],
        [True],
        [1.5],
        [None],
        [[1001]],
        7,
        "1001",
        {"1001": True},
    ],
)
def test_clause_3_3_a_a_debtors_claim_of_anything_else_is_refused(debtors: object) -> None:
    with pytest.raises(TokenError, match=r"^the token's debtors claim is not valid: "):
        VerifiedTokens(jwks(), ISSUER)._verify_signature(raw_token(claims(debtors=debtors)))


def test_clause_3_3_a_the_upstream_header_names_canonical_ids_only() -> None:
    signed = token(debtors=(GUID.upper(), "1001", OTHER))
    prepared = BearerTokens(jwks(), ISSUER).bearer(f"Bearer {signed}", ISSUED_AT)
    assert prepared.upstream_headers == (
        f"x-termgate-user: 11\r\n{DEBTORS_HEADER}: 1001,{OTHER},{GUID}\r\n"
    )


def test_clause_3_3_a_a_guid_debtor_in_the_path_is_compared_canonically() -> None:
    mine = bearer(debtors=frozenset({GUID}))
    for spelled in (GUID, GUID.upper(), "5B6a77C7-6ABE-4f31-93DC-2692169e3ea4"):
        ex = ready(token=mine, op=DEBTOR_OP, tenant_id=spelled)
        assert authorize(ex, directory()) is None, spelled
    lookalikes = (
        OTHER,
        "{" + GUID + "}",
        GUID.replace("-", ""),
        f"{GUID},{OTHER}",
        f"{GUID} ",
        f"{GUID}\x00",
        GUID[:-1],
    )
    for spelled in lookalikes:
        ex = ready(token=mine, op=DEBTOR_OP, tenant_id=spelled)
        refused_with(authorize(ex, directory()), TENANT_NOT_CONSENTED, ex)


def test_clause_3_3_a_a_company_of_a_guid_debtor_is_covered_by_its_string() -> None:
    mine = bearer(debtors=frozenset({GUID}))
    owners = {COMPANY: GUID, OTHER_COMPANY: OTHER}
    own = ready(token=mine, op=COMPANY_OP, tenant_id=COMPANY.upper())
    assert authorize(own, directory(owners)) is None
    ex = ready(token=mine, op=COMPANY_OP, tenant_id=OTHER_COMPANY)
    refused_with(authorize(ex, directory(owners)), TENANT_NOT_CONSENTED, ex)
