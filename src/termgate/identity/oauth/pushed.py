"""Pushed authorization requests (RFC 9126): the client posts the request's parameters with its
credentials and gets a one-time `request_uri`, valid 90 seconds, to send the browser with.

The parameters are validated when pushed, exactly as at the authorization endpoint, but errors
go back to the client as JSON: nothing is ever redirected from here.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta

from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.oauth import PushedRequest
from termgate.identity.oauth.grants import CLIENT_AUTH_METHODS, digest
from termgate.identity.oauth.server import FormRequest, OAuthResponse, TermgateAuthorizationServer

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
PUSHED_REQUEST_LIFETIME = timedelta(seconds=90)


def push_authorization_request(
    server: TermgateAuthorizationServer, request: FormRequest
) -> OAuthResponse:
    context = server.context
    try:
        client = server.authenticate_client(request, CLIENT_AUTH_METHODS, "par")
        data = request.payload.data
        if "request_uri" in data:
            raise InvalidRequestError("request_uri cannot itself be pushed")
        if data.get("client_id", client.get_client_id()) != client.get_client_id():
            raise InvalidRequestError("client_id does not match the authenticated client")
        parameters = {name: value for name, value in data.items() if name != "client_secret"}
        parameters["client_id"] = client.get_client_id()
        grant = server.get_authorization_grant(
            FormRequest("GET", request.uri, {}, list(parameters.items()))
        )
        grant.validate_no_multiple_request_parameter(request)
        grant.validate_consent_request()
    except OAuth2Error as error:
        error.redirect_uri = None
        response: OAuthResponse = server.handle_error_response(request, error)
        return response
    request_uri = REQUEST_URI_PREFIX + secrets.token_urlsafe(32)
    context.db.add(
        PushedRequest(
            request_uri_hash=digest(request_uri),
            application_id=client.get_client_id(),
            parameters=json.dumps(parameters),
            expires_at=context.now + PUSHED_REQUEST_LIFETIME,
        )
    )
    lifetime = int(PUSHED_REQUEST_LIFETIME.total_seconds())
    body = {"request_uri": request_uri, "expires_in": lifetime}
    return OAuthResponse(201, body, list(default_json_headers))


async def take_pushed_request(
    session: AsyncSession, client_id: str, request_uri: str, now: datetime
) -> list[tuple[str, str]] | None:
    """The pushed parameters, once: None when unknown, expired, used or another client's."""
    row = await session.scalar(
        select(PushedRequest).where(PushedRequest.request_uri_hash == digest(request_uri))
    )
    if row is None or row.application_id != client_id or row.expires_at <= now:
        return None
    claimed = await session.scalar(
        update(PushedRequest)
        .where(PushedRequest.id == row.id, PushedRequest.used_at.is_(None))
        .values(used_at=now)
        .returning(PushedRequest.id)
    )
    if claimed is None:
        return None
    parameters: dict[str, str] = json.loads(row.parameters)
    return list(parameters.items())
