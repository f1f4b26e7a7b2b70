"""Revocation (RFC 7009) and introspection (RFC 7662) of our access and refresh tokens.

An access token is a self-contained JWT, so revoking one means revoking its token family: the
gateways learn the family id through the change feed and refuse every token of it.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from termgate.db.oauth import TokenFamily
from termgate.identity.oauth.context import REFRESH_TOKEN_PREFIX, OAuthContext
from termgate.identity.oauth.grants import find_refresh_token, grantee_of
from termgate.identity.oauth.models import AccessCredential, Credential, OAuthClient
from termgate.identity.tokens import TokenError, VerifiedTokens


def find_access_token(context: OAuthContext, token: str) -> AccessCredential | None:
    verifier = VerifiedTokens(context.jwks, context.settings.issuer, capacity=1)
    try:
        claims = verifier.verify(token, now=context.now.timestamp())
    except TokenError:
        return None
    family = context.db.get(TokenFamily, claims.family_id)
    if family is None or family.revoked_at is not None or grantee_of(context, family) is None:
        return None
    return AccessCredential(claims, family)


def find_token(context: OAuthContext, token: str, hint: str | None) -> Credential | None:
    refresh_first = hint == "refresh_token" or token.startswith(REFRESH_TOKEN_PREFIX)
    if refresh_first:
        return find_refresh_token(context, token, detect_reuse=False) or find_access_token(
            context, token
        )
    return find_access_token(context, token) or find_refresh_token(
        context, token, detect_reuse=False
    )


class Revocation(RevocationEndpoint):
    ENDPOINT_NAME = "revocation"
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]  # noqa: RUF012

    def query_token(self, token_string: str, token_type_hint: str | None) -> Credential | None:
        context: OAuthContext = self.server.context
        return find_token(context, token_string, token_type_hint)

    def revoke_token(self, token: Credential, request: Any) -> None:
        context: OAuthContext = self.server.context
        context.revoke_family(token.family.id, f"the client revoked its {token.token_type}")


class Introspection(IntrospectionEndpoint):
    ENDPOINT_NAME = "introspection"
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012

    def query_token(self, token_string: str, token_type_hint: str | None) -> Credential | None:
        context: OAuthContext = self.server.context
        return find_token(context, token_string, token_type_hint)

    def check_permission(self, token: Credential, client: OAuthClient, request: Any) -> bool:
        """A client may introspect its own tokens only."""
        return token.check_client(client)

    def introspect_token(self, token: Credential) -> dict[str, Any]:
        context: OAuthContext = self.server.context
        return {
            "active": True,
            "scope": token.get_scope(),
            "client_id": token.family.application_id,
            "sub": token.family.end_user_id,
            "token_type": "Bearer" if token.token_type == "access_token" else token.token_type,
            "exp": token.expires_at,
            "iat": token.issued_at,
            "iss": context.settings.issuer,
        }
