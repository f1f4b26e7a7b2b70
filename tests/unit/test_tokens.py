"""Access tokens (clause 3.3 a): what a gateway node accepts, verified with real ES256 keys."""

from __future__ import annotations

import pytest
from joserfc import jwt

from termgate.gateway.bearer import Bearer, BearerTokens, granted_scopes
from termgate.identity.tokens import AccessClaims, TokenError, VerifiedTokens
from tests.unit.tokens_support import (
    ISSUED_AT,
    ISSUER,
    KEY,
    OTHER_KEY,
    claims,
    jwks,
    raw_token,
    token,
)

EXPIRES = ISSUED_AT + 3600


def test_clause_3_3_a_issued_token_carries_the_consent() -> None:
    decoded = jwt.decode(token(), KEY, algorithms=["ES256"])
    assert decoded.header == {"alg": "ES256", "typ": "at+jwt", "kid": "k1"}
    payload = dict(decoded.claims)
    jti = payload.pop("jti")
    assert isinstance(jti, str)
    assert len(jti) > 10
    assert payload == {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": "payroll-api",
        "client_id": "app-1",
        "iat": int(ISSUED_AT),
        "exp": int(ISSUED_AT) + 3600,
        "scope": "employee.info payroll.read",
        "uid": "11",
        "debtors": ["7", "8"],
        "grant": "family-1",
        "consent": "consent-1",
    }
    assert dict(jwt.decode(token(), KEY).claims)["jti"] != jti


def test_clause_3_3_a_valid_token_yields_its_claims() -> None:
    verified = VerifiedTokens(jwks(), ISSUER).verify(token(), ISSUED_AT + 10)
    assert verified == AccessClaims(
        client_id="app-1",
        end_user_id="user-1",
        upstream_user_id="11",
        scopes=frozenset({"employee.info", "payroll.read"}),
        debtors=frozenset({"7", "8"}),
        family_id="family-1",
        consent_id="consent-1",
        expires_at=EXPIRES,
    )


def test_clause_3_3_a_token_expires_at_its_exp_on_first_and_later_use() -> None:
    tokens = VerifiedTokens(jwks(), ISSUER)
    assert tokens.verify(token(), EXPIRES - 0.5).expires_at == EXPIRES
    with pytest.raises(TokenError, match=r"^the token has expired$"):
        tokens.verify(token(), EXPIRES)
    with pytest.raises(TokenError, match=r"^the token has expired$"):
        VerifiedTokens(jwks(), ISSUER).verify(token(), EXPIRES)


def test_clause_3_3_a_token_signed_by_another_key_is_refused() -> None:
    with pytest.raises(TokenError, match=r"^the token is not valid$"):
        VerifiedTokens(jwks(), ISSUER).verify(token(OTHER_KEY), ISSUED_AT)
    with pytest.raises(TokenError, match=r"^the token is not valid$"):
        VerifiedTokens(jwks(), ISSUER).verify("not.a.jwt", ISSUED_AT)


def test_clause_3_3_a_token_of_another_issuer_or_audience_is_refused() -> None:
    tokens = VerifiedTokens(jwks(), ISSUER)
    for bad in (claims(iss="https://evil"), claims(aud="other-api"), claims(iss=None)):
        with pytest.raises(TokenError, match=r"^the token was not issued for this API$"):
            tokens.verify(raw_token(bad), ISSUED_AT)


def test_clause_3_3_a_id_token_is_not_an_access_token() -> None:
    signed = raw_token(claims(), {"alg": "ES256", "typ": "JWT", "kid": "k1"})
    with pytest.raises(TokenError, match=r"^this is not an access token$"):
        VerifiedTokens(jwks(), ISSUER).verify(signed, ISSUED_AT)


@pytest.mark.parametrize(
    "bad",
    [
        claims(client_id=None),
        claims(sub=None),
        claims(uid=None),
        claims(scope=None),
        claims(debtors=None),
        claims(grant=None),
        claims(consent=None),
        claims(exp="soon"),
    ],
)
def test_clause_3_3_a_token_without_its_claims_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(TokenError, match=r"^the token lacks the claims of an access token$"):
        VerifiedTokens(jwks(), ISSUER)._verify_signature(raw_token(bad))


def test_clause_3_3_a_verified_tokens_stay_bounded_and_only_valid_ones_are_kept() -> None:
    tokens = VerifiedTokens(jwks(), ISSUER, capacity=2)
    first, second, third = (token(family_id=f"f{n}") for n in range(3))
    for each in (first, second, third):
        tokens.verify(each, ISSUED_AT)
    assert list(tokens._known) == [second, third]
    with pytest.raises(TokenError):
        tokens.verify(token(OTHER_KEY), ISSUED_AT)
    assert list(tokens._known) == [second, third]


