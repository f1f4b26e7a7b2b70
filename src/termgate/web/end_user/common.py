"""What the end-user pages share: the signed-in end user, OAuth answers as Starlette responses.

End users sign in with their payroll login; their id sits under its own key in the signed
session cookie, apart from a developer's or an administrator's.
"""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from termgate.core.sessions import signed_in_id, still_valid
from termgate.db.models import Status
from termgate.db.oauth import EndUser
from termgate.identity.oauth.server import HttpRequest, OAuthResponse
from termgate.web.context import render, web

END_USER_KEY = "end_user_id"
OFFLINE_ACCESS_WORDS = "Keep this access while you are away, until you revoke it"


async def signed_in_end_user(request: Request, session: AsyncSession) -> EndUser | None:
    end_user_id = signed_in_id(request.session, END_USER_KEY)
    if end_user_id is None:
        return None
    end_user = await session.get(EndUser, end_user_id)
    if not still_valid(request.session, END_USER_KEY, end_user):
        return None
    return end_user if end_user is not None and end_user.status is Status.ACTIVE else None


def login_redirect(next_path: str) -> RedirectResponse:
    return RedirectResponse(f"/connect/login?next={quote(next_path, safe='')}", status_code=303)


def refused_page(request: Request, message: str, status_code: int = 400) -> Response:
    return render(request, "identity/refused.html", status_code=status_code, message=message)


def scope_words(request: Request, scopes: str) -> list[tuple[str, str]]:
    """Each scope with what it lets an application do, in plain words."""
    known = web(request).scopes
    words = []
    for scope in scopes.split():
        if scope == "offline_access":
            words.append((scope, OFFLINE_ACCESS_WORDS))
        else:
            words.append((scope, known.get(scope, scope)))
    return words


async def http_request(request: Request) -> HttpRequest:
    """The request as the authorization server reads it: form fields of a POST, else the query."""
    if request.method == "POST":
        form = await request.form()
        parameters = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    else:
        parameters = list(request.query_params.multi_items())
    return HttpRequest(request.method, request.url.path, request.headers, parameters)


def oauth_response(answer: OAuthResponse) -> Response:
    headers = {name: value for name, value in answer.headers if name.lower() != "location"}
    if answer.location is not None:
        return RedirectResponse(answer.location, status_code=answer.status, headers=headers)
    return JSONResponse(answer.body, status_code=answer.status, headers=headers)
