"""What every page and API handler shares: the database, templates, the signed-in person, CSRF.

Sessions are signed cookies (Starlette's SessionMiddleware, itsdangerous); they hold only the
signed-in developer's or administrator's id and the CSRF token. Every state-changing form carries
that token and is refused without it, and every posted field is refused (400, naming the field)
when it holds a control character.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from termgate.db.engine import session_factory
from termgate.db.models import Developer
from termgate.db.programme import Administrator
from termgate.notify.mail import transaction
from termgate.registry.developers import clean_text
from termgate.registry.errors import RegistryError
from termgate.settings import Settings

TEMPLATES = Path(__file__).parent / "templates"
CSRF_FIELD = "csrf_token"
# Form fields that are textareas: line breaks and tabs are allowed there, in no other field.
MULTILINE_FIELDS = frozenset(
    {"body", "change_summary", "description", "note", "reason", "redirect_uris", "use_case"}
)


@dataclass
class Web:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    templates: Environment
    # The API's permissions and what each allows, from its OpenAPI document once it is read.
    scopes: dict[str, str] = dataclass_field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, engine: AsyncEngine) -> Web:
        templates = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(("html",)),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        templates.filters["when"] = lambda value: value.strftime("%d %b %Y %H:%M") if value else ""
        return cls(settings, session_factory(engine), templates)


def web(request: Request) -> Web:
    state: Web = request.app.state.web
    return state


@asynccontextmanager
async def unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction for one request; its mail is sent once it is committed."""
    state = web(request)
    async with transaction(state.sessions, state.settings) as session:
        yield session


class CsrfError(RegistryError):
    """A form arrived without the session's CSRF token."""


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get(CSRF_FIELD)
    if not (isinstance(sent, str) and isinstance(expected, str)) or not hmac.compare_digest(
        sent, expected
    ):
        raise CsrfError("the form expired or did not come from this site; reload and try again")
    for name, value in form.multi_items():
        if isinstance(value, str):
            clean_text(name, value, multiline=name in MULTILINE_FIELDS)
    return form


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "unknown")


async def signed_in_developer(request: Request, session: AsyncSession) -> Developer | None:
    developer_id = request.session.get("developer_id")
    return await session.get(Developer, developer_id) if isinstance(developer_id, str) else None


async def signed_in_administrator(request: Request, session: AsyncSession) -> Administrator | None:
    admin_id = request.session.get("administrator_id")
    return await session.get(Administrator, admin_id) if isinstance(admin_id, str) else None


def flash(request: Request, message: str) -> None:
    request.session.setdefault("flash", []).append(message)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    messages = request.session.pop("flash", [])
    page = (
        web(request)
        .templates.get_template(template)
        .render(
            request=request,
            csrf_token=csrf_token(request),
            flashes=messages,
            settings=web(request).settings,
            **context,
        )
    )
    return HTMLResponse(page, status_code=status_code)


def redirect(path: str) -> RedirectResponse:
    """After a successful POST: see-other, so a reload does not post again."""
    return RedirectResponse(path, status_code=303)


def not_found(request: Request) -> Response:
    return render(request, "not_found.html", status_code=404)
