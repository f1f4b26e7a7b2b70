"""How a page runs: one transaction per request, the signed-in person, refusals shown on the form.

A handler that refuses (raises `RegistryError`) has its transaction rolled back, so bad input
changes nothing and sends no mail; its `on_refusal` page then renders in a fresh transaction
with the message (the posted form is still readable from the request).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.models import Developer
from termgate.db.programme import Administrator, AdminRole
from termgate.registry.admins import role_refusal
from termgate.web.context import (
    RoleRefusedError,
    not_found,
    redirect,
    refused_status,
    render,
    signed_in_administrator,
    signed_in_developer,
    unit_of_work,
)

Person = TypeVar("Person", Developer, Administrator, Developer | None)
Handler = Callable[[Request, AsyncSession, Person], Awaitable[Response]]
Refusal = Callable[[Request, AsyncSession, Person, str], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]
Finder = Callable[[Request, AsyncSession], Awaitable[Person | None]]


def _page(
    find: Finder[Person],
    login: str | None,
    handler: Handler[Person],
    on_refusal: Refusal[Person] | None,
) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        try:
            async with unit_of_work(request) as session:
                person = await find(request, session)
                if person is None and login is not None:
                    return redirect(f"{login}?next={request.url.path}")
                return await handler(request, session, person)  # type: ignore[arg-type]
        except NotFoundError:
            return not_found(request)
        except RoleRefusedError as refusal:
            message = str(refusal)
            return render(request, "refused.html", 403, message=message, area="console")
        except RegistryError as refusal:
            if on_refusal is None:
                return render(request, "refused.html", status_code=400, message=str(refusal))
            return await _refused(request, find, on_refusal, refusal)

    endpoint.__name__ = handler.__name__
    return endpoint


async def _refused(
    request: Request, find: Finder[Person], on_refusal: Refusal[Person], refusal: RegistryError
) -> Response:
    """The form's page again with the message; a 404 when the page itself names nothing there
    (a refused form posted to an id that does not exist or is not the person's)."""
    try:
        async with unit_of_work(request) as session:
            person = await find(request, session)
            response = await on_refusal(request, session, person, str(refusal))  # type: ignore[arg-type]
    except NotFoundError:
        return not_found(request)
    return refused_status(response, refusal)


def developer_page(
    handler: Handler[Developer], on_refusal: Refusal[Developer] | None = None
) -> Endpoint:
    """A portal page for a signed-in developer; others are sent to the login."""
    return _page(signed_in_developer, "/portal/login", handler, on_refusal)


def public_page(
    handler: Handler[Developer | None], on_refusal: Refusal[Developer | None] | None = None
) -> Endpoint:
    """A portal page anyone may see; the developer is passed when signed in."""
    return _page(signed_in_developer, None, handler, on_refusal)


READS = frozenset({"GET", "HEAD"})


def _administrator_with(least: AdminRole | None) -> Finder[Administrator]:
    """The signed-in administrator, refused (403) unless their role allows the request: any
    role reads, a form needs an operator, and `least` (owner pages) applies to both."""

    async def find(request: Request, session: AsyncSession) -> Administrator | None:
        admin = await signed_in_administrator(request, session)
        if admin is None:
            return None
        needed = least or (AdminRole.VIEWER if request.method in READS else AdminRole.OPERATOR)
        refusal = role_refusal(admin, needed)
        if refusal is not None:
            raise RoleRefusedError(f"{refusal}; nothing was changed")
        return admin

    return find


def console_page(
    handler: Handler[Administrator],
    on_refusal: Refusal[Administrator] | None = None,
    least: AdminRole | None = None,
) -> Endpoint:
    """A console page for a signed-in administrator; others are sent to the console login.
    A viewer sees pages and has every form refused; `least` raises the bar for the page."""
    return _page(_administrator_with(least), "/console/login", handler, on_refusal)
