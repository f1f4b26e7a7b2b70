"""The developer portal: the API and its terms, sign-up, applications, keys, plans, inbox,
usage, findings about the developer's applications, cases, incidents, verifications and
closing the account."""

from __future__ import annotations

from starlette.routing import BaseRoute

from termgate.web.portal.account import routes as account_routes
from termgate.web.portal.applications import routes as application_routes
from termgate.web.portal.cases import routes as case_routes
from termgate.web.portal.due_process import routes as due_process_routes
from termgate.web.portal.errors import routes as error_routes
from termgate.web.portal.findings import routes as finding_routes
from termgate.web.portal.home import routes as home_routes
from termgate.web.portal.terms import routes as terms_routes
from termgate.web.portal.usage import routes as usage_routes


def routes() -> list[BaseRoute]:
    return [
        *home_routes,
        *account_routes,
        *terms_routes,
        *error_routes,
        *application_routes,
        *usage_routes,
        *case_routes,
        *due_process_routes,
        *finding_routes,
    ]
