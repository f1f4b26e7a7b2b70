"""Clause 4.1 in the browser: the provider opens a finding from the console's list, sees the
chart of the party's traffic, the evidence and sample request ids, and dismisses it as a false
positive with a reason (a dismissal without one is refused and changes nothing)."""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import Page, expect

from termgate.db.engine import create_engine, session_factory
from termgate.db.models import UsageEvent
from termgate.monitoring.findings import FindingDraft, get_finding, record_finding
from termgate.monitoring.window import Window
from termgate.settings import load_settings
from tests.browser.conftest import Stack, photograph
from tests.browser.steps import sign_in_to_console

SUMMARY = "55 of 90 requests named tenants outside the consent"


async def seed_finding(stack: Stack) -> str:
    engine = create_engine(stack.database_url)
    try:
        now = load_settings().now()
        window = Window(now - timedelta(hours=1), now)
        async with session_factory(engine).begin() as session:
            session.add_all(
                UsageEvent(
                    at=now - timedelta(minutes=55 - i // 2),
                    request_id=f"browser-probe-{i}",
                    application_id=stack.demo.application_id,
                    method="GET",
                    status=403 if i % 3 else 200,
                    code=40303 if i % 3 else None,
                    latency_ms=4.0,
                )
                for i in range(90)
            )
            finding = await record_finding(
                session,
                FindingDraft(
                    "probing",
                    "3.3 c",
                    "major",
                    None,
                    stack.demo.application_id,
                    None,
                    "probing:browser",
                    SUMMARY,
                    window.evidence(
                        requests=90,
                        foreign_tenant=55,
                        sample_request_ids=["browser-probe-89", "browser-probe-88"],
                    ),
                ),
                now=now,
                simulated=False,
            )
            return finding.id
    finally:
        await engine.dispose()


async def state_of(stack: Stack, finding_id: str) -> str:
    engine = create_engine(stack.database_url)
    try:
        async with session_factory(engine)() as session:
            return (await get_finding(session, finding_id)).state
    finally:
        await engine.dispose()


async def test_clause_4_1_provider_opens_a_finding_with_chart_and_dismisses_it(
    page: Page, stack: Stack
) -> None:
    finding_id = await seed_finding(stack)
    await sign_in_to_console(page, stack.demo.console_email, stack.demo.console_password)
    await page.get_by_role("link", name="Findings", exact=True).click()
    await page.get_by_label("Detector").select_option("probing")
    await page.get_by_role("button", name="Filter").click()
    await page.get_by_role("link", name=SUMMARY).click()
    await expect(page.get_by_role("heading", name="probing finding, clause 3.3 c")).to_be_visible()
    chart = page.get_by_role("img", name="probing finding")
    await expect(chart).to_be_visible()
    await expect(chart.locator("rect.requests").first).to_be_attached()
    await expect(page.get_by_role("row", name="foreign tenant 55")).to_be_visible()
    await expect(page.get_by_text("browser-probe-89")).to_be_visible()
    await photograph(page, "console-finding")

    await page.get_by_label("Reason").fill("   ")
    await page.get_by_label("Reason").evaluate("field => field.removeAttribute('required')")
    await page.get_by_role("button", name="Dismiss").click()
    await expect(page.get_by_role("alert")).to_contain_text("give a reason")
    assert await state_of(stack, finding_id) == "open"

    await page.get_by_label("Reason").fill("Our own penetration test, agreed with the developer")
    await page.get_by_role("button", name="Dismiss").click()
    await expect(page.get_by_role("status")).to_contain_text("dismissed as a false positive")
    await expect(page.locator("#finding-state")).to_have_text(
        "dismissed: Our own penetration test, agreed with the developer"
    )
    assert await state_of(stack, finding_id) == "dismissed"
