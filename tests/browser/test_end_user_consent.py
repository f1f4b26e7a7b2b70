"""A payroll user connects an application in a real browser (clause 3.3 a): the example client
sends them to sign in and consent, they choose what to share, the application reads only that;
then they see it on their connected-apps page and revoke it."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from termgate.cli.demo_seed import END_USER_PASSWORD
from tests.browser.conftest import Stack, photograph


async def test_clause_3_3_a_end_user_consents_and_the_application_reads_only_that(
    page: Page, stack: Stack
) -> None:
    accountant = max(stack.demo.end_users, key=lambda user: len(user["debtors"]))  # type: ignore[arg-type]
    debtors = [int(debtor) for debtor in accountant["debtors"]]  # type: ignore[union-attr]
    await page.goto("/example-client")
    await page.get_by_role("button", name="Connect your payroll account").click()
    await expect(
        page.get_by_role("heading", name="Sign in to your payroll account")
    ).to_be_visible()
    await page.get_by_label("Username").fill(str(accountant["username"]))
    await page.get_by_label("Password").fill(END_USER_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    consent = page.get_by_role("button", name="Allow")
    await expect(consent).to_be_visible()
    await expect(page.get_by_text("Payroll Insights").first).to_be_visible()
    await expect(page.get_by_text(re.compile("Read companies' names"))).to_be_visible()
    await photograph(page, "consent")
    await page.get_by_role("checkbox").first.check()  # only the first of the two customers
    await consent.click()

    await expect(page.get_by_role("heading", name="Token received")).to_be_visible()
    await photograph(page, "example-client")
    listing = page.get_by_role("heading", name="GET /api/debtors?pageSize=10 → 200")
    await expect(listing).to_be_visible()
    table = page.locator("section", has=listing).locator("tbody tr")
    await expect(table).to_have_count(1)  # one consented customer of the two it can see
    await expect(table.first).to_contain_text(str(debtors[0]))

    await page.goto("/connect/apps")
    connected = page.get_by_role("heading", name="Payroll Insights")
    await expect(connected).to_be_visible()
    await photograph(page, "connected-apps")
    await page.locator("section", has=connected).get_by_role("button", name="Revoke").click()
    await expect(page.get_by_role("status")).to_contain_text("Payroll Insights")
    await expect(connected).to_have_count(0)


async def test_clause_3_3_a_deny_returns_access_denied(page: Page, stack: Stack) -> None:
    user = stack.demo.end_users[0]
    await page.goto("/example-client")
    await page.get_by_role("button", name="Connect your payroll account").click()
    await consent_as_end_user_denying(page, str(user["username"]))
    await expect(page.get_by_role("alert")).to_contain_text("access_denied")


async def consent_as_end_user_denying(page: Page, username: str) -> None:
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(END_USER_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("button", name="Deny").click()
