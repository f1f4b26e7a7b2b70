"""The machine endpoints: token, pushed requests, revocation, introspection, discovery, keys.

Their errors are RFC 6749 JSON errors; nothing here renders a page or redirects.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from termgate.identity.oauth.metadata import server_metadata
from termgate.identity.oauth.pushed import push_authorization_request
from termgate.identity.oauth.runner import run_authorization_server
from termgate.identity.oauth.server import (
    FormRequest,
    OAuthResponse,
    TermgateAuthorizationServer,
)
from termgate.identity.signing_keys import JWKS_MAX_AGE, public_keys, seal_of, signing_key
from termgate.web.context import unit_of_work, web
from termgate.web.end_user.common import http_request, oauth_response

Handler = Callable[[TermgateAuthorizationServer, FormRequest], OAuthResponse]


async def token(request: Request) -> Response:
    return await _answer(request, lambda server, oauth: server.create_token_response(oauth))


async def pushed_authorization_request(request: Request) -> Response:
    return await _answer(request, push_authorization_request)


async def revocation(request: Request) -> Response:
    return await _answer(
        request, lambda server, oauth: server.create_endpoint_response("revocation", oauth)
    )


async def introspection(request: Request) -> Response:
    return await _answer(
        request, lambda server, oauth: server.create_endpoint_response("introspection", oauth)
    )


async def _answer(request: Request, handle: Handler) -> Response:
    http = await http_request(request)
    state = web(request)

    def act(server: TermgateAuthorizationServer) -> OAuthResponse:
        return server.answer(http, lambda oauth: handle(server, oauth))

    async with unit_of_work(request) as session:
        answer = await run_authorization_server(session, state.settings, state.scopes, act)
    return oauth_response(answer)


async def metadata(request: Request) -> Response:
    state = web(request)
    return JSONResponse(server_metadata(state.settings.issuer, state.scopes))


async def jwks(request: Request) -> Response:
    seal = seal_of(web(request).settings)
    async with unit_of_work(request) as session:
        await signing_key(session, seal)  # gateways may ask before any token was issued
        keys = await public_keys(session)
    return JSONResponse(keys, headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"})
