"""Sign-up with e-mail verification, sign-in and sign-out, password reset."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.core.audit import record
from termgate.core.sessions import begin_session, end_every_session
from termgate.db.models import Developer
from termgate.registry.accounts import (
    authenticate,
    request_password_reset,
    reset_password,
    sign_up,
    verify_email,
)
from termgate.web.context import (
    DEVELOPER_KEY,
    checked_form,
    field,
    flash,
    redirect,
    render,
    throttled,
    web,
)
from termgate.web.pages import public_page
from termgate.web.portal.home import portal_context

Visitor = Developer | None


def _safe_next(target: str) -> str:
    """Only paths of this portal: never an open redirect to another site."""
    return target if target.startswith("/portal") and not target.startswith("//") else "/portal"


async def _message(
    request: Request,
    session: AsyncSession,
    heading: str,
    text: str,
    link: str = "",
    link_text: str = "",
) -> Response:
    context = await portal_context(session, None)
    return render(
        request,
        "portal/message.html",
        heading=heading,
        text=text,
        link=link,
        link_text=link_text,
        **context,
    )


async def show_signup(
    request: Request, session: AsyncSession, developer: Visitor, error: str = ""
) -> Response:
    form = await request.form() if request.method == "POST" else {}
    values = {name: str(form.get(name, "")) for name in ("name", "email", "organisation")}
    context = await portal_context(session, developer)
    return render(request, "portal/signup.html", here="signup", form=values, error=error, **context)


async def post_signup(request: Request, session: AsyncSession, _developer: Visitor) -> Response:
    form = await checked_form(request)
    address = await sign_up(
        session,
        web(request).settings,
        email=field(form, "email"),
        name=field(form, "name"),
        password=str(form.get("password", "")),
        organisation=field(form, "organisation") or None,
    )
    return await _message(
        request,
        session,
        "Check your e-mail",
        f"We sent a message to {address}. If it holds a link, open it to confirm your address; "
        "it is valid for two days.",
    )


async def signup(request: Request, session: AsyncSession, developer: Visitor) -> Response:
    if request.method == "POST":
        return await post_signup(request, session, developer)
    return await show_signup(request, session, developer)


async def verify(request: Request, session: AsyncSession, _developer: Visitor) -> Response:
    developer = await verify_email(
        session, request.query_params.get("token", ""), web(request).settings.now()
    )
    return await _message(
        request,
        session,
        "Your address is confirmed",
        f"Thank you, {developer.name}. Sign in to read and accept the terms.",
        "/portal/login",
        "Sign in",
    )


async def refused_link(
    request: Request, session: AsyncSession, _developer: Visitor, error: str
) -> Response:
    return await _message(request, session, "This link does not work", error, "/portal", "Back")


async def show_login(
    request: Request, session: AsyncSession, developer: Visitor, error: str = ""
) -> Response:
    form = await request.form() if request.method == "POST" else {}
    context = await portal_context(session, None if error else developer)
    return render(
        request,
        "portal/login.html",
        here="login",
        email=str(form.get("email", "")),
        next=_safe_next(str(form.get("next", request.query_params.get("next", "/portal")))),
        error=error,
        **context,
    )


async def login(request: Request, session: AsyncSession, developer: Visitor) -> Response:
    if request.method != "POST":
        return await show_login(request, session, developer)
    form = await checked_form(request)
    email, password = field(form, "email"), str(form.get("password", ""))
    signed_in = await throttled(
        request, "portal", email, lambda: authenticate(session, email, password)
    )
    request.session.clear()  # a fresh session (and CSRF token) on every sign-in
    begin_session(request.session, DEVELOPER_KEY, signed_in)
    await record(session, signed_in.email, "signed-in", "developer", signed_in.id)
    return redirect(_safe_next(field(form, "next")))


async def logout(request: Request, _session: AsyncSession, developer: Visitor) -> Response:
    await checked_form(request)
    if developer is not None:
        end_every_session(developer)  # copies of this cookie, and other devices, too
    request.session.clear()
    flash(request, "You are signed out.")
    return redirect("/portal")


async def show_forgot(
    request: Request, session: AsyncSession, developer: Visitor, error: str = ""
) -> Response:
    context = await portal_context(session, developer)
    return render(request, "portal/forgot.html", error=error, **context)


async def forgot(request: Request, session: AsyncSession, developer: Visitor) -> Response:
    if request.method != "POST":
        return await show_forgot(request, session, developer)
    form = await checked_form(request)
    await request_password_reset(session, web(request).settings, field(form, "email"))
    return await _message(
        request,
        session,
        "Check your e-mail",
        "If an account uses that address, a link to choose a new password is on its way. It is "
        "valid for one hour.",
    )


async def show_reset(
    request: Request, session: AsyncSession, developer: Visitor, error: str = ""
) -> Response:
    form = await request.form() if request.method == "POST" else {}
    token = str(form.get("token", request.query_params.get("token", "")))
    context = await portal_context(session, developer)
    return render(request, "portal/reset.html", token=token, error=error, **context)


async def reset(request: Request, session: AsyncSession, developer: Visitor) -> Response:
    if request.method != "POST":
        return await show_reset(request, session, developer)
    form = await checked_form(request)
    await reset_password(
        session, field(form, "token"), str(form.get("password", "")), web(request).settings.now()
    )
    flash(request, "Your password is changed. Sign in with it.")
    return redirect("/portal/login")


routes = [
    Route("/signup", public_page(signup, show_signup), methods=["GET", "POST"]),
    Route("/verify", public_page(verify, refused_link)),
    Route("/login", public_page(login, show_login), methods=["GET", "POST"]),
    Route("/logout", public_page(logout, show_login), methods=["POST"]),
    Route("/forgot", public_page(forgot, show_forgot), methods=["GET", "POST"]),
    Route("/reset", public_page(reset, show_reset), methods=["GET", "POST"]),
]
