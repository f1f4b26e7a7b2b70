"""The authorization endpoint's two halves: checking a request, and answering the decision.

A request whose client or redirect URI cannot be trusted is refused on a page; once the redirect
URI is validated, refusals go back to the client as `error` (and `state`) on that URI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Error

from termgate.identity.oauth.models import Grantee, OAuthClient
from termgate.identity.oauth.server import FormRequest, OAuthResponse, TermgateAuthorizationServer
from termgate.identity.oauth.syntax import malformed_parameter

AUTHORIZE_PATH = "/connect/authorize"


@dataclass(frozen=True)
class AuthorizationRequest:
    client: OAuthClient
    redirect_uri: str
    scope: str
    state: str | None


class AuthorizationRefusedError(Exception):
    """The request cannot go on; `redirect` is the client's error URI, or None for a page."""

    def __init__(self, description: str, redirect: str | None) -> None:
        super().__init__(description)
        self.description = description
        self.redirect = redirect


def _refusal(
    server: TermgateAuthorizationServer, request: FormRequest | None, error: OAuth2Error
) -> AuthorizationRefusedError:
    description = str(error.description or error.error)
    if request is not None and error.redirect_uri:
        response: OAuthResponse = server.handle_error_response(request, error)
        return AuthorizationRefusedError(description, response.location)
    return AuthorizationRefusedError(description, None)


def _request(
    server: TermgateAuthorizationServer, parameters: Sequence[tuple[str, str]]
) -> FormRequest:
    malformed = malformed_parameter(parameters)
    if malformed is not None:
        raise AuthorizationRefusedError(malformed, None)
    uri = server.context.settings.issuer + AUTHORIZE_PATH
    return FormRequest("GET", uri, {}, parameters)


def _consent_grant(
    server: TermgateAuthorizationServer, parameters: Sequence[tuple[str, str]]
) -> tuple[FormRequest, Any]:
    """The authorization request and Authlib's grant for it; an OAuth error becomes a refusal."""
    request = None
    try:
        request = _request(server, parameters)
        return request, server.get_consent_grant(request)
    except OAuth2Error as error:
        raise _refusal(server, request, error) from None


def check_authorization(
    server: TermgateAuthorizationServer, parameters: Sequence[tuple[str, str]]
) -> AuthorizationRequest:
    request, grant = _consent_grant(server, parameters)
    return AuthorizationRequest(
        client=grant.request.client,
        redirect_uri=grant.redirect_uri,
        scope=str(request.scope),
        state=request.payload.state,
    )


def answer_authorization(
    server: TermgateAuthorizationServer,
    parameters: Sequence[tuple[str, str]],
    grantee: Grantee | None,
) -> OAuthResponse:
    """Allowed (a grantee): a code on the redirect URI; denied (None): access_denied."""
    request, grant = _consent_grant(server, parameters)
    response: OAuthResponse = server.create_authorization_response(
        request, grant_user=grantee, grant=grant
    )
    return response
