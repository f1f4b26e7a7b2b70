"""Access tokens: signed JWTs (RFC 9068, ES256) that every gateway node verifies on its own.

Why signed tokens rather than opaque ones held in the snapshot: a token must work on every node
the moment it is issued, and a JWT does without any node having heard of it (an opaque token is
unknown to other nodes until their next snapshot refresh). Verifying ES256 costs ~80 µs, so a
gateway keeps the claims of tokens it has verified (`VerifiedTokens`) and pays a dict lookup on
every later request; revocation is a set of token-family ids in the snapshot (docs/performance.md
has the measurements).

The `debtors` claim is a JSON list of canonical debtor ids as strings (`"1001"`, or a lower-case
GUID). Tokens issued before ids were strings carry a list of integers; they stay valid until
they expire (an hour at most), read as the decimal strings of those integers, so the gateway
compares one form whatever the token's age. A claim holding anything else (a comma-joined
list, spaces, a negative number, an id in neither form) is not an access token of this server.

The `uid` claim is the upstream's id of the end user (`termgate.core.user_ids`), a string the
gateway sends as `X-Termgate-User`. Tokens issued while it was an integer are read as its decimal
string; a `uid` of any other shape (a bool, a float, a list, empty, a control character, more
than 128 characters) makes the token invalid, so nothing but a well-formed id reaches a header.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.tenant_ids import TenantIdError, canonical_debtor_ids
from termgate.core.user_ids import UserIdError, canonical_user_id
from termgate.db.key_seal import KeySeal
from termgate.db.models import new_id
from termgate.db.oauth import Consent, EndUser, TokenFamily
from termgate.identity.signing_keys import ALGORITHM as ALGORITHM
from termgate.identity.signing_keys import public_keys as public_keys
from termgate.identity.signing_keys import signing_key

TOKEN_TYPE = "at+jwt"
AUDIENCE = "payroll-api"
ACCESS_TOKEN_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What a verified access token says, in the shapes the gateway's steps use."""

    client_id: str
    end_user_id: str
    upstream_user_id: str  # canonical (termgate.core.user_ids)
    scopes: frozenset[str]
    debtors: frozenset[str]  # canonical debtor ids
    family_id: str
    consent_id: str
    expires_at: float


def issue_access_token(
    key: ECKey,
    *,
    issuer: str,
    client_id: str,
    end_user_id: str,
    upstream_user_id: str,
    scope: str,
    debtors: tuple[str, ...],
    family_id: str,
    consent_id: str,
    now: datetime,
) -> str:
    issued = int(now.timestamp())
    claims = {
        "iss": issuer,
        "sub": end_user_id,
        "aud": AUDIENCE,
        "client_id": client_id,
        "iat": issued,
        "exp": issued + int(ACCESS_TOKEN_LIFETIME.total_seconds()),
        "jti": new_id(),
        "scope": scope,
        "uid": canonical_user_id(upstream_user_id),
        "debtors": list(canonical_debtor_ids(debtors)),
        "grant": family_id,
        "consent": consent_id,
    }
    header = {"alg": ALGORITHM, "typ": TOKEN_TYPE, "kid": key.kid}
    return jwt.encode(header, claims, key, algorithms=[ALGORITHM])


class TokenError(ValueError):
    """The token is not one this server issued, or no longer valid; the message says which."""


def _claims(payload: dict[str, Any], issuer: str) -> AccessClaims:
    if payload.get("iss") != issuer or payload.get("aud") != AUDIENCE:
        raise TokenError("the token was not issued for this API")
    try:
        return AccessClaims(
            client_id=str(payload["client_id"]),
            end_user_id=str(payload["sub"]),
            upstream_user_id=canonical_user_id(payload["uid"]),
            scopes=frozenset(str(payload["scope"]).split()),
            debtors=_debtors_claim(payload["debtors"]),
            family_id=str(payload["grant"]),
            consent_id=str(payload["consent"]),
            expires_at=float(payload["exp"]),
        )
    except TenantIdError as error:
        raise TokenError(f"the token's debtors claim is not valid: {error}") from None
    except UserIdError as error:
        raise TokenError(f"the token's uid claim is not valid: {error}") from None
    except (KeyError, TypeError, ValueError):
        raise TokenError("the token lacks the claims of an access token") from None


def _debtors_claim(claim: object) -> frozenset[str]:
    """The canonical ids of a `debtors` claim: a list of strings, or of integers in tokens
    issued before ids were strings (read as their decimal strings)."""
    if not isinstance(claim, list):
        raise TenantIdError("the debtors claim is not a list")
    return frozenset(canonical_debtor_ids(claim))


class VerifiedTokens:
    """Verifies access tokens against the public keys, remembering verified claims.

    Only tokens that verified are remembered, so garbage cannot fill the memory; the oldest
    entries go first once `capacity` is reached. Expiry is checked on every use."""

    def __init__(self, jwks: dict[str, Any], issuer: str, capacity: int = 100_000) -> None:
        self.keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        self.issuer = issuer
        self.capacity = capacity
        self._known: dict[str, AccessClaims] = {}

    def verify(self, token: str, now: float | None = None) -> AccessClaims:
        claims = self._known.get(token)
        if claims is None:
            claims = self._verify_signature(token)
            if len(self._known) >= self.capacity:
                del self._known[next(iter(self._known))]
            self._known[token] = claims
        if claims.expires_at <= (time.time() if now is None else now):
            raise TokenError("the token has expired")
        return claims

    def _verify_signature(self, token: str) -> AccessClaims:
        try:
            decoded = jwt.decode(token, self.keys, algorithms=[ALGORITHM])
        except (JoseError, ValueError) as error:
            raise TokenError("the token is not valid") from error
        if decoded.header.get("typ") != TOKEN_TYPE:
            raise TokenError("this is not an access token")
        return _claims(dict(decoded.claims), self.issuer)


async def open_family(
    session: AsyncSession, consent: Consent, now: datetime | None = None
) -> TokenFamily:
    """A new grant under `consent`, for the consent's scopes and debtors (its own from now on:
    a later consent does not widen them)."""
    family = TokenFamily(
        consent_id=consent.id,
        application_id=consent.application_id,
        end_user_id=consent.end_user_id,
        scope=consent.scopes,
        debtor_ids=consent.debtor_ids,
    )
    if now is not None:
        family.created_at = now
    session.add(family)
    await session.flush()
    return family


async def token_for_family(
    session: AsyncSession, family: TokenFamily, issuer: str, now: datetime, seal: KeySeal
) -> str:
    """An access token of `family`: its own scope and debtors, its end user, its live consent."""
    user = await session.get_one(EndUser, family.end_user_id)
    return issue_access_token(
        await signing_key(session, seal),
        issuer=issuer,
        client_id=family.application_id,
        end_user_id=user.id,
        upstream_user_id=user.upstream_id,
        scope=family.scope,
        debtors=family.debtors,
        family_id=family.id,
        consent_id=family.consent_id,
        now=now,
    )
