"""A payroll user connects an application in a real browser (clause 3.3 a): the example client
sends them to sign in and consent, they choose what to share among customers named as the API
names them, the application reads only that, the way an SDK of the published contract would;
then they see it on their connected-apps page and revoke it."""

from __future__ import annotations

import re

from playwright.async_api import Locator, Page, expect

from termgate.cli.demo_seed import END_USER_PASSWORD
from termgate.reference_api import generate
from tests.browser.conftest import EMPLOYEES, Stack, photograph

SEED = 20260401  # the demo's (and the settings') seed


def reading(page: Page, path: str, status: int) -> Locator:
    """The example client's card of one call, found by its heading."""
    heading = page.get_by_role("heading", name=f"GET {path} → {status}", exact=True)
    return page.locator("section", has=heading)


async def connect_as(page: Page, username: str) -> None:
    await page.goto("/example-client")
    await page.get_by_role("button", name="Connect your payroll account").click()
    await expect(
        page.get_by_role("heading", name="Sign in to your payroll account")
    ).to_be_visible()
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(END_USER_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


def accountant_of(stack: Stack) -> dict[str, object]:
    return max(stack.demo.end_users, key=lambda user: len(user["debtors"]))  # type: ignore[arg-type]


async def test_clause_3_3_a_end_user_consents_and_the_application_reads_only_that(
    page: Page, stack: Stack
) -> None:
    accountant = accountant_of(stack)
    world = generate(SEED, EMPLOYEES)
    first, second = (world.debtor_by_id[d] for d in accountant["debtors"])  # type: ignore[attr-defined]
    await connect_as(page, str(accountant["username"]))
    consent = page.get_by_role("button", name="Allow")
    await expect(consent).to_be_visible()
    await expect(page.get_by_text("Payroll Insights").first).to_be_visible()
    await expect(page.get_by_text(re.compile("View company information"))).to_be_visible()
    # The customers as the payroll API names them, not as bare ids.
    await expect(page.get_by_label(f"{first.name} · {first.id}")).to_be_visible()
    await expect(page.get_by_label(f"{second.name} · {second.id}")).to_be_visible()
    await photograph(page, "consent")
    await page.get_by_label(f"{first.name} · {first.id}").check()  # one of the two customers
    await consent.click()

    await expect(page.get_by_role("heading", name="Token received")).to_be_visible()
    await photograph(page, "example-client")
    debtors = reading(page, "/api/debtors?pageSize=10", 200).locator("tbody tr")
    await expect(debtors).to_have_count(1)  # one consented customer of the two it can see
    await expect(debtors.first).to_contain_text(first.id)
    await expect(debtors.first).to_contain_text(first.name)
    companies = reading(page, "/api/companies?pageSize=5", 200).locator("tbody tr")
    await expect(companies.first).to_contain_text(first.id)
    company = world.companies_of(first)[0]
    for number in (1, 2):  # paged through, as the listing's pagination says
        path = f"/api/companies/{company.id}/employees?pageSize=5&pageNumber={number}"
        await expect(reading(page, path, 200).locator("tbody tr")).to_have_count(5)
    for kind in ("contracts", "salaries", "employments"):
        path = f"/api/companies/{company.id}/employees/{kind}?pageSize=5"
        await expect(reading(page, path, 200).locator("tbody tr").first).to_be_visible()

    await page.goto("/connect/apps")
    connected = page.get_by_role("heading", name="Payroll Insights")
    await expect(connected).to_be_visible()
    await expect(page.locator("section", has=connected)).to_contain_text(first.name)
    await photograph(page, "connected-apps")
    await page.locator("section", has=connected).get_by_role("button", name="Revoke").click()
    await expect(page.get_by_role("status")).to_contain_text("Payroll Insights")
    await expect(connected).to_have_count(0)


async def test_clause_3_3_a_a_token_for_two_customers_lists_companies_customer_by_customer(
    page: Page, stack: Stack
) -> None:
    accountant = accountant_of(stack)
    await connect_as(page, str(accountant["username"]))
    for box in await page.get_by_role("checkbox").all():
        await box.check()
    await page.get_by_role("button", name="Allow").click()

    await expect(page.get_by_role("heading", name="Token received")).to_be_visible()
    refused = reading(page, "/api/companies?pageSize=5", 403)
    await expect(refused).to_contain_text("40306")  # the contract's answer for several debtors
    for debtor in accountant["debtors"]:  # type: ignore[attr-defined]
        path = f"/api/debtors/{debtor}/companies?pageSize=5"
        rows = reading(page, path, 200).locator("tbody tr")
        await expect(rows.first).to_be_visible()
        for row in await rows.all():
            await expect(row).to_contain_text(str(debtor))
    await page.goto("/connect/apps")
    connected = page.get_by_role("heading", name="Payroll Insights")
    await page.locator("section", has=connected).get_by_role("button", name="Revoke").click()
    await expect(connected).to_have_count(0)


async def test_clause_3_3_a_deny_returns_access_denied(page: Page, stack: Stack) -> None:
    user = stack.demo.end_users[0]
    await connect_as(page, str(user["username"]))
    await page.get_by_role("button", name="Deny").click()
    await expect(page.get_by_role("alert")).to_contain_text("access_denied")
