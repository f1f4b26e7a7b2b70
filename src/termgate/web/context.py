"""What every page and API handler shares: the database, templates, the signed-in person, CSRF.

Sessions are signed cookies (Starlette's SessionMiddleware, itsdangerous); they hold only the
signed-in developer's or administrator's id with its session generation (`identity.sessions`:
checked on every request, so the server can end them) and the CSRF token. Every state-changing
form carries that token and is refused without it, and every posted field is refused (400, naming
the field) when it holds a control character. Sign-ins go through the throttle
(`identity.throttle`, clause 3.3 c).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any, TypeVar

from jinja2 import Environment, FileSystemLoader, select_autoescape
from prometheus_client.registry import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from termgate.core.errors import RegistryError
from termgate.core.sessions import signed_in_id, still_valid
from termgate.db.engine import session_factory
from termgate.db.models import Developer
from termgate.db.programme import Administrator
from termgate.governance.errors import PolicyInputError
from termgate.identity.throttle import SignInThrottle, ThrottlePolicy
from termgate.notify.outbox import transaction
from termgate.registry.applications import DATA_ACCESS
from termgate.registry.developers import clean_text
from termgate.settings import Settings

TEMPLATES = Path(__file__).parent / "templates"
CSRF_FIELD = "csrf_token"
# Form fields that are textareas: line breaks and tabs are allowed there, in no other field.
MULTILINE_FIELDS = frozenset(
    {
        "affected_end_users",
        "body",
        "change_summary",
        "containment",
        "description",
        "note",
        "questions",
        "reason",
        "redirect_uris",
        "statement",
        "summary",
        "text",
        "use_case",
    }
)
ANSWER_PREFIX = "answer_"  # a verification's answers (answer_<question id>) are textareas too


@dataclass
class Web:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    templates: Environment
    throttle: SignInThrottle
    # The API's permissions and what each allows, from its OpenAPI document once it is read.
    scopes: dict[str, str] = dataclass_field(default_factory=dict)
    # The gateway's reading of that document, for the operator (`/readyz`); None until read.
    api_description: dict[str, Any] | None = None
    # The gateway's figures for GET /metrics; None outside the gateway's process.
    metrics: CollectorRegistry | None = None

    @classmethod
    def build(cls, settings: Settings, engine: AsyncEngine) -> Web:
        templates = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(("html",)),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        templates.filters["when"] = lambda value: value.strftime("%d %b %Y %H:%M") if value else ""
        templates.globals["data_access"] = DATA_ACCESS
        policy = ThrottlePolicy(
            settings.signin_account_failures,
            settings.signin_address_failures,
            settings.signin_window_seconds,
        )
        throttle = SignInThrottle(policy, settings.redis_url)
        return cls(settings, session_factory(engine), templates, throttle)


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
            clean_text(
                name,
                value,
                multiline=name in MULTILINE_FIELDS or name.startswith(ANSWER_PREFIX),
            )
    return form


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "unknown")


T = TypeVar("T")


class SignInsThrottledError(RegistryError):
    """The sign-in throttle refused an attempt (clause 3.3 c); the same for every account."""

    def __init__(self, seconds: int) -> None:
        super().__init__(
            "Too many failed sign-ins for this account or from your network. "
            f"Try again in {seconds} seconds."
        )
        self.retry_after = seconds


async def throttled(
    request: Request, plane: str, account: str, check: Callable[[], Awaitable[T]]
) -> T:
    """Runs `check` (raising `RegistryError` for a wrong password) under the sign-in throttle of
    `plane`, for `account` as typed and the request's source address."""
    throttle, address = web(request).throttle, client_ip(request)
    wait = await throttle.attempt(account, address, plane)
    if wait:
        raise SignInsThrottledError(wait)
    result = await check()
    await throttle.succeeded(account, address, plane)
    return result


class RoleRefusedError(RegistryError):
    """The signed-in administrator's role does not allow the page or form (403)."""


def refused_status(response: Response, refusal: RegistryError) -> Response:
    """A form's refusal: 400, 403 for a role that does not allow it, or 429 with `Retry-After`
    when the sign-in throttle refused."""
    response.status_code = 403 if isinstance(refusal, RoleRefusedError) else 400
    if isinstance(refusal, SignInsThrottledError):
        response.status_code = 429
        response.headers["Retry-After"] = str(refusal.retry_after)
    return response


DEVELOPER_KEY = "developer_id"
ADMINISTRATOR_KEY = "administrator_id"


async def signed_in_developer(request: Request, session: AsyncSession) -> Developer | None:
    developer_id = signed_in_id(request.session, DEVELOPER_KEY)
    if developer_id is None:
        return None
    developer = await session.get(Developer, developer_id)
    return developer if still_valid(request.session, DEVELOPER_KEY, developer) else None


async def signed_in_administrator(request: Request, session: AsyncSession) -> Administrator | None:
    admin_id = signed_in_id(request.session, ADMINISTRATOR_KEY)
    if admin_id is None:
        return None
    admin = await session.get(Administrator, admin_id)
    if admin is not None and admin.disabled_at is not None:
        admin = None  # disabling raises the session epoch too; this holds without it
    return admin if still_valid(request.session, ADMINISTRATOR_KEY, admin) else None


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


@contextmanager
def named_field() -> Iterator[None]:
    """A form's refusal starts with the field it is about, as the form labels it."""
    try:
        yield
    except PolicyInputError as refusal:
        label = refusal.field.replace("_", " ")
        raise PolicyInputError(refusal.field, f"{label}: {refusal}") from None