def test_clause_3_3_a_verify_without_a_time_uses_the_wall_clock() -> None:
    with pytest.raises(TokenError, match="expired"):
        VerifiedTokens(jwks(), ISSUER).verify(raw_token(claims(exp=1_000)))


def test_clause_3_3_e_write_scope_implies_its_read_scope() -> None:
    assert granted_scopes(frozenset({"employee.info", "payroll.read"})) == {
        "employee.info",
        "employee.info.read",
        "payroll.read",
    }


def test_clause_3_3_a_bearer_prepares_the_claims_for_the_steps() -> None:
    bearer = BearerTokens(jwks(), ISSUER).bearer(f"Bearer {token()}", ISSUED_AT)
    assert (bearer.client_id, bearer.consent_id, bearer.end_user_id) == (
        "app-1",
        "consent-1",
        "user-1",
    )
    assert (bearer.family_id, bearer.expires_at) == ("family-1", EXPIRES)
    assert bearer.debtors == {"7", "8"}
    assert bearer.several_debtors is True
    assert bearer.scopes == ("employee.info", "payroll.read")
    assert bearer.granted == {"employee.info", "employee.info.read", "payroll.read"}
    assert bearer.upstream_headers == "x-termgate-user: 11\r\nx-termgate-debtors: 7,8\r\n"


def test_clause_3_3_a_single_debtor_bearer() -> None:
    single = token(debtors=("7",))
    bearer = BearerTokens(jwks(), ISSUER).bearer(f"bearer  {single}", ISSUED_AT)
    assert bearer.several_debtors is False


@pytest.mark.parametrize("header", ["Basic abc", "Bearer ", "Bearer", token()])
def test_clause_3_3_a_authorization_must_be_a_bearer_token(header: str) -> None:
    expected = r"^send the access token as `Authorization: Bearer <token>`$"
    with pytest.raises(TokenError, match=expected):
        BearerTokens(jwks(), ISSUER).bearer(header, ISSUED_AT)


def test_clause_3_3_a_known_bearer_expires_and_is_remembered() -> None:
    tokens = BearerTokens(jwks(), ISSUER)
    header = f"Bearer {token()}"
    first = tokens.bearer(header, ISSUED_AT)
    assert tokens.bearer(header, EXPIRES - 1) is first
    with pytest.raises(TokenError, match=r"^the token has expired$"):
        tokens.bearer(header, EXPIRES)


def test_clause_3_3_a_bearer_cache_is_bounded() -> None:
    tokens = BearerTokens(jwks(), ISSUER, capacity=2)
    headers = [f"Bearer {token(family_id=f'f{n}')}" for n in range(3)]
    for header in headers:
        tokens.bearer(header, ISSUED_AT)
    assert list(tokens._known) == headers[1:]
    assert tokens.verifier.capacity == 2


def test_clause_3_3_a_same_keys_compares_keys_and_issuer() -> None:
    tokens = BearerTokens(jwks(), ISSUER)
    assert tokens.same_keys(jwks(), ISSUER)
    assert not tokens.same_keys(jwks(OTHER_KEY), ISSUER)
    assert not tokens.same_keys(jwks(), "https://other")
    assert isinstance(tokens.bearer(f"Bearer {token()}", ISSUED_AT), Bearer)


def test_clause_3_3_a_a_verified_token_is_not_verified_again() -> None:
    """The claims are remembered: the signature is checked once per token (docs/performance.md)."""
    tokens = VerifiedTokens(jwks(), ISSUER)
    signed = token()
    first = tokens.verify(signed, ISSUED_AT)
    tokens.keys = VerifiedTokens(jwks(OTHER_KEY), ISSUER).keys  # the old key is gone
    assert tokens.verify(signed, ISSUED_AT + 1) is first
    with pytest.raises(TokenError, match=r"^the token is not valid$"):
        tokens.verify(token(family_id="new"), ISSUED_AT)


def test_clause_3_3_a_token_caches_hold_a_hundred_thousand_by_default() -> None:
    assert VerifiedTokens(jwks(), ISSUER).capacity == 100_000
    tokens = BearerTokens(jwks(), ISSUER)
    assert (tokens.capacity, tokens.verifier.capacity) == (100_000, 100_000)
