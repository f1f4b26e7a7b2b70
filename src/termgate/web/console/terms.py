"""Terms versions, who accepted each, and publishing a new version (clauses 1 and 9)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.core.errors import RegistryError
from termgate.db.programme import Administrator
from termgate.registry.terms import acceptances, all_versions, publish_terms
from termgate.strict import whole_number
from termgate.web.console.common import page
from termgate.web.context import checked_form, field, flash, redirect, web
from termgate.web.pages import console_page

FIELDS = ("version", "title", "change_summary", "body", "reaccept_days")


async def show_terms(
    request: Request, session: AsyncSession, admin: Administrator, error: str = ""
) -> Response:
    versions = await all_versions(session)
    current = versions[0] if versions else None
    if request.method == "POST":
        form = await request.form()
        values = {name: str(form.get(name, "")) for name in FIELDS}
    else:
        values = {
            "version": "",
            "title": current.title if current else "API Terms of Use",
            "change_summary": "",
            "body": current.body if current else "",
            "reaccept_days": str(web(request).settings.reaccept_days),
        }
    return await page(
        request,
        session,
        admin,
        "terms.html",
        "terms",
        versions=[(version, await acceptances(session, version)) for version in versions],
        current=current,
        form=values,
        error=error,
    )


def _days(text: str) -> int:
    days = whole_number(text)
    if days is None or not 0 <= days <= 365:
        raise RegistryError("re-acceptance days must be a whole number from 0 to 365")
    return days


async def publish(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    form = await checked_form(request)
    settings = web(request).settings
    published = await publish_terms(
        session,
        settings,
        version=field(form, "version"),
        title=field(form, "title"),
        body=str(form.get("body", "")).replace("\r\n", "\n"),
        change_summary=field(form, "change_summary"),
        actor=admin.email,
        reaccept_days=_days(field(form, "reaccept_days")),
    )
    had_previous = published.reaccept_deadline is not None
    flash(
        request,
        f"Version {published.version} is published"
        + ("; every developer is asked to accept it." if had_previous else "."),
    )
    return redirect("/console/terms")


async def terms_page(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    if request.method == "POST":
        return await publish(request, session, admin)
    return await show_terms(request, session, admin)


routes = [
    Route("/terms", console_page(terms_page, show_terms), methods=["GET", "POST"]),
]
