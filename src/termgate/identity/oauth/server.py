"""The authorization server: Authlib's RFC 6749 server wired to our clients, tokens and records.

One server is built per request around an `OAuthContext` (its sync session and clock): building
it costs a few registrations, and no state outlives the request.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    InvalidRequestError,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
)
from sqlalchemy import select

from termgate.db.models import Application, Developer, Status
from termgate.db.oauth import RefreshToken
from termgate.identity.oauth.context import (
    OFFLINE_ACCESS,
    REFRESH_TOKEN_LIFETIME,
    REFRESH_TOKEN_PREFIX,
    OAuthContext,
)
from termgate.identity.oauth.endpoints import Introspection, Revocation
from termgate.identity.oauth.grants import CodeGrant, RefreshGrant, S256Challenge, digest
from termgate.identity.oauth.models import Grantee, OAuthClient
from termgate.identity.oauth.syntax import malformed_parameter
from termgate.identity.tokens import ACCESS_TOKEN_LIFETIME, issue_access_token


@dataclass(frozen=True)
class OAuthResponse:
    """What Authlib answered: a status, a JSON body (or "" for a redirect) and headers."""

    status: int
    body: dict[str, Any] | str
    headers: list[tuple[str, str]]

    @property
    def location(self) -> str | None:
        return next((value for name, value in self.headers if name.lower() == "location"), None)


@dataclass(frozen=True)
class HttpRequest:
    """The parts of an HTTP request the server reads, taken from whatever framework served it."""

    method: str
    path: str
    headers: Mapping[str, str]
    parameters: Sequence[tuple[str, str]]


class Payload(OAuth2Payload):
    def __init__(self, items: Sequence[tuple[str, str]]) -> None:
        self._data = dict(items)
        self._datalist: dict[str, list[str]] = {}
        for name, value in items:
            self._datalist.setdefault(name, []).append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return self._datalist


class FormRequest(OAuth2Request):
    """An OAuth request from its parameters (query or form) and headers.

    `uri` is the issuer's URL of the endpoint: Authlib refuses plain http to anything but the
    loopback, and the issuer, not the hop from a TLS-terminating proxy, is what clients use."""

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Mapping[str, str],
        parameters: Sequence[tuple[str, str]],
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self.payload = Payload(parameters)

    @property
    def args(self) -> dict[str, str]:
        return self.payload.data if self.method == "GET" else {}

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data if self.method != "GET" else {}


def basic_credentials(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    """HTTP Basic client credentials, each half form-urlencoded (RFC 6749 §2.3.1)."""
    scheme, _, encoded = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None, None
    return unquote_plus(client_id), unquote_plus(secret)


class TermgateAuthorizationServer(AuthorizationServer):
    def __init__(self, context: OAuthContext) -> None:
        super().__init__(scopes_supported=context.scopes_supported)
        self.context = context
        self.register_grant(CodeGrant, [S256Challenge(required=True)])
        self.register_grant(RefreshGrant)
        self.register_endpoint(Revocation)
        self.register_endpoint(Introspection)
        self.register_client_auth_method("client_secret_basic", self._authenticate_basic)

    def query_client(self, client_id: str) -> OAuthClient | None:
        """Only active applications of active developers are clients (clause 3.1)."""
        row = self.context.db.execute(
            select(Application, Developer)
            .join(Developer, Developer.id == Application.developer_id)
            .where(Application.id == client_id)
        ).first()
        if row is None:
            return None
        application, developer = row
        if application.status is not Status.ACTIVE or developer.status is not Status.ACTIVE:
            return None
        return OAuthClient(application)

    def _authenticate_basic(self, query_client: Any, request: FormRequest) -> OAuthClient | None:
        # Authlib's own decoder uses unquote, which leaves a form-encoded "+" (a space) as "+".
        client_id, secret = basic_credentials(request.headers)
        if not client_id or secret is None:
            return None
        client: OAuthClient | None = query_client(client_id)
        return client if client is not None and client.check_client_secret(secret) else None

    def generate_token(
        self,
        grant_type: str,
        client: OAuthClient,
        user: Grantee | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        assert user is not None, "both grants issue tokens for an end user"
        granted = scope or user.family.scope
        access_token = issue_access_token(
            self.context.key,
            issuer=self.context.settings.issuer,
            client_id=client.get_client_id(),
            end_user_id=user.end_user.id,
            upstream_user_id=user.end_user.upstream_id,
            scope=granted,
            debtors=user.family.debtors,  # its own: a wider later consent does not widen it
            family_id=user.family.id,
            consent_id=user.consent.id,
            now=self.context.now,
        )
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": access_token,
            "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
            "scope": granted,
        }
        if include_refresh_token and OFFLINE_ACCESS in granted.split():
            token["refresh_token"] = REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32)
        return token

    def save_token(self, token: dict[str, Any], request: FormRequest) -> None:
        refresh_token = token.get("refresh_token")
        if refresh_token is None:
            return
        grantee: Grantee = request.user
        self.context.db.add(
            RefreshToken(
                token_hash=digest(refresh_token),
                family_id=grantee.family.id,
                scope=token["scope"],
                issued_at=self.context.now,
                expires_at=self.context.now + REFRESH_TOKEN_LIFETIME,
            )
        )

    def answer(
        self, http: HttpRequest, handle: Callable[[FormRequest], OAuthResponse]
    ) -> OAuthResponse:
        """`handle`'s answer to the request, or the error that refused it before it started."""
        malformed = malformed_parameter(http.parameters)
        if malformed is not None:
            refused: OAuthResponse = self.handle_error_response(
                None, InvalidRequestError(malformed)
            )
            return refused
        try:
            request = FormRequest(
                http.method, self.context.settings.issuer + http.path, http.headers, http.parameters
            )
        except OAuth2Error as error:  # plain http to an issuer that is not the loopback
            response: OAuthResponse = self.handle_error_response(None, error)
            return response
        return handle(request)

    def create_oauth2_request(self, request: FormRequest) -> FormRequest:
        return request

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> OAuthResponse:
        return OAuthResponse(status, body, list(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No listeners: what must follow a revocation is collected in the context."""
