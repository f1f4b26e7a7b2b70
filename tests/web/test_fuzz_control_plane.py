"""Fuzz every form and query parameter of the control plane (clause 3.1): no answer is a 500.

The targets come from the app itself, so a new page or form is covered without editing this file:
every route of the Starlette route table (path parameters given real ids or odd text), every
`<form>` found on the pages a signed-in developer, administrator and end user see (with its own
hidden fields and CSRF token, so input reaches the handler's checks), the field names the
handlers read, and the admin API operations' query and body parameters as its generated
OpenAPI document lists them. Values are Hypothesis text
over all of Unicode, control characters, digits `int()` rejects, and strings of 200,000
characters. Hypothesis runs in a worker thread; each request is sent on the test's event loop.
Bounded and derandomized: deterministic, and a few seconds per route group.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as bounded
from hypothesis import strategies as st
from starlette.routing import BaseRoute, Mount, Route

import termgate.web
from termgate.db.models import Subscription
from termgate.reference_api import generate
from termgate.settings import Settings, load_settings
from termgate.web.admin_api import create_admin_api
from termgate.web.app import routes
from tests.conftest import free_port
from tests.identity.conftest import PASSWORD, REDIRECT_URI, SCOPES, import_logins, register_client
from tests.web.conftest import Site, seed_programme
from tests.web.test_console import sign_in as console_sign_in
from tests.web.test_portal import PASSWORD as DEVELOPER_PASSWORD
from tests.web.test_portal import accept_current_terms, register_app
from tests.web.test_portal import sign_in as portal_sign_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

EXAMPLES = 6
MORE_EXAMPLES = {"/connect/authorize": 60, "/connect/token": 20, "/connect/par": 20}
URL_VALUE = 4000
ORIGIN = "https://portal.test"  # https, as every deployment's issuer is (Authlib insists)
VERIFY_LINK = re.compile(r"https://portal\.test(/portal/verify\?token=[\w-]+)")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")
READS = re.compile(r'(?:query_params\.get|form\.get|form\.getlist|field)\((?:form, )?"(\w+)"')
OAUTH = (
    "response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
    "code_challenge_method", "request_uri", "grant_type", "code", "code_verifier",
    "refresh_token", "token", "token_type_hint", "client_secret", "error",
)  # fmt: skip
NASTY = (
    "\u00b2", "\u0663", "-1", "0", "1e3", "1_0", " +7 ", "99999999999999999999999", "",
    "\x00", "a\x00b", "\x1b[2J\x1b]0;x\x07", "\r\nX-Injected: 1", "\ud7ff\ufffe", "\u202e",
    '"', "'", "\\", "%00", "%22", "../../etc/passwd", "https://[", "<script>", "{{7*7}}",
    "Europe/" + "A" * 200_000, "9" * 200_000, "\x1b" * 50_000,
)  # fmt: skip
# Each alone in each field of every form: values that once raised (int, zoneinfo, Authlib).
BREAKERS = ("\u00b2", "\x00", "\x1b[2J", '"\n', "Europe/" + "A" * 200_000)
SKIPPED = ("/static",)
LAST = ("/logout",)  # these end the signed-in sessions: fuzzed after everything else


def odd_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NASTY),
        st.text(max_size=40),
        st.text(st.characters(max_codepoint=0x9F), max_size=20),
    )


def json_value() -> st.SearchStrategy[Any]:
    scalar = st.one_of(odd_text(), st.integers(), st.booleans(), st.none(), st.floats())
    return st.one_of(scalar, st.lists(scalar, max_size=3), st.dictionaries(odd_text(), scalar))


class Forms(HTMLParser):
    """Every form of a page: its action, method and the fields it posts (with their values)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append((values.get("action", ""), values.get("method", "get"), {}))
        elif tag in ("input", "textarea", "select", "option", "button") and self.forms:
            fields = self.forms[-1][2]
            name = values.get("name")
            if name and name not in fields:
                fields[name] = values.get("value", "")


@dataclass
class Target:
    method: str
    path: str  # a route template ({name} placeholders) or a concrete URL
    names: set[str] = field(default_factory=set)
    base: dict[str, str] = field(default_factory=dict)
    json_body: bool = False
    sweep: bool = False  # also try each name alone with each breaker


