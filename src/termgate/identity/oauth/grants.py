"""The two grants: authorization code with PKCE (S256 only), and rotating refresh tokens.

Single use is enforced by claiming the row with a conditional UPDATE, so two concurrent requests
cannot both spend one code or one refresh token; the loser is treated as a replay and the whole
token family is revoked (RFC 9700 §4.5, §4.14).
"""

from __future__ import annotations

import hashlib
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationCodeGrant,
    InvalidGrantError,
    InvalidRequestError,
    RefreshTokenGrant,
)
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7636.challenge import compare_s256_code_challenge
from sqlalchemy import select, update

from termgate.db.oauth import AuthorizationCode, Consent, EndUser, RefreshToken, TokenFamily
from termgate.identity.consents import withdrawn_from
from termgate.identity.oauth.context import CODE_LIFETIME, OAuthContext
from termgate.identity.oauth.models import Grantee, IssuedCode, OAuthClient, RefreshCredential

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def grantee_of(context: OAuthContext, family: TokenFamily) -> Grantee | None:
    """The end user and live consent behind a family, or None once either has ended or the
    consent no longer covers the family's scopes and debtors (a narrowed consent revokes such a
    family; this holds even if it somehow had not)."""
    consent = context.db.get(Consent, family.consent_id)
    end_user = context.db.get(EndUser, family.end_user_id)
    if consent is None or end_user is None or consent.withdrawn_at is not None:
        return None
    if withdrawn_from(family, consent) is not None:
        return None
    return Grantee(end_user, consent, family)


def grantee_of_spent(
    context: OAuthContext, spent: str | None, family: TokenFamily, what: str, short: str
) -> Grantee:
    """After the conditional UPDATE that spends a single-use credential (a code, a refresh
    token): `spent` is None when another request spent it first, which revokes the family."""
    if spent is None:
        context.revoke_family(family.id, f"{what} used twice")
        raise InvalidGrantError(f"the {what} was already used")
    grantee = grantee_of(context, family)
    if grantee is None:
        raise InvalidGrantError(f"the consent behind this {short} was withdrawn")
    return grantee


class S256Challenge(CodeChallenge):
    """PKCE with S256 only; required of public clients, binding whenever a client sends it."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 (Authlib's class attribute)
    CODE_CHALLENGE_METHODS = {"S256": compare_s256_code_challenge}  # noqa: RUF012
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        challenge, method = data.get("code_challenge"), data.get("code_challenge_method")
        if challenge and method != "S256":
            # RFC 7636 makes a missing method mean "plain"; plain is refused either way.
            raise InvalidRequestError("code_challenge_method must be S256")
        client: OAuthClient = grant.request.client
        if not challenge and client.public:
            raise InvalidRequestError("a public client must send a PKCE code_challenge (S256)")
        super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    @property
    def context(self) -> OAuthContext:
        context: OAuthContext = self.server.context
        return context

    def save_authorization_code(self, code: str, request: Any) -> None:
        grantee: Grantee = request.user
        data = request.payload.data
        self.context.db.add(
            AuthorizationCode(
                code_hash=digest(code),
                family_id=grantee.family.id,
                redirect_uri=request.payload.redirect_uri,
                scope=grantee.family.scope,
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                issued_at=self.context.now,
                expires_at=self.context.now + CODE_LIFETIME,
            )
        )

    def query_authorization_code(self, code: str, client: OAuthClient) -> IssuedCode | None:
        db = self.context.db
        query = select(AuthorizationCode).where(AuthorizationCode.code_hash == digest(code))
        row = db.scalar(query)
        family = None if row is None else db.get(TokenFamily, row.family_id)
        if row is None or family is None or family.application_id != client.get_client_id():
            return None  # another client's code says nothing about its owner's grant
        if row.used_at is not None:
            self.context.revoke_family(family.id, "authorization code used twice")
            return None
        if row.expires_at <= self.context.now or family.revoked_at is not None:
            return None
        return IssuedCode(row, family)

    def authenticate_user(self, code: IssuedCode) -> Grantee:
        spent = self.context.db.scalar(
            update(AuthorizationCode)
            .where(AuthorizationCode.id == code.row.id, AuthorizationCode.used_at.is_(None))
            .values(used_at=self.context.now)
            .returning(AuthorizationCode.id)
        )
        return grantee_of_spent(self.context, spent, code.family, "authorization code", "code")

    def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
        """Nothing left to do: `authenticate_user` spent the code."""


class RefreshGrant(RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: every use returns a new refresh token

    @property
    def context(self) -> OAuthContext:
        context: OAuthContext = self.server.context
        return context

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshCredential | None:
        return find_refresh_token(self.context, refresh_token, detect_reuse=True)

    def authenticate_user(self, credential: RefreshCredential) -> Grantee:
        spent = self.context.db.scalar(
            update(RefreshToken)
            .where(RefreshToken.id == credential.row.id, RefreshToken.rotated_at.is_(None))
            .values(rotated_at=self.context.now)
            .returning(RefreshToken.id)
        )
        return grantee_of_spent(
            self.context, spent, credential.family, "refresh token", "refresh token"
        )

    def revoke_old_credential(self, refresh_token: RefreshCredential) -> None:
        """Nothing left to do: `authenticate_user` rotated the token out."""


def find_refresh_token(
    context: OAuthContext, token: str, *, detect_reuse: bool
) -> RefreshCredential | None:
    """A live refresh token; a rotated one presented for refresh revokes its family."""
    db = context.db
    row = db.scalar(select(RefreshToken).where(RefreshToken.token_hash == digest(token)))
    family = None if row is None else db.get(TokenFamily, row.family_id)
    if row is None or family is None:
        return None
    if row.rotated_at is not None:
        if detect_reuse:
            context.revoke_family(family.id, "refresh token used twice")
        return None
    if row.expires_at <= context.now or family.revoked_at is not None:
        return None
    if grantee_of(context, family) is None:
        return None
    return RefreshCredential(row, family, context.now.timestamp())
