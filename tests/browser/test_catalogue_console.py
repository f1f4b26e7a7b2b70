"""The provider creates a product and its first plan on the console's Products page in Chromium
(clause 4.4), and a refused form keeps its message beside the fields."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser.conftest import Stack, photograph
from tests.browser.steps import sign_in_to_console


async def test_clause_4_4_provider_creates_a_product_and_a_plan_in_the_console(
    page: Page, stack: Stack
) -> None:
    await sign_in_to_console(page, stack.demo.console_email, stack.demo.console_password)
    await page.get_by_role("link", name="Products", exact=True).click()
    create = page.locator("form[action='/console/products']")
    await create.get_by_label(re.compile("^Slug")).fill("gold")
    await create.get_by_label("Name", exact=True).fill("Gold")
    await create.get_by_label(re.compile("^Environment")).select_option("production")
    await create.get_by_role("button", name="Create the product").click()
    await expect(page.get_by_role("status")).to_contain_text("Product Gold (gold) is created")

    product = page.locator("#product-gold")
    await product.get_by_text("Add a plan to Gold").click()
    plan = product.locator("form[action='/console/products/gold/plans']")
    await plan.get_by_label(re.compile("^Slug")).fill("monthly")
    await plan.get_by_label("Name", exact=True).fill("Gold monthly")
    await plan.get_by_label("Price per month, in cents (0: free)").fill("ninety")
    await plan.get_by_role("button", name="Add the plan to Gold").click()
    refused = page.locator("form[action='/console/products/gold/plans']")
    await expect(refused.get_by_role("alert")).to_contain_text("a whole number")
    await expect(refused.get_by_label(re.compile("^Slug"))).to_have_value("monthly")

    await refused.get_by_label("Price per month, in cents (0: free)").fill("9900")
    await refused.get_by_role("button", name="Add the plan to Gold").click()
    await expect(page.get_by_role("status")).to_contain_text("Plan gold/monthly is added")
    await expect(page.locator("#product-gold")).to_contain_text("€ 99.00")
    await photograph(page, "console-products")
