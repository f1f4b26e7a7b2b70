"""The error page every refusal's `docUrl` points at: each code with its status, type, titles
and clauses, under an anchor named by the code (`/portal/errors#40303`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.db.models import Developer
from termgate.problems import ERRORS_PAGE, REFUSALS
from termgate.web.context import render
from termgate.web.pages import public_page
from termgate.web.portal.home import portal_context


@dataclass(frozen=True, slots=True)
class ErrorCode:
    code: int
    status: int
    type: str
    titles: tuple[str, ...]
    clauses: tuple[str, ...]


def error_codes() -> list[ErrorCode]:
    """One entry per code of the table of refusals, in the order of the codes."""
    codes: dict[int, ErrorCode] = {}
    for refusal in REFUSALS:
        known = codes.get(refusal.code)
        titles = known.titles if known else ()
        clauses = known.clauses if known else ()
        codes[refusal.code] = ErrorCode(
            refusal.code,
            refusal.status,
            refusal.type,
            titles + ((refusal.title,) if refusal.title not in titles else ()),
            clauses + ((refusal.clause,) if refusal.clause not in clauses else ()),
        )
    return [codes[code] for code in sorted(codes)]


async def show_errors(
    request: Request, session: AsyncSession, developer: Developer | None
) -> Response:
    return render(
        request,
        "portal/errors.html",
        here="errors",
        codes=error_codes(),
        **await portal_context(session, developer),
    )


routes = [Route(ERRORS_PAGE.removeprefix("/portal"), public_page(show_errors))]
