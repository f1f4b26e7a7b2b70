"""The current terms, what changed since the version a developer accepted, and acceptance."""

from __future__ import annotations

from markdown_it import MarkdownIt
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.core.errors import RegistryError
from termgate.db.models import Developer
from termgate.registry.terms import (
    accept_terms,
    changes_since_acceptance,
    current_terms,
    has_accepted_current,
)
from termgate.web.context import checked_form, client_ip, field, flash, redirect, render, user_agent
from termgate.web.pages import developer_page, public_page
from termgate.web.portal.home import portal_context

# The terms are the provider's text, but rendered without raw HTML all the same.
_markdown = MarkdownIt("commonmark", {"html": False})


async def show_terms(
    request: Request, session: AsyncSession, developer: Developer | None, error: str = ""
) -> Response:
    terms = await current_terms(session)
    accepted = previous = None
    diff: list[str] = []
    if developer is not None and terms is not None:
        accepted = await has_accepted_current(session, developer)
        previous, diff = await changes_since_acceptance(session, developer)
    return render(
        request,
        "portal/terms.html",
        here="terms",
        terms=terms,
        body=_markdown.render(terms.body) if terms else "",
        accepted=accepted,
        previous=previous,
        diff=diff,
        error=error,
        **await portal_context(session, developer),
    )


async def accept(request: Request, session: AsyncSession, developer: Developer) -> Response:
    form = await checked_form(request)
    terms = await current_terms(session)
    if terms is None:
        raise RegistryError("there are no terms to accept")
    if field(form, "version") != terms.version:
        raise RegistryError(
            f"version {terms.version} was published meanwhile; read it before accepting"
        )
    if field(form, "agree") != "yes":
        raise RegistryError("tick the box to confirm that you accept the terms")
    await accept_terms(session, developer, terms, client_ip(request), user_agent(request))
    flash(request, f"You accepted version {terms.version} of the terms.")
    return redirect("/portal")


routes = [
    Route("/terms", public_page(show_terms)),
    Route("/terms/accept", developer_page(accept, show_terms), methods=["POST"]),
]
