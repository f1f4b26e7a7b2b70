"""Our records as Authlib sees them: the client, an issued code, the two kinds of token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin

from termgate.db.models import Application
from termgate.db.oauth import AuthorizationCode, Consent, EndUser, RefreshToken, TokenFamily
from termgate.identity.clients import client_secret_matches, is_public
from termgate.identity.oauth.context import OFFLINE_ACCESS
from termgate.identity.tokens import ACCESS_TOKEN_LIFETIME, AccessClaims

SECRET_METHODS = ("client_secret_basic", "client_secret_post")


class OAuthClient(ClientMixin):
    """An active application of an active developer; its id is the client_id."""

    def __init__(self, application: Application) -> None:
        self.application = application

    @property
    def public(self) -> bool:
        return is_public(self.application)

    def get_client_id(self) -> str:
        return self.application.id

    def get_default_redirect_uri(self) -> None:
        return None  # redirect_uri is required: it is compared exactly, never guessed

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scope if the application declared it all (clause 3.3 e), else None."""
        requested = list(dict.fromkeys((scope or "").split()))
        declared = {*self.application.requested_scopes.split(), OFFLINE_ACCESS}
        if not requested or not set(requested) <= declared:
            return None
        return " ".join(requested)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.application.redirect_uris.splitlines()

    def check_client_secret(self, client_secret: str) -> bool:
        return client_secret_matches(self.application, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none" if self.public else method in SECRET_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass(frozen=True)
class Grantee:
    """Whom tokens are issued for: the end user, under one consent, in one token family."""

    end_user: EndUser
    consent: Consent
    family: TokenFamily


@dataclass(frozen=True)
class IssuedCode(AuthorizationCodeMixin):
    row: AuthorizationCode
    family: TokenFamily

    @property
    def code_challenge(self) -> str | None:
        return self.row.code_challenge

    @property
    def code_challenge_method(self) -> str | None:
        return self.row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope


class Credential(TokenMixin):
    """A token presented for refresh, revocation or introspection, with its family."""

    token_type: str
    family: TokenFamily
    scope: str
    issued_at: int
    expires_at: int

    def check_client(self, client: Any) -> bool:
        return bool(self.family.application_id == client.get_client_id())

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_at - self.issued_at

    def is_revoked(self) -> bool:
        return self.family.revoked_at is not None


class RefreshCredential(Credential):
    token_type = "refresh_token"

    def __init__(self, row: RefreshToken, family: TokenFamily, now: float) -> None:
        self.row = row
        self.family = family
        self.scope = row.scope
        self.issued_at = int(row.issued_at.timestamp())
        self.expires_at = int(row.expires_at.timestamp())
        self._now = now

    def is_expired(self) -> bool:
        return self.expires_at <= self._now or self.row.rotated_at is not None


class AccessCredential(Credential):
    token_type = "access_token"

    def __init__(self, claims: AccessClaims, family: TokenFamily) -> None:
        self.claims = claims
        self.family = family
        self.scope = " ".join(sorted(claims.scopes))
        self.expires_at = int(claims.expires_at)
        self.issued_at = self.expires_at - int(ACCESS_TOKEN_LIFETIME.total_seconds())

    def is_expired(self) -> bool:
        return False  # an expired access token never gets this far: verification refuses it
