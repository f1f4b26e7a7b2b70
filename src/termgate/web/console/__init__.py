"""The provider console: review queue, developers, applications, keys, terms, products and
plans, maintenance, lifecycle and announcements, findings, audit, mail."""

from __future__ import annotations

from starlette.routing import BaseRoute

from termgate.web.console import (
    administrators,
    applications,
    auth,
    developers,
    findings,
    lifecycle,
    mail,
    maintenance,
    overview,
    plans,
    products,
    reviews,
    status,
    terms,
)


def routes() -> list[BaseRoute]:
    return [
        *auth.routes,
        *overview.routes,
        *reviews.routes,
        *developers.routes,
        *applications.routes,
        *status.routes,
        *terms.routes,
        *products.routes,
        *plans.routes,
        *maintenance.routes,
        *lifecycle.routes,
        *findings.routes,
        *mail.routes,
        *administrators.routes,
    ]