def route_table(table: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    for route in table:
        if isinstance(route, Mount) and not route.path.startswith(SKIPPED):
            yield from route_table(list(route.routes), prefix + route.path)
        elif isinstance(route, Route):
            yield prefix + route.path, set(route.methods or ()) - {"HEAD"}


def names_read_by_handlers() -> set[str]:
    folder = Path(termgate.web.__file__).parent
    return {name for path in folder.rglob("*.py") for name in READS.findall(path.read_text())}


def admin_targets() -> list[Target]:
    """Every operation of the admin API's generated document, with its query and body names."""
    document = create_admin_api().openapi()
    schemas = document["components"]["schemas"]
    targets = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            body = operation.get("requestBody")
            if body is not None:
                schema = body["content"]["application/json"]["schema"]
                for ref in [schema, *schema.get("anyOf", [])]:
                    if "$ref" in ref:
                        names |= set(schemas[ref["$ref"].rsplit("/", 1)[1]]["properties"])
            target = Target(method.upper(), "/admin/api" + path, names, {}, body is not None)
            target.sweep = bool(names)
            targets.append(target)
    assert len(targets) >= 25, "the admin API's operations were read"
    return targets


async def sign_up(site: Site, email: str) -> None:
    response = await site.post_form(
        "/portal/signup",
        {"name": "Bob", "email": email, "organisation": "Bob ICT", "password": DEVELOPER_PASSWORD},
    )
    assert response.status_code == 200, response.text
    [mail] = await site.mail_to(email)
    link = VERIFY_LINK.search(mail.body)
    assert link, mail.body
    assert (await site.client.get(link.group(1))).status_code == 200


async def signed_in_everywhere(site: Site) -> dict[str, str]:
    """A developer with an application, an administrator and an end user share one session;
    the ids their pages link to are returned for the path parameters."""
    programme = await seed_programme(site)
    await sign_up(site, "bob@example.nl")
    await portal_sign_in(site, "bob@example.nl")
    await accept_current_terms(site)
    app_id = await register_app(site)
    await console_sign_in(site)
    client = await register_client(site, "Payslip Phone")
    async with site.sessions.begin() as session:
        users = await import_logins(session, generate(20260401, 50), 3)
        subscription = await session.get_one(Subscription, programme.subscription_id)
    token = CSRF.search((await site.client.get("/connect/login")).text)
    assert token
    login = await site.client.post(
        "/connect/login",
        data={"csrf_token": token.group(1), "username": users[0].username, "password": PASSWORD},
    )
    assert login.status_code == 303, login.text
    return {
        "app_id": app_id,
        "application_id": programme.application_id,
        "developer_id": programme.developer_id,
        "party_id": programme.developer_id,
        "subscription_id": programme.subscription_id,
        "key_id": programme.key_id,
        "review_id": programme.review_id,
        "plan_id": subscription.plan_id,
        "version": "1.0",
        "kind": "developer",
        "slot": "primary",
        "client_id": client.client_id,
        "admin_token": programme.token,
    }


def known_requests(known: dict[str, str]) -> dict[tuple[str, str], dict[str, str]]:
    """Valid requests to start from, so one odd parameter meets the checks behind the others."""
    authorization = {
        "response_type": "code",
        "client_id": known["client_id"],
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPES,
        "state": "s",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    return {
        ("GET", "/connect/authorize"): authorization,
        ("POST", "/connect/par"): authorization,
        ("POST", "/connect/token"): {
            "grant_type": "authorization_code",
            "client_id": known["client_id"],
            "redirect_uri": REDIRECT_URI,
            "code": "unknown",
            "code_verifier": "v" * 43,
        },
    }


def fill(template: str, known: dict[str, str]) -> str:
    return PARAMETER.sub(lambda match: quote(known.get(match.group(1), "x"), safe=""), template)


async def discover(site: Site, known: dict[str, str]) -> list[Target]:
    """The route table, the forms on every page it can show, and the admin API's models."""
    read = names_read_by_handlers() | set(OAUTH)
    targets: list[Target] = []
    pages = []
    for template, methods in route_table(routes()):
        if template.startswith("/admin/api"):
            continue
        names = set(OAUTH) if template.startswith("/connect/") else read
        for method in sorted(methods):
            base = known_requests(known).get((method, template), {})
            targets.append(Target(method, template, set(names), base, sweep=bool(base)))
        if "GET" in methods:
            pages.append(fill(template, known))
    for page in pages:
        answer = await site.client.get(page)
        if not answer.headers.get("content-type", "").startswith("text/html"):
            continue
        parser = Forms()
        parser.feed(answer.text)
        for action, method, fields in parser.forms:
            names = set(fields) - {"csrf_token"}  # the form's own fields: each one matters
            targets.append(Target(method.upper(), action or page, names, fields, sweep=True))
    return targets + admin_targets()


def ordered(targets: list[Target]) -> list[Target]:
    return sorted(targets, key=lambda target: target.path.endswith(LAST))


@dataclass
class Prober:
    """Sends one request to a target from Hypothesis's worker thread; records any 500."""

    site: Site
    known: dict[str, str]
    csrf: str
    loop: asyncio.AbstractEventLoop
    failures: list[str] = field(default_factory=list)

    def send(
        self, target: Target, params: dict[str, Any], path: dict[str, str], keep: bool
    ) -> None:
        # A URL cannot carry 200,000 characters (servers cap the request line; so does httpx):
        # huge values go in bodies, and are cut short in paths and queries.
        path = {name: value[:URL_VALUE] for name, value in path.items()}
        url = fill(target.path, {**self.known, **path})
        client = self.site.client
        headers = {"Authorization": f"Bearer {self.known['admin_token']}"}
        if target.method == "GET":
            query = {k: str(v)[:URL_VALUE] for k, v in {**target.base, **params}.items()}
            request = client.get(url, params=query, headers=headers)
        elif target.json_body:
            content = json.dumps(params)
            request = client.request(target.method, url, content=content, headers=headers)
        else:
            form = {**target.base, **params, **({"csrf_token": self.csrf} if keep else {})}
            request = client.request(target.method, url, data=form, headers=headers)
        try:
            answer = asyncio.run_coroutine_threadsafe(request, self.loop).result(timeout=60)
        except Exception as error:  # the app raised: what a 500 would have been
            self.failures.append(f"{target.method} {url}: {type(error).__name__}: {error}"[:500])
            raise
        if answer.status_code >= 500 or "Traceback" in answer.text:
            self.failures.append(f"{target.method} {url} {sorted(params)}: {answer.status_code}")
        assert answer.status_code < 500

    def sweep(self, target: Target) -> None:
        """Each field of a form (or API model) alone given each breaker, the rest valid."""
        for name in sorted(target.names):
            for value in BREAKERS:
                self.send(target, {name: value}, {}, keep=True)

    def fuzz(self, target: Target) -> None:
        names = sorted(target.names) or ["q"]
        values = json_value() if target.json_body else odd_text()
        path_values = {
            name: st.one_of(st.just(self.known[name]), odd_text())
            if name in self.known
            else odd_text()
            for name in PARAMETER.findall(target.path)
        }

        @bounded(
            max_examples=MORE_EXAMPLES.get(target.path, EXAMPLES),
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(
            st.dictionaries(st.sampled_from(names), values, max_size=3),
            st.fixed_dictionaries(path_values),
            st.booleans() | st.just(True),
        )
        def run(params: dict[str, Any], path: dict[str, str], keep: bool) -> None:
            self.send(target, params, path, keep)

        run()


@pytest.mark.timeout(600)  # grows with the route table: a few examples for each of >100 targets
async def test_clause_3_1_no_form_or_query_parameter_of_the_control_plane_yields_a_500(
    https_site: Site,
) -> None:
    site = https_site
    known = await signed_in_everywhere(site)
    csrf = CSRF.search((await site.client.get("/portal")).text)
    assert csrf
    targets = ordered(await discover(site, known))
    assert len(targets) > 100, "the route table and the pages' forms were read"
    prober = Prober(site, known, csrf.group(1), asyncio.get_running_loop())
    cookies = httpx.Cookies(site.client.cookies)
    for target in targets:
        site.client.cookies = httpx.Cookies(cookies)  # signed in again, whatever came before
        if target.sweep:
            await asyncio.to_thread(prober.sweep, target)
        await asyncio.to_thread(prober.fuzz, target)
    assert not prober.failures, prober.failures[:10]


@pytest.fixture
async def settings_with_example_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    credentials = tmp_path / "demo-credentials.json"
    credentials.write_text(
        json.dumps(
            {
                "client_id": "nobody",
                "client_secret": "nothing",
                "redirect_uri": f"{ORIGIN}/example-client/callback",
                "production_subscription_key": "tg_nothing",
            }
        )
    )
    monkeypatch.setattr("termgate.web.example_client.CREDENTIALS", credentials)
    return load_settings(
        secret_key="x" * 40, smtp_port=free_port(), public_url=ORIGIN, example_client="true",
    )  # fmt: skip


@pytest.fixture
async def settings(settings_with_example_client: Settings) -> Settings:
    return settings_with_example_client


@pytest.fixture
async def https_site(site: Site) -> AsyncIterator[Site]:
    """The `site` fixture's app and database, reached at its https origin."""
    app = site.client._transport.app  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
        yield Site(client, site.sessions, site.settings)
