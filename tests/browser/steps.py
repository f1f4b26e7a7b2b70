"""What people do in the browser tests, step by step, found by label and role as people find it."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect


async def sign_in_to_console(page: Page, email: str, password: str) -> None:
    await page.goto("/console/login")
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in to the console").click()
    await expect(page.get_by_role("link", name="Reviews")).to_be_visible()


async def sign_in_to_portal(page: Page, email: str, password: str) -> None:
    await page.goto("/portal/login")
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name=re.compile("^Welcome, "))).to_be_visible()


async def open_mail_link(console: Page, recipient: str, path: str) -> str:
    """The link to `path` in the newest captured mail to `recipient`, read in the console."""
    await console.goto("/console/mail")
    message = console.locator("article", has_text=recipient).first
    link = message.locator(f"a[href*='{path}']").first
    href = await link.get_attribute("href")
    assert href, f"no {path} link in the mail to {recipient}"
    return href
