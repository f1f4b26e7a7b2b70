"""The provider console: review queue, developers, applications, keys, terms, products and
plans, maintenance, lifecycle and announcements, audit, mail, usage analytics."""

from __future__ import annotations

from starlette.routing import BaseRoute

from termgate.web.console import (
    administrators,
    applications,
    auth,
    developers,
    lifecycle,
    mail,
    maintenance,
    overview,
    plans,
    products,
    reviews,
    status,
    terms,
    usage,
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
        *mail.routes,
        *administrators.routes,
        *usage.routes,
    ]
