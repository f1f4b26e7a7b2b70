"""The demo's example client: how a third-party application uses the API, in one page.

It plays the demo developer's application: sends the end user to /connect/authorize (code flow
with PKCE), takes the code back at its redirect URI, exchanges it with its client secret (HTTP
Basic), then reads through the gateway with its subscription key and the end user's token, as
an SDK of the published contract would (`example_client_flow`).
Served only when `TERMGATE_EXAMPLE_CLIENT` is on (`termgate demo` turns it on).
"""

from __future__ import annotations

import json
import secrets
import warnings
from typing import TYPE_CHECKING, Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.deprecate import AuthlibDeprecationWarning
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.core.errors import RegistryError
from termgate.settings import VAR_DIR
from termgate.web.context import checked_form, redirect, render, web
from termgate.web.example_client_flow import read_everything

if TYPE_CHECKING:
    from authlib.integrations.httpx_client import AsyncOAuth2Client

CREDENTIALS = VAR_DIR / "demo-credentials.json"
SCOPE = (
    "debtor.info.read company.info.read employee.info.read employee.employment.read offline_access"
)
SESSION_KEY = "example_client"


def _credentials(request: Request) -> dict[str, Any] | None:
    """The demo application's credentials, or None where the example client is not served."""
    if not web(request).settings.example_client:
        return None
    try:
        stored = json.loads(CREDENTIALS.read_text())
    except (OSError, ValueError):
        return None
    return stored if isinstance(stored, dict) else None


def _client(credentials: dict[str, Any]) -> AsyncOAuth2Client:
    # Imported on first use, so `serve` without the demo's example client never loads it. Authlib
    # warns inside its own import that it would rather find the `httpx2` package; the example
    # client uses httpx (the project's), so that one warning is silenced here and nowhere else.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "The httpx module is deprecated", AuthlibDeprecationWarning
        )
        from authlib.integrations.httpx_client import AsyncOAuth2Client

    return AsyncOAuth2Client(
        client_id=credentials["client_id"],
        client_secret=credentials["client_secret"],
        scope=SCOPE,
        redirect_uri=credentials["redirect_uri"],
        token_endpoint_auth_method="client_secret_basic",
        code_challenge_method="S256",
    )


def _page(request: Request, status_code: int = 200, **context: Any) -> Response:
    return render(
        request,
        "example_client.html",
        status_code=status_code,
        area="portal",
        scope=SCOPE,
        **context,
    )


async def home(request: Request) -> Response:
    if _credentials(request) is None:
        return render(request, "not_found.html", status_code=404)
    return _page(request)


async def start(request: Request) -> Response:
    credentials = _credentials(request)
    if credentials is None:
        return render(request, "not_found.html", status_code=404)
    try:
        await checked_form(request)
    except RegistryError as refused:
        return _page(request, status_code=400, error=str(refused))
    verifier = secrets.token_urlsafe(48)
    async with _client(credentials) as client:
        url, state = client.create_authorization_url(
            f"{web(request).settings.base_url}/connect/authorize", code_verifier=verifier
        )
    request.session[SESSION_KEY] = {"state": state, "verifier": verifier}
    return redirect(url)


async def callback(request: Request) -> Response:
    credentials = _credentials(request)
    flow = request.session.pop(SESSION_KEY, None)
    if credentials is None:
        return render(request, "not_found.html", status_code=404)
    if "error" in request.query_params or not isinstance(flow, dict):
        error = request.query_params.get("error", "the flow was not started here")
        return _page(request, status_code=400, error=error[:200])
    base = web(request).settings.base_url
    try:
        async with _client(credentials) as client:
            token = await client.fetch_token(
                f"{base}/connect/token",
                authorization_response=str(request.url),
                code_verifier=flow["verifier"],
                state=flow["state"],
            )
    except (AuthlibBaseError, httpx.HTTPError) as refused:
        # A forged or replayed callback, or a code the server refuses: nothing was read.
        return _page(request, status_code=400, error=f"the sign-in did not complete: {refused}")
    key = str(credentials["production_subscription_key"])
    async with httpx.AsyncClient(base_url=base, timeout=10) as api:
        readings = await read_everything(api, key, str(token["access_token"]))
    return _page(request, token=token, readings=readings)


routes = [
    Route("/example-client", home),
    Route("/example-client/start", start, methods=["POST"]),
    Route("/example-client/callback", callback),
]
