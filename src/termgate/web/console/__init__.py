"""The provider console: review queue, developers, applications, keys, terms, products and
plans, maintenance, lifecycle and announcements, findings, cases and the scheduler, incidents,
verifications and terminations, audit, mail, usage analytics."""

from __future__ import annotations

from starlette.routing import BaseRoute

from termgate.web.console import (
    administrators,
    applications,
    auth,
    cases,
    closure,
    developers,
    findings,
    incidents,
    lifecycle,
    mail,
    maintenance,
    overview,
    plans,
    products,
    reviews,
    scheduler,
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
        *cases.routes,
        *scheduler.routes,
        *terms.routes,
        *products.routes,
        *plans.routes,
        *maintenance.routes,
        *lifecycle.routes,
        *findings.routes,
        *mail.routes,
        *administrators.routes,
        *usage.routes,
        *incidents.routes,
        *closure.routes,
    ]
