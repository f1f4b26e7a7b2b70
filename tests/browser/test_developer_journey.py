"""A new developer, in a real browser: sign up, verify, accept the terms, register an application,
subscribe to the sandbox, copy the key, and call the API through the gateway with it."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import Stack, photograph
from tests.browser.steps import open_mail_link, sign_in_to_console, token_through_consent

PASSWORD = "a long enough passphrase"
REDIRECT_URI = "https://insights.loonwijzer.example/callback"


async def sign_up(page: Page, email: str) -> None:
    await page.goto("/portal")
    await photograph(page, "portal-landing")
    await page.get_by_role("link", name="Create a developer account").click()
    await page.get_by_label("Full name").fill("Noor El Amrani")
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Organisation").fill("Loonwijzer B.V.")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()


async def verify_and_sign_in(page: Page, console: Page, stack: Stack, email: str) -> None:
    await sign_in_to_console(console, stack.demo.console_email, stack.demo.console_password)
    await page.goto(await open_mail_link(console, email, "/portal/verify"))
    await expect(page.get_by_role("heading", name="Your address is confirmed")).to_be_visible()
    await page.get_by_role("link", name="Sign in").last.click()
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Welcome, Noor El Amrani")).to_be_visible()


async def accept_terms(page: Page) -> None:
    await page.get_by_role("link", name="Review and accept").click()
    await page.get_by_label(re.compile("I have read version")).check()
    await photograph(page, "portal-terms")
    await page.get_by_role("button", name=re.compile("Accept version")).click()
    await expect(page.get_by_role("status")).to_have_text("You accepted version 1.0 of the terms.")


async def register_application(page: Page) -> None:
    await page.get_by_role("link", name="Register an application").first.click()
    await page.get_by_label("Application name").fill("Loonwijzer Insights")
    await page.get_by_label("What it does").fill("Salary cost dashboards for accountants.")
    await page.get_by_label("Use case").select_option("analytics")
    await page.get_by_label("How it reads data").select_option("periodic_reports")
    await page.get_by_label("Why it needs payroll data").fill(
        "Aggregated salary costs per company for the customer's own accountants."
    )
    await page.get_by_label(re.compile("employee.employment.read")).check()
    await page.get_by_label(re.compile("company.info.read")).check()
    await page.get_by_label("Redirect URIs").fill(REDIRECT_URI)
    await page.get_by_label("Expected number of end users").fill("25")
    await photograph(page, "portal-register-application")
    await page.get_by_role("button", name="Register application").click()
    await expect(page.get_by_role("heading", name="Loonwijzer Insights")).to_be_visible()
    await expect(page.get_by_text("For reports at the end of a period")).to_be_visible()


async def subscribe_and_copy_key(page: Page) -> str:
    await page.get_by_label("Subscribe to").select_option(label="Sandbox · Sandbox (free)")
    await page.get_by_role("button", name="Subscribe and get keys").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    await photograph(page, "portal-keys")
    # The clipboard takes text only from the focused document; the console's tab opened earlier in
    # this test may still hold the focus on a busy machine.
    await page.bring_to_front()
    await dialog.get_by_role("button", name="Copy primary key").click()
    await expect(dialog.get_by_text("Copied.")).to_be_visible()
    copied: str = await page.evaluate("navigator.clipboard.readText()")
    assert copied == (await page.locator("#secret-primary").inner_text()).strip()
    await dialog.get_by_role("link", name=re.compile("I have stored")).click()
    await expect(page.get_by_text(copied)).to_have_count(0)  # never shown again
    return copied


async def test_clause_1_new_developer_signs_up_and_calls_the_sandbox(
    page: Page, browser: Browser, stack: Stack
) -> None:
    email = "noor@loonwijzer.example"
    await sign_up(page, email)
    console_context = await browser.new_context(base_url=stack.url)
    console = await console_context.new_page()
    await verify_and_sign_in(page, console, stack, email)
    await photograph(console, "console-mail")
    await console_context.close()
    await photograph(page, "portal-dashboard")
    await accept_terms(page)
    await page.get_by_role("link", name="Applications").click()
    await register_application(page)
    key = await subscribe_and_copy_key(page)
    app_id = page.url.rstrip("/").rsplit("/", 1)[1]
    sandbox_user = next(u for u in stack.demo.end_users if u["environment"] == "sandbox")
    token = await token_through_consent(
        page, stack, app_id, REDIRECT_URI, "company.info.read", str(sandbox_user["username"])
    )
    async with httpx.AsyncClient(base_url=stack.url) as client:
        answer = await client.get(
            "/api/companies",
            params={"pageSize": 3},
            headers={"X-Subscription-Key": key, "Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 200, answer.text
    # Only the consented customer's companies: the first (sandbox) customer the user sees.
    consented = sandbox_user["debtors"][0]  # type: ignore[index]
    assert {company["debtorId"] for company in answer.json()["data"]} == {consented}
