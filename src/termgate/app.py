"""The control plane's ASGI application: console, portal, admin API (grows issue by issue)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from termgate import __version__
from termgate.settings import Settings


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok", "version": __version__})


def create_control_app(settings: Settings) -> Starlette:
    app = Starlette(routes=[Route("/healthz", healthz)])
    app.state.settings = settings
    return app
