"""The end user's access token as the gateway's steps use it (clauses 2 and 3.3 a, e).

`identity.tokens.VerifiedTokens` checks an ES256 JWT's signature once and remembers its claims.
On top of that, the gateway keeps, per `Authorization` header value, a `Bearer`: the claims in
the shapes the steps compare against (the set of canonical debtor ids, strings as a path's
canonical id is written, made once per token; the granted scopes with the read scopes their
write scopes imply) and the upstream's end-user headers, already
formatted. A request with a known token then costs one dict lookup and one comparison of its
expiry; nothing is parsed, split or formatted per request. Revocation is not a property of the
token but of the snapshot (the revoked families), so it is checked on every request.
"""

from __future__ import annotations

from typing import Any

from termgate.core.scopes import granted_scopes
from termgate.core.tenant_ids import debtor_listing
from termgate.core.wire import DEBTORS_HEADER, USER_HEADER
from termgate.identity.tokens import AccessClaims, TokenError, VerifiedTokens

__all__ = ["Bearer", "BearerTokens", "TokenError", "granted_scopes"]


class Bearer:
    """A verified access token, prepared for the identify, authorize and forward steps."""

    __slots__ = (
        "client_id",
        "consent_id",
        "debtors",
        "end_user_id",
        "expires_at",
        "family_id",
        "granted",
        "scopes",
        "several_debtors",
        "upstream_headers",
    )

    def __init__(self, claims: AccessClaims) -> None:
        self.client_id = claims.client_id
        self.consent_id = claims.consent_id
        self.end_user_id = claims.end_user_id
        self.family_id = claims.family_id
        self.expires_at = claims.expires_at
        self.debtors = claims.debtors  # canonical strings, ints of older tokens converted
        self.several_debtors = len(claims.debtors) > 1
        self.scopes = tuple(sorted(claims.scopes))
        self.granted = granted_scopes(claims.scopes)
        debtors = debtor_listing(claims.debtors)
        self.upstream_headers = (
            f"{USER_HEADER}: {claims.upstream_user_id}\r\n{DEBTORS_HEADER}: {debtors}\r\n"
        )


class BearerTokens:
    """Bearers by `Authorization` header value, over a `VerifiedTokens` for the signing keys.

    Only verified tokens are remembered, at most `capacity` (the oldest go first)."""

    def __init__(self, jwks: dict[str, Any], issuer: str, capacity: int = 100_000) -> None:
        self.jwks = jwks
        self.issuer = issuer
        self.capacity = capacity
        self.verifier = VerifiedTokens(jwks, issuer, capacity)
        self._known: dict[str, Bearer] = {}

    def same_keys(self, jwks: dict[str, Any], issuer: str) -> bool:
        return self.jwks == jwks and self.issuer == issuer

    def bearer(self, authorization: str, now: float) -> Bearer:
        """The bearer of an `Authorization` header value; TokenError if it is not valid now."""
        known = self._known.get(authorization)
        if known is None:
            return self._verify(authorization, now)
        if known.expires_at <= now:
            raise TokenError("the token has expired")
        return known

    def _verify(self, authorization: str, now: float) -> Bearer:
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise TokenError("send the access token as `Authorization: Bearer <token>`")
        bearer = Bearer(self.verifier.verify(token, now))
        if len(self._known) >= self.capacity:
            del self._known[next(iter(self._known))]
        self._known[authorization] = bearer
        return bearer
