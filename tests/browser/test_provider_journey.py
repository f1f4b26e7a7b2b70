"""The provider in the console and two developers in the portal: production approval (3.2), a terms
amendment that one developer re-accepts and one does not, and the gateway refusing the latter's
production traffic after the deadline (9), with the gateway's clock moved by configuration."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import httpx
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from termgate.cli.demo_seed import BRAM, DEVELOPER_PASSWORD
from termgate.db.engine import create_engine, session_factory
from termgate.db.key_seal import KeySeal
from termgate.db.models import Application
from termgate.db.oauth import TokenFamily
from termgate.identity.tokens import token_for_family
from tests.browser.conftest import Stack, photograph
from tests.browser.steps import sign_in_to_console, sign_in_to_portal, token_through_consent
from tests.conftest import free_port
from tests.support.processes import serving

A_MONTH = timedelta(days=31)
A_MONTH_LATER = str(A_MONTH.total_seconds())


async def approve_pending_request(console: Page, application: str) -> None:
    await console.get_by_role("link", name=re.compile("^Reviews")).click()
    await photograph(console, "console-reviews")
    review = console.locator("section", has=console.get_by_role("heading", name=application))
    await review.get_by_role("button", name="Approve production access").click()
    await expect(console.get_by_role("status")).to_have_text(
        f"Production access for {application} approved; a notice to the developer is queued."
    )


async def app_id_of(page: Page) -> str:
    """The application the developer's page is showing (its id is the OAuth client_id)."""
    await page.get_by_role("link", name=re.compile("I have stored")).click()
    return page.url.rstrip("/").rsplit("/", 1)[1]


async def subscribe_to_production(page: Page, application: str) -> str:
    await page.get_by_role("link", name="Applications", exact=True).click()
    await page.get_by_role("link", name=application).click()
    await page.get_by_label("Subscribe to").select_option(label="Production · Standard")
    await page.get_by_role("button", name="Subscribe and get keys").click()
    return (await page.locator("#secret-primary").inner_text()).strip()


async def publish_amendment(console: Page) -> None:
    await console.get_by_role("link", name="Terms", exact=True).click()
    await console.get_by_label("Version").fill("1.1")
    await console.get_by_label("What changed").fill("Breach notices now give fourteen days.")
    body = console.get_by_label("Full text")
    await body.fill((await body.input_value()).replace("ten days", "fourteen days"))
    await console.get_by_label("Days to accept").fill("30")
    await photograph(console, "console-terms")
    await console.get_by_role("button", name="Publish and notify every developer").click()
    await expect(console.get_by_text("1.1 — ")).to_be_visible()


async def reaccept(page: Page) -> None:
    await page.get_by_role("link", name=re.compile("^Inbox")).click()
    await expect(page.get_by_role("heading", name=re.compile("1.1: please review"))).to_be_visible()
    await page.get_by_role("link", name="Terms", exact=True).click()
    await expect(page.get_by_text("Changes since version 1.0")).to_be_visible()
    await photograph(page, "portal-amended-terms")
    await page.get_by_label(re.compile("I have read version 1.1")).check()
    await page.get_by_role("button", name="Accept version 1.1").click()
    await expect(page.get_by_role("status")).to_have_text("You accepted version 1.1 of the terms.")


async def token_a_month_later(stack: Stack, application: str) -> str:
    """The access token the application would get by refreshing a month from now (signed with
    the stack's key, sealed under the stack's secret key)."""
    stack_seal = KeySeal.from_secret(stack.env["TERMGATE_SECRET_KEY"])
    engine = create_engine(stack.database_url)
    try:
        async with session_factory(engine).begin() as session:
            family = await session.scalar(
                select(TokenFamily)
                .join(Application, TokenFamily.application_id == Application.id)
                .where(Application.name == application, TokenFamily.revoked_at.is_(None))
                .order_by(TokenFamily.created_at.desc())
                .limit(1)
            )
            assert family is not None
            return await token_for_family(
                session, family, stack.url, datetime.now(UTC) + A_MONTH, stack_seal
            )
    finally:
        await engine.dispose()


async def call(url: str, key: str, token: str, path: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url) as client:
        headers = {"X-Subscription-Key": key, "Authorization": f"Bearer {token}"}
        return await client.get(path, headers=headers)


async def answers_within_a_second(
    url: str, key: str, token: str, path: str, status: int
) -> httpx.Response:
    """Every node applies a registry change within a second (its snapshot refresh)."""
    deadline = asyncio.get_running_loop().time() + 1.0
    while (response := await call(url, key, token, path)).status_code != status:
        assert asyncio.get_running_loop().time() < deadline, response.text
        await asyncio.sleep(0.05)
    return response


async def test_clause_9_amendment_reaccepted_by_one_developer_refuses_the_other_after_deadline(
    browser: Browser, stack: Stack
) -> None:
    provider = await browser.new_context(base_url=stack.url)
    console = await provider.new_page()
    await sign_in_to_console(console, stack.demo.console_email, stack.demo.console_password)
    await photograph(console, "console-overview")
    await approve_pending_request(console, "HR Sync")

    bram_context = await browser.new_context(base_url=stack.url)
    bram = await bram_context.new_page()
    await sign_in_to_portal(bram, BRAM[0], DEVELOPER_PASSWORD)
    bram_key = await subscribe_to_production(bram, "HR Sync")
    user = next(u for u in stack.demo.end_users if u["environment"] == "production")
    debtors = user["debtors"]
    assert isinstance(debtors, list)
    [debtor] = debtors
    async with httpx.AsyncClient(base_url=stack.upstream_url) as upstream:
        company = (await upstream.get(f"/api/debtors/{debtor}/companies")).json()["data"][0]
    employees = f"/api/companies/{company['companyId']}/employees?pageSize=5"
    bram_token = await token_through_consent(
        bram,
        stack,
        await app_id_of(bram),
        "https://hr-sync.example/callback",
        "employee.info.read",
        str(user["username"]),
    )
    await answers_within_a_second(stack.url, bram_key, bram_token, employees, 200)

    await publish_amendment(console)
    demi_context = await browser.new_context(base_url=stack.url)
    demi = await demi_context.new_page()
    await sign_in_to_portal(demi, stack.demo.developer_email, stack.demo.developer_password)
    await reaccept(demi)

    port = free_port()
    env = {**stack.env, "TERMGATE_PORT": str(port), "TERMGATE_CLOCK_OFFSET_SECONDS": A_MONTH_LATER}
    later = f"http://127.0.0.1:{port}"
    async with serving(["-m", "termgate.server"], f"{later}/healthz", env):
        # A month on, each application holds a token refreshed then for the same consent.
        bram_then = await token_a_month_later(stack, "HR Sync")
        refused = await call(later, bram_key, bram_then, employees)
        assert refused.status_code == 403
        assert refused.json()["clause"] == "9"
        demi_then = await token_a_month_later(stack, "Payroll Insights")
        demi_key = stack.demo.production_subscription_key
        assert (await call(later, demi_key, demi_then, "/api/companies")).status_code == 200
    # Before the deadline the same request is admitted.
    assert (await call(stack.url, bram_key, bram_token, employees)).status_code == 200
    for context in (provider, bram_context, demi_context):
        await context.close()
