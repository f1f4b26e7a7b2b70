"""Administrator sign-in and sign-out of the console."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.core.errors import RegistryError
from termgate.core.sessions import begin_session, end_every_session, forget
from termgate.registry.admins import authenticate_administrator
from termgate.web.console.common import page
from termgate.web.context import (
    ADMINISTRATOR_KEY,
    CSRF_FIELD,
    checked_form,
    field,
    flash,
    redirect,
    refused_status,
    signed_in_administrator,
    throttled,
    unit_of_work,
)


def _safe_next(target: str) -> str:
    """Only console paths: never an open redirect to another site."""
    return target if target.startswith("/console") and not target.startswith("//") else "/console"


async def _login_page(
    request: Request, error: str = "", email: str = "", next_path: str = ""
) -> Response:
    async with unit_of_work(request) as session:
        admin = await signed_in_administrator(request, session)
        return await page(
            request,
            session,
            admin,
            "login.html",
            "login",
            status_code=400 if error else 200,
            error=error,
            email=email,
            next=_safe_next(next_path or request.query_params.get("next", "/console")),
        )


async def login(request: Request) -> Response:
    if request.method != "POST":
        return await _login_page(request)
    posted = await request.form()
    email, next_path = field(posted, "email"), field(posted, "next")
    try:
        await checked_form(request)
        async with unit_of_work(request) as session:
            password = str(posted.get("password", ""))
            admin = await throttled(
                request,
                "console",
                email,
                lambda: authenticate_administrator(session, email, password),
            )
            name = admin.name
            request.session.pop(CSRF_FIELD, None)
            begin_session(request.session, ADMINISTRATOR_KEY, admin)
    except RegistryError as refusal:
        page = await _login_page(request, str(refusal), email, next_path)
        return refused_status(page, refusal)
    flash(request, f"Signed in as {name}.")
    return redirect(_safe_next(next_path))


async def logout(request: Request) -> Response:
    try:
        await checked_form(request)
    except RegistryError:
        return redirect("/console")
    async with unit_of_work(request) as session:
        admin = await signed_in_administrator(request, session)
        if admin is not None:
            end_every_session(admin)
    forget(request.session, ADMINISTRATOR_KEY)
    request.session.pop(CSRF_FIELD, None)
    flash(request, "Signed out of the console.")
    return redirect("/console/login")


routes = [
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
]
