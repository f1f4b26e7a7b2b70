"""Clauses 4.2 and 6.2 in the browser: a finding of the monitoring opens a case (the scheduler's
`finding-cases` job); the notice reaches the developer's inbox and mail; the developer replies
with a file; the provider accepts the cure. A second case, opened by hand and left unanswered, is
escalated by the scheduler of a node whose clock stands ten days later: the application is
suspended and both gateway nodes refuse it; the audit chain verifies."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from termgate.core.audit import verify_chain
from termgate.core.passwords import hash_off_loop
from termgate.db.due_process import Case
from termgate.db.engine import create_engine, session_factory
from termgate.db.key_seal import KeySeal
from termgate.db.models import Application, utcnow
from termgate.db.monitoring import Finding
from termgate.db.oauth import EndUser
from termgate.identity.consents import grant_consent
from termgate.identity.tokens import open_family, token_for_family
from termgate.monitoring.findings import FindingDraft, record_finding
from termgate.registry.applications import create_application
from termgate.registry.developers import create_developer
from termgate.registry.keys import issue_key, subscribe
from termgate.registry.products import find_plan
from termgate.registry.terms import accept_terms, current_terms
from tests.browser.conftest import Stack, photograph
from tests.browser.steps import sign_in_to_console, sign_in_to_portal
from tests.conftest import free_port
from tests.support.processes import serving
from tests.support.timing import within

EMAIL = "erik@salary-export.example"
PASSWORD = "cases-journey-2026"
APPLICATION = "Salary Export"
TEN_DAYS_LATER = str(10 * 86_400 + 120)


@dataclass(frozen=True)
class Client:
    application_id: str
    key: str
    token: str
    later_token: str  # the token the application would hold ten days on
    path: str


async def _developer_with_access(stack: Stack) -> Client:
    """A developer of our own (so the shared demo parties stay as they are) with a sandbox key
    and an end user's token, signed with the stack's key."""
    user = next(u for u in stack.demo.end_users if u["environment"] == "sandbox")
    debtors = user["debtors"]
    assert isinstance(debtors, list)
    engine = create_engine(stack.database_url)
    try:
        async with session_factory(engine).begin() as session:
            developer = await create_developer(
                session, email=EMAIL, name="Erik de Vries", actor="tests"
            )
            developer.password_hash = await hash_off_loop(PASSWORD)
            developer.email_verified_at = utcnow()
            terms = await current_terms(session)
            assert terms is not None
            await accept_terms(session, developer, terms, "127.0.0.1", "tests")
            application = await create_application(
                session, developer, name=APPLICATION, actor="tests"
            )
            plan = await find_plan(session, "sandbox")
            issued = await issue_key(
                session, await subscribe(session, application, plan, actor="tests"), actor="tests"
            )
            end_user = await session.scalar(
                select(EndUser).where(EndUser.username == user["username"])
            )
            assert end_user is not None
            now = datetime.now(UTC)
            consent = await grant_consent(
                session,
                end_user=end_user,
                application=application,
                scopes="company.info.read",
                debtors=tuple(str(d) for d in debtors),
                ip="127.0.0.1",
                user_agent="tests",
                now=now,
            )
            seal = KeySeal.from_secret(stack.env["TERMGATE_SECRET_KEY"])
            family = await open_family(session, consent)
            token = await token_for_family(session, family, stack.url, now, seal)
            later = now + timedelta(seconds=float(TEN_DAYS_LATER))
            later_token = await token_for_family(session, family, stack.url, later, seal)
            path = f"/api/debtors/{debtors[0]}/companies"
            return Client(application.id, issued.secret, token, later_token, path)
    finally:
        await engine.dispose()


async def _code(url: str, client: Client, token: str) -> tuple[int, object]:
    headers = {"X-Subscription-Key": client.key, "Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url) as http:
        answer = await http.get(client.path, headers=headers)
    body = answer.json() if answer.headers.get("content-type", "").endswith("json") else {}
    return answer.status_code, body.get("code") if isinstance(body, dict) else None


async def _open_case(console: Page, application_id: str, clauses: str, summary: str) -> str:
    await console.get_by_role("link", name="Cases", exact=True).click()
    await console.get_by_label("Developer (e-mail address or id)").fill(EMAIL)
    await console.get_by_label("Application id").fill(application_id)
    await console.get_by_label("Clauses").fill(clauses)
    await console.get_by_label("What was seen").fill(summary)
    await console.get_by_role("button", name="Open the case and notify the developer").click()
    await expect(console.locator("#case-state")).to_have_text("noticed")
    return console.url.rstrip("/").rsplit("/", 1)[1]


async def _case_from_a_finding(stack: Stack, client: Client, summary: str) -> str:
    """A least-privilege finding about the application, and the case the stack's scheduler opens
    for it at its next poll (`finding-cases`, every 30 s)."""
    engine = create_engine(stack.database_url)
    try:
        sessions = session_factory(engine)
        async with sessions.begin() as session:
            application = await session.get_one(Application, client.application_id)
            draft = FindingDraft(
                "least_privilege",
                "3.3 e",
                "minor",
                application.developer_id,
                application.id,
                None,
                "least_privilege:scopes",
                summary,
                {"granted": 6, "used": 2},
            )
            finding = await record_finding(session, draft, now=utcnow(), simulated=False)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within(45.0)
        while True:
            async with sessions() as session:
                opened = select(Case).where(Case.finding_ids.contains(finding.id))
                case = await session.scalar(opened)
                if case is not None:
                    assert case.state == "noticed"
                    stored = await session.get_one(Finding, finding.id)
                    assert stored.state == "actioned"
                    return case.id
            assert loop.time() < deadline, "no case opened from the finding"
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()


@pytest.fixture
async def pages(browser: Browser, stack: Stack) -> AsyncIterator[tuple[Page, Page]]:
    provider = await browser.new_context(base_url=stack.url)
    developer = await browser.new_context(base_url=stack.url)
    yield await provider.new_page(), await developer.new_page()
    await provider.close()
    await developer.close()


# The first browser test of a session also bears the stack's start (about a minute on a busy
# machine); this walk starts a second node too.
@pytest.mark.timeout(300)
async def test_clause_4_2_notice_reply_cure_and_day_10_suspension_on_every_node(
    stack: Stack, pages: tuple[Page, Page], tmp_path: Path
) -> None:
    client = await _developer_with_access(stack)
    console, portal = pages
    await sign_in_to_console(console, stack.demo.console_email, stack.demo.console_password)
    first = await _case_from_a_finding(stack, client, "Every permission requested, two ever used")

    await sign_in_to_portal(portal, EMAIL, PASSWORD)
    await portal.get_by_role("link", name=re.compile("^Inbox")).click()
    await expect(
        portal.get_by_role(
            "heading", name=re.compile(r"Notice of a suspected breach \(clause 3.3 e\)")
        )
    ).to_be_visible()
    await portal.get_by_role("link", name="Cases", exact=True).click()
    await portal.get_by_role("link", name="Every permission requested, two ever used").click()
    await expect(portal.get_by_text("Remedy by")).to_be_visible()
    evidence = tmp_path / "scopes after the change.txt"
    evidence.write_text("Requested now: company.info.read only.\n")
    await portal.get_by_label("Your reply").fill("We dropped every permission we do not use.")
    await portal.get_by_label("Files").set_input_files(evidence)
    await photograph(portal, "portal-case-reply")
    await portal.get_by_role("button", name="Send reply").click()
    await expect(portal.get_by_role("status")).to_have_text("Your reply was sent to the provider.")
    await expect(portal.get_by_role("link", name="scopes_after_the_change.txt")).to_be_visible()

    await console.goto("/console/mail")
    await expect(
        console.locator("article", has_text=EMAIL).filter(has_text="Notice of a suspected breach")
    ).to_have_count(1)
    await console.goto(f"/console/cases/{first}")
    await expect(console.get_by_text("We dropped every permission we do not use.")).to_be_visible()
    await console.get_by_label("Why the remedy is accepted").fill("Permissions reduced; verified.")
    await console.get_by_role("button", name="Accept the cure").click()
    await expect(console.locator("#case-state")).to_have_text("cured")
    await photograph(console, "console-case-cured")

    second = await _open_case(console, client.application_id, "3.3 d", "Nightly full re-downloads")
    status, code = await _code(stack.url, client, client.token)
    assert code != 40301, (status, code)

    port = free_port()
    later = f"http://127.0.0.1:{port}"
    env = {
        **stack.env,
        "TERMGATE_PORT": str(port),
        "TERMGATE_CLOCK_OFFSET_SECONDS": TEN_DAYS_LATER,
        "TERMGATE_SCHEDULER_POLL_SECONDS": "0.2",
    }
    async with serving(["-m", "termgate.server"], f"{later}/healthz", env):
        engine = create_engine(stack.database_url)
        try:
            sessions = session_factory(engine)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while True:
                async with sessions() as session:
                    case = await session.get_one(Case, second)
                    if case.state == "suspended":
                        break
                assert loop.time() < deadline, case.state
                await asyncio.sleep(0.1)
            suspended_at = loop.time()
            for node, token in ((stack.url, client.token), (later, client.later_token)):
                while (answer := await _code(node, client, token)) != (403, 40301):
                    assert loop.time() - suspended_at < within(1.0), (node, answer)
                    await asyncio.sleep(0.05)
            async with sessions() as session:
                application = await session.get_one(Application, client.application_id)
                assert application.status.value == "suspended"
                assert await verify_chain(session) is None
        finally:
            await engine.dispose()

    await portal.goto(f"/portal/cases/{second}")
    await expect(portal.locator("#case-state")).to_have_text("suspended")
    await portal.get_by_role("link", name=re.compile("^Inbox")).click()
    await expect(
        portal.get_by_role("heading", name=re.compile(r"Access suspended \(clause 3.3 d\)"))
    ).to_be_visible()
    await console.goto(f"/console/cases/{first}")
    await expect(console.locator("#case-state")).to_have_text("cured")
