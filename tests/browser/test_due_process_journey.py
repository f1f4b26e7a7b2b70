"""Due process in the browser, on a server whose clock is moved two days ahead by configuration:
a developer reports an incident and the console shows its 72-hour clock counted from the
discovery; one click contains it by revoking only the affected end user's tokens; the provider
terminates another developer, who attests deletion through the mailed link. Every step is in the
audit chain, which still verifies."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from termgate.cli.demo_seed import END_USER_PASSWORD
from termgate.core.audit import verify_chain
from termgate.core.passwords import hash_password
from termgate.db.due_process_records import DeletionAttestation
from termgate.db.engine import create_engine, session_factory
from termgate.db.models import Developer, new_id
from termgate.db.oauth import EndUser, TokenFamily
from termgate.identity.consents import grant_consent
from termgate.identity.tokens import open_family
from termgate.registry.applications import create_application
from termgate.registry.developers import create_developer
from termgate.registry.terms import accept_terms, current_terms
from tests.browser.conftest import Stack, photograph
from tests.browser.steps import open_mail_link, sign_in_to_console
from tests.conftest import free_port
from tests.support.processes import serving

TWO_DAYS = timedelta(days=2)
PASSWORD = "incident walk passphrase"


@dataclass(frozen=True)
class Party:
    email: str
    application: str
    end_users: list[tuple[str, str]]  # (username, token family id)


@pytest.fixture(scope="module")
async def moved(stack: Stack) -> AsyncIterator[str]:
    """The same termgate on the same database with its clock two days ahead."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **stack.env,
        "TERMGATE_PORT": str(port),
        "TERMGATE_PUBLIC_URL": url,
        "TERMGATE_CLOCK_OFFSET_SECONDS": str(TWO_DAYS.total_seconds()),
    }
    async with serving(["-m", "termgate.server"], f"{url}/healthz", env):
        yield url


async def _party(stack: Stack, connected: int) -> Party:
    """A developer with a password and an application that `connected` end users consented to
    (through the registry's and the consent ledger's own functions)."""
    suffix = new_id()[:8]
    engine = create_engine(stack.database_url)
    try:
        async with session_factory(engine).begin() as session:
            developer = await create_developer(
                session, email=f"dev-{suffix}@example.nl", name=f"Dev {suffix}", actor="tests"
            )
            developer.password_hash = hash_password(PASSWORD)
            developer.email_verified_at = datetime.now(UTC)
            terms = await current_terms(session)
            assert terms is not None
            await accept_terms(session, developer, terms, "127.0.0.1", "tests")
            application = await create_application(
                session, developer, name=f"Payroll mirror {suffix}", actor="tests"
            )
            end_users = []
            for number in range(connected):
                user = EndUser(
                    upstream_id=str(30_000_000 + int(suffix, 16) % 1_000_000 + number),
                    username=f"walk-{suffix}-{number}",
                    email=f"walk-{suffix}-{number}@example.nl",
                    display_name=f"Walker {number}",
                    password_hash=hash_password(END_USER_PASSWORD),
                    debtor_ids="1001",
                )
                session.add(user)
                await session.flush()
                consent = await grant_consent(
                    session,
                    end_user=user,
                    application=application,
                    scopes="employee.employment.read",
                    debtors=("1001",),
                    ip="127.0.0.1",
                    user_agent="tests",
                    now=datetime.now(UTC),
                )
                family = await open_family(session, consent)
                end_users.append((user.username, family.id))
            return Party(developer.email, application.name, end_users)
    finally:
        await engine.dispose()


async def _revoked(stack: Stack, family_id: str) -> bool:
    engine = create_engine(stack.database_url)
    try:
        async with session_factory(engine)() as session:
            family = await session.get_one(TokenFamily, family_id)
            return family.revoked_at is not None
    finally:
        await engine.dispose()


async def _chain_intact(stack: Stack) -> bool:
    engine = create_engine(stack.database_url)
    try:
        async with session_factory(engine)() as session:
            return await verify_chain(session) is None
    finally:
        await engine.dispose()


async def _sign_in_developer(page: Page, base: str, email: str) -> None:
    await page.goto(f"{base}/portal/login")
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name=re.compile("^Welcome, "))).to_be_visible()


