"""Clauses 4.1 and 3.3 e in Chromium: a developer sees the usage charts and the least-privilege
report of their own applications and nothing of another developer's; the provider sees
everyone's on the console, and filters it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from termgate.db.engine import create_engine, session_factory
from termgate.db.models import Application, Developer, UsageEvent
from termgate.gateway.observe import UsageRecorder
from termgate.registry.applications import create_application
from termgate.registry.developers import create_developer
from tests.browser.conftest import Stack, photograph
from tests.browser.steps import sign_in_to_console, sign_in_to_portal
from tests.support.usage_rows import writer_row


def events(developer: str, application: str, operation: str, count: int) -> list[UsageEvent]:
    at = datetime.now(UTC) - timedelta(hours=1)
    return [
        UsageEvent(
            at=at + timedelta(seconds=index),
            request_id=uuid.uuid4().hex,
            developer_id=developer,
            application_id=application,
            method="GET",
            operation=operation,
            status=403 if index == 0 else 200,
            code=40303 if index == 0 else None,
            bytes_in=0,
            bytes_out=1000,
            latency_ms=5.0 + index,
            end_user_id=f"eu-{index % 3}",
        )
        for index in range(count)
    ]


@pytest.fixture
async def two_developers_usage(stack: Stack) -> tuple[str, str, str]:
    """Usage of the demo developer's application and of another developer's; the operations
    are named uniquely so the page can be searched for them. Returns (mine, theirs, their app)."""
    tag = uuid.uuid4().hex[:8]
    mine, theirs = f"/api/mine-{tag}/{{companyId}}", f"/api/theirs-{tag}/{{debtorId}}"
    engine = create_engine(stack.database_url)
    try:
        async with session_factory(engine).begin() as session:
            ann = await session.scalar(
                select(Developer).where(Developer.email == stack.demo.developer_email)
            )
            application = await session.get(Application, stack.demo.application_id)
            assert ann is not None
            assert application is not None
            bob = await create_developer(
                session, email=f"bob-{tag}@example.org", name=f"Bob {tag}", actor="tests"
            )
            bobs = await create_application(
                session,
                bob,
                name=f"Harvester {tag}",
                use_case="Copies every employee of every customer into a database of its own.",
                use_case_category="accounting",
                requested_scopes="employee.employment.read",
                actor="tests",
            )
        # through the usage writer, with the summaries it keeps beside them (the console reads)
        usage = [*events(ann.id, application.id, mine, 6), *events(bob.id, bobs.id, theirs, 9)]
        writer = UsageRecorder(engine, flush_seconds=60, batch_size=100, buffer_limit=100)
        await writer._insert([writer_row(event) for event in usage])
        return mine, theirs, bobs.id
    finally:
        await engine.dispose()


async def test_clause_4_1_developer_sees_own_usage_charts_and_nothing_of_another(
    page: Page, stack: Stack, two_developers_usage: tuple[str, str, str]
) -> None:
    mine, theirs, their_app = two_developers_usage
    await sign_in_to_portal(page, stack.demo.developer_email, stack.demo.developer_password)
    await page.get_by_role("link", name="Usage", exact=True).click()
    await expect(page.get_by_role("heading", name="Your usage")).to_be_visible()
    traffic = page.get_by_role("img", name="Requests and refusals per day")
    await expect(traffic).to_be_visible()
    await expect(
        page.get_by_role("img", name="Latency per operation (p50 and p99)")
    ).to_be_visible()
    table = page.locator("#usage-operations-table")
    await expect(table.get_by_role("row", name=mine)).to_contain_text("6")
    await expect(page.locator("#usage-refusals-table")).to_contain_text("3.3 a")
    content = await page.content()
    assert theirs not in content
    assert "Harvester" not in content
    await photograph(page, "portal-usage")

    # Choosing an application of theirs by its id is a page that does not exist.
    response = await page.goto(f"/portal/usage?application={their_app}")
    assert response is not None
    assert response.status == 404
    await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert theirs not in await page.content()

    # The export is the same view as a file.
    await page.goto("/portal/usage")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Export CSV").click()
    download = await download_info.value
    exported = (await download.path()).read_text()
    assert mine in exported
    assert theirs not in exported

    # The least-privilege report (clause 3.3 e) covers the developer's own applications only.
    await page.get_by_role("link", name="Findings", exact=True).click()
    await expect(
        page.get_by_role("heading", name="Least privilege: scopes granted and used")
    ).to_be_visible()
    report = page.get_by_role("table", name="Least privilege: scopes granted and used")
    # The demo application holds its end users' consents: its row names what they granted.
    own = report.locator(f"a[href='/portal/apps/{stack.demo.application_id}']")
    await expect(own).to_be_visible()
    await expect(report.locator("tbody tr").first.locator("code").first).to_be_visible()
    assert "Harvester" not in await page.content()
    await photograph(page, "portal-least-privilege")


async def test_clause_4_1_provider_sees_every_developer_s_usage_and_filters_it(
    page: Page, stack: Stack, two_developers_usage: tuple[str, str, str]
) -> None:
    mine, theirs, their_app = two_developers_usage
    await sign_in_to_console(page, stack.demo.console_email, stack.demo.console_password)
    await page.get_by_role("link", name="Usage", exact=True).click()
    await expect(page.get_by_role("heading", name="Usage", exact=True)).to_be_visible()
    table = page.locator("#usage-operations-table")
    await expect(table.get_by_role("row", name=mine)).to_be_visible()
    await expect(table.get_by_role("row", name=theirs)).to_contain_text("9")
    await expect(page.get_by_role("img", name="Requests and refusals per day")).to_be_visible()

    await page.get_by_label("Application", exact=True).select_option(their_app)
    await page.get_by_label("Count per", exact=True).select_option("hour")
    await page.get_by_role("button", name="Show usage").click()
    await expect(page.get_by_role("img", name="Requests and refusals per hour")).to_be_visible()
    await expect(table.get_by_role("row", name=theirs)).to_be_visible()
    await expect(table.get_by_role("row", name=mine)).to_have_count(0)
    export = page.get_by_role("link", name="Export CSV")
    href = await export.get_attribute("href")
    assert href is not None
    assert href.startswith("/console/usage.csv?")
    assert f"application={their_app}" in href
    await photograph(page, "console-usage")
