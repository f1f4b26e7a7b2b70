"""The control plane's ASGI application: developer portal, provider console and admin REST API.

Served under the same origin as the gateway (everything outside the gateway's prefix). Pages are
server-rendered Jinja2 with htmx where it helps; sessions are signed cookies.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from termgate.core.access_log import AccessLog
from termgate.core.proxies import TrustedProxies
from termgate.settings import Settings, proxy_networks
from termgate.web.context import Web, not_found
from termgate.web.headers import SecurityHeaders
from termgate.web.health import healthz, readyz
from termgate.web.metrics import metrics
from termgate.web.proxy_headers import ProxyHeaders, SessionCookies
from termgate.web.request_log import RequestLog, fault_handlers

STATIC = Path(__file__).parent / "static"
ADMIN_API = "/admin/api"


async def home(_request: Request) -> Response:
    return RedirectResponse("/portal", status_code=302)


async def page_not_found(request: Request, _error: Exception) -> Response:
    """HTML for people; a problem document for the admin API, whatever the path holds."""
    if request.url.path.startswith(ADMIN_API):
        from termgate.problems import ADMIN_NOT_FOUND
        from termgate.web.admin_api.problems import problem

        return problem(ADMIN_NOT_FOUND, "no admin API resource at this path")
    return not_found(request)


def routes() -> list[BaseRoute]:
    from termgate.web.admin_api import AdminApi
    from termgate.web.console import routes as console_routes
    from termgate.web.end_user import routes as identity_routes
    from termgate.web.example_client import routes as example_client_routes
    from termgate.web.governance_portal import routes as governance_routes
    from termgate.web.portal import routes as portal_routes
    from termgate.web.portal.home import front_page

    return [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Route("/", home),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        *governance_routes(),  # /status, /maintenance.ics, /portal/changes (before /portal)
        Route("/portal", front_page),  # the portal's front page without a trailing slash
        Mount("/portal", routes=portal_routes()),
        Mount("/console", routes=console_routes()),
        Mount(ADMIN_API, app=AdminApi()),
        *example_client_routes,
        *identity_routes(),
    ]


def create_control_app(settings: Settings, engine: AsyncEngine) -> Starlette:
    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(
                SessionCookies,
                secret_key=settings.session_secret(),
                session_cookie="termgate_session",
                https_only=settings.base_url.startswith("https://"),
                max_age=8 * 3600,
            )
        ],
        exception_handlers={404: page_not_found, **fault_handlers()},
    )
    app.add_middleware(SecurityHeaders, https=settings.base_url.startswith("https://"))
    trusted = TrustedProxies(proxy_networks(settings.trusted_proxies))
    # inside ProxyHeaders, so the access line has the client a trusted proxy forwarded for
    app.add_middleware(RequestLog, access=AccessLog(trusted) if settings.access_log else None)
    if trusted:
        app.add_middleware(ProxyHeaders, trusted=trusted)  # outermost: everything sees the client
    app.state.web = Web.build(settings, engine)
    return app