async def test_clause_5_1_incident_clock_from_discovery_and_one_click_containment(
    page: Page, stack: Stack, moved: str
) -> None:
    party = await _party(stack, connected=2)
    (hit, hit_family), (_spared, spared_family) = party.end_users
    await _sign_in_developer(page, moved, party.email)
    await page.get_by_role("link", name="Incidents").click()
    await page.get_by_label("Application").select_option(label=party.application)
    await page.get_by_label("What happened").fill("An export with salaries was e-mailed outside.")
    # Discovered an hour ago by the wall clock: 49 hours ago by the server's moved clock.
    discovered = datetime.now(UTC) - timedelta(hours=1)
    await page.get_by_label("Discovered at (UTC)").fill(discovered.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_label("Affected end users").fill(hit)
    await page.get_by_label("Data categories").fill("salaries")
    await page.get_by_label("What you did to contain it").fill("Mailbox purged.")
    await page.get_by_role("button", name="Report incident").click()
    await expect(page.get_by_role("status")).to_contain_text("reported")

    console = page
    await console.goto(f"{moved}/console/login")
    await sign_in_to_console(console, stack.demo.console_email, stack.demo.console_password)
    await console.goto(f"{moved}/console/incidents")
    await (
        console.get_by_role("row", name=re.compile("e-mailed outside")).get_by_role("link").click()
    )
    clock = console.get_by_test_id("clock")
    await expect(clock).to_contain_text(re.compile(r"2[23] h \d\d min left"))
    await photograph(console, "console-incident-clock")
    await console.get_by_role("button", name="Revoke the affected end users' tokens").click()
    await expect(console.get_by_role("status")).to_contain_text("1 token families revoked")
    await expect(console.get_by_test_id("state")).to_have_text("contained")
    assert await _revoked(stack, hit_family)
    assert not await _revoked(stack, spared_family)

    await console.get_by_label("Notice (shown on their connected-apps page and mailed)").fill(
        "Your salary was in an export sent to the wrong address. It has been deleted."
    )
    await console.get_by_role("button", name="Send notice").click()
    await expect(console.get_by_role("status")).to_contain_text("1 end users told")
    assert await _chain_intact(stack)


async def test_clause_6_termination_revokes_everything_and_the_developer_attests_deletion(
    page: Page, stack: Stack, moved: str
) -> None:
    party = await _party(stack, connected=1)
    [(_user, family)] = party.end_users
    console = page
    await console.goto(f"{moved}/console/login")
    await sign_in_to_console(console, stack.demo.console_email, stack.demo.console_password)
    await console.goto(f"{moved}/console/terminations")
    await console.get_by_label("Developer").select_option(label=party.email)
    await console.get_by_label("Ground").select_option("uncured-breach")
    await console.get_by_label("Reason").fill("Harvesting not cured within 10 days.")
    await console.get_by_role("button", name="Terminate").click()
    await expect(console.get_by_role("status")).to_contain_text("1 token families")
    assert await _revoked(stack, family)
    outstanding = console.get_by_role("row", name=re.compile(re.escape(party.email)))
    await expect(outstanding.first).to_be_visible()

    link = await open_mail_link(console, party.email, "/portal/attest/")
    await page.goto(link)
    await page.get_by_label("What was deleted").fill("All payroll data, including backups.")
    today = (datetime.now(UTC) + TWO_DAYS).strftime("%Y-%m-%d")
    await page.get_by_label("Deleted on").fill(today)
    await page.get_by_label("Deleted by").fill("Our CTO")
    await page.get_by_role("button", name="Sign attestation").click()
    await expect(page.get_by_role("status")).to_contain_text("signed and recorded")
    await photograph(page, "portal-deletion-attestation")

    engine = create_engine(stack.database_url)
    try:
        async with session_factory(engine)() as session:
            developer = await session.scalar(
                select(Developer).where(Developer.email == party.email)
            )
            assert developer is not None
            attested = await session.scalar(
                select(DeletionAttestation).where(DeletionAttestation.developer_id == developer.id)
            )
            assert attested is not None
            assert attested.deleted_by == "Our CTO"
    finally:
        await engine.dispose()
    assert await _chain_intact(stack)
