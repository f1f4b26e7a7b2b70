"""What people do in the browser tests, step by step, found by label and role as people find it."""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from playwright.async_api import Page, Route, expect

from termgate.cli.demo_seed import END_USER_PASSWORD
from tests.browser.conftest import Stack


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


async def consent_as_end_user(page: Page, username: str, password: str, debtors: int) -> None:
    """On the authorization server's pages: sign in, tick `debtors` accounts, press Allow."""
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name="Allow")).to_be_visible()
    accounts = page.get_by_role("checkbox")
    for index in range(debtors):
        await accounts.nth(index).check()
    await page.get_by_role("button", name="Allow").click()


async def token_through_consent(
    page: Page, stack: Stack, client_id: str, redirect_uri: str, scope: str, username: str
) -> str:
    """As a developer's public client would: a payroll user consents in the browser, the code
    arrives at the registered redirect URI, the app redeems it with its PKCE verifier."""
    verifier = secrets.token_urlsafe(48)
    arrived: list[str] = []

    async def at_redirect_uri(route: Route) -> None:
        arrived.append(route.request.url)
        await route.fulfill(body="Connected.", content_type="text/plain")

    await page.route(f"{redirect_uri}**", at_redirect_uri)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": "journey",
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    await page.goto(f"/connect/authorize?{query}")
    await consent_as_end_user(page, username, END_USER_PASSWORD, 1)
    await expect(page.get_by_text("Connected.")).to_be_visible()
    answer = parse_qs(urlsplit(arrived[0]).query)
    assert answer["state"] == ["journey"]
    async with httpx.AsyncClient(base_url=stack.url) as client:
        issued = await client.post(
            "/connect/token",
            data={
                "grant_type": "authorization_code",
                "code": answer["code"][0],
                "redirect_uri": redirect_uri,
                "client_id": client_id,
                "code_verifier": verifier,
            },
        )
    assert issued.status_code == 200, issued.text
    return str(issued.json()["access_token"])
