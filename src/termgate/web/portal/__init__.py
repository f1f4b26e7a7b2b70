"""The developer portal: the API and its terms, sign-up, applications, keys, plans, inbox,
findings about the developer's applications."""

from __future__ import annotations

from starlette.routing import BaseRoute

from termgate.web.portal.account import routes as account_routes
from termgate.web.portal.applications import routes as application_routes
from termgate.web.portal.errors import routes as error_routes
from termgate.web.portal.findings import routes as finding_routes
from termgate.web.portal.home import routes as home_routes
from termgate.web.portal.terms import routes as terms_routes


def routes() -> list[BaseRoute]:
    return [
        *home_routes,
        *account_routes,
        *terms_routes,
        *error_routes,
        *application_routes,
        *finding_routes,
    ]
