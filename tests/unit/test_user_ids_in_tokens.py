"""The upstream's end-user id in access tokens and in `X-Termgate-User`.

Named for clause 3.3 a: the consent is an end user's, over that end user's data; which upstream
account the gateway names decides whose data per-user operations (`GET /api/user/info`) answer.
It is no key or client credential (clause 2), so the consent's clause is the closest.

The `uid` claim is a string (the published contract's GUID, canonical in lower case); a token
issued while it was an integer is honoured, read as its decimal string; any other shape makes
the token invalid, so nothing but a well-formed id is ever written into the header.
"""

from __future__ import annotations

import pytest

from termgate.core.user_ids import UserIdError, canonical_user_id
from termgate.core.wire import USER_HEADER
from termgate.gateway.bearer import BearerTokens
from termgate.identity.tokens import TokenError, VerifiedTokens
from tests.unit.tokens_support import ISSUED_AT, ISSUER, claims, jwks, raw_token, token

GUID = "5b6a77c7-6abe-4f31-93dc-2692169e3ea4"


def test_clause_3_3_a_a_token_carries_the_upstream_user_id_as_a_string() -> None:
    signed = token(upstream_user_id=GUID.upper())
    assert VerifiedTokens(jwks(), ISSUER).verify(signed, ISSUED_AT).upstream_user_id == GUID
    bearer = BearerTokens(jwks(), ISSUER).bearer(f"Bearer {signed}", ISSUED_AT)
    assert bearer.upstream_headers.startswith(f"{USER_HEADER}: {GUID}\r\n")
    opaque = raw_token(claims(uid="payroll:Admin_7"))
    assert VerifiedTokens(jwks(), ISSUER).verify(opaque, ISSUED_AT).upstream_user_id == (
        "payroll:Admin_7"
    )  # not a GUID: kept exactly as written


def test_clause_3_3_a_a_token_issued_with_an_integer_uid_is_still_honoured() -> None:
    """Tokens minted before user ids were strings carry `"uid": 11`; they live up to an hour and
    running integrations must not fail for it: the gateway sends `11` as before."""
    old = raw_token(claims(uid=11))
    assert VerifiedTokens(jwks(), ISSUER).verify(old, ISSUED_AT).upstream_user_id == "11"
    bearer = BearerTokens(jwks(), ISSUER).bearer(f"Bearer {old}", ISSUED_AT)
    assert bearer.upstream_headers.startswith(f"{USER_HEADER}: 11\r\n")


@pytest.mark.parametrize(
    "uid",
    [
        True,
        False,
        1.0,
        11.5,
        [11],
        {"id": 11},
        "",
        " 11",
        "11 ",
        "a b",
        "1,2",
        f"{GUID}\r\nx-termgate-debtors: *",
        "11\n",
        "11\x00",
        "11\t",
        "é11",
        "x" * 129,
        10**130,
    ],
)
def test_clause_3_3_a_a_uid_claim_of_any_other_shape_is_refused(uid: object) -> None:
    signed = raw_token(claims(uid=uid))
    with pytest.raises(TokenError, match=r"^the token's uid claim is not valid: "):
        VerifiedTokens(jwks(), ISSUER).verify(signed, ISSUED_AT)
    with pytest.raises(TokenError):
        BearerTokens(jwks(), ISSUER).bearer(f"Bearer {signed}", ISSUED_AT)


def test_clause_3_3_a_a_token_without_uid_is_refused() -> None:
    signed = raw_token(claims(uid=None))  # `claims` leaves out what is None
    with pytest.raises(TokenError, match="lacks the claims"):
        VerifiedTokens(jwks(), ISSUER).verify(signed, ISSUED_AT)


def test_clause_3_3_a_the_issuer_never_signs_a_uid_that_could_break_a_header() -> None:
    with pytest.raises(UserIdError, match="not an upstream user id"):
        token(upstream_user_id="7\r\nx-termgate-debtors: 1001")


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        (GUID.upper(), GUID),
        (GUID, GUID),
        (7, "7"),
        (-7, "-7"),
        ("007", "007"),  # not a number to termgate: kept as written
        ("ABC-def", "ABC-def"),
        ("x" * 128, "x" * 128),
    ],
)
def test_clause_3_3_a_user_ids_have_one_canonical_spelling(value: object, canonical: str) -> None:
    assert canonical_user_id(value) == canonical
