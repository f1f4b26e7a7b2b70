"""End-user sign-in and sign-out with the payroll login (not a developer account)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from termgate.core.errors import RegistryError
from termgate.core.sessions import begin_session, end_every_session, forget
from termgate.identity.end_users import authenticate_end_user
from termgate.monitoring.sign_ins import application_of, record_sign_in_failure
from termgate.web.context import (
    checked_form,
    client_ip,
    field,
    redirect,
    refused_status,
    render,
    throttled,
    unit_of_work,
    web,
)
from termgate.web.end_user.authorize import pending_client_id
from termgate.web.end_user.common import END_USER_KEY, refused_page, signed_in_end_user

HOME = "/connect/apps"


def safe_next(value: str | None) -> str:
    """Only our own end-user pages: a sign-in must not become an open redirect."""
    if value and value.startswith("/connect/") and not value.startswith("//"):
        return value
    return HOME


async def login_page(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    return render(request, "identity/login.html", next=next_path, username="", error=None)


async def login(request: Request) -> Response:
    try:
        form = await checked_form(request)
    except RegistryError as refusal:
        return refused_page(request, str(refusal))
    next_path = safe_next(field(form, "next"))
    username = field(form, "username")
    password = form.get("password")
    try:
        async with unit_of_work(request) as session:
            typed = password if isinstance(password, str) else ""
            end_user = await throttled(
                request,
                "connect",
                username,
                lambda: authenticate_end_user(session, username, typed),
            )
            begin_session(request.session, END_USER_KEY, end_user)
    except RegistryError as refusal:
        async with unit_of_work(request) as session:  # the attempt's own work was rolled back
            record_sign_in_failure(
                session,
                at=web(request).settings.now(),
                application_id=application_of(next_path) or pending_client_id(request, next_path),
                client_ip=client_ip(request),
            )
        page = render(
            request, "identity/login.html", next=next_path, username=username, error=str(refusal)
        )
        return refused_status(page, refusal)
    return redirect(next_path)


async def logout(request: Request) -> Response:
    try:
        await checked_form(request)
    except RegistryError as refusal:
        return refused_page(request, str(refusal))
    async with unit_of_work(request) as session:
        end_user = await signed_in_end_user(request, session)
        if end_user is not None:
            end_every_session(end_user)
    forget(request.session, END_USER_KEY)
    return redirect("/connect/login")
