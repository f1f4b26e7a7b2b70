"""A whole termgate in real processes for browser tests, and Debian's Chromium driven by Playwright.

The stack: the SMTP capture server, the reference API of the published contract
(`termgate.reference_api`), and the termgate server (gateway and control plane) on a seeded SQLite
database, as `termgate demo` runs them. Browser tests skip, saying why, only where no
Chromium is installed (`apt-get install chromium`; `.ci/run` installs it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from termgate.cli.demo_seed import DemoCredentials, seed_demo
from termgate.db.engine import create_engine, session_factory
from termgate.db.migrate import upgrade_async
from termgate.notify.outbox import transaction
from termgate.settings import load_settings
from tests.conftest import free_port
from tests.support.processes import PUBLISHED_TENANCY, gateway_env, serving

CHROMIUM = os.environ.get("TERMGATE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-background-networking", "--disable-gpu"]
EMPLOYEES = 300
SCREENSHOTS = os.environ.get("TERMGATE_SCREENSHOTS")  # a folder: pages are photographed there


@dataclass(frozen=True)
class Stack:
    url: str
    database_url: str
    upstream_url: str
    env: dict[str, str]
    demo: DemoCredentials


@pytest.fixture(scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    folder = tmp_path_factory.mktemp("stack")
    database_url = f"sqlite+aiosqlite:///{folder / 'termgate.db'}"
    port, smtp_port, upstream_port = free_port(), free_port(), free_port()
    upstream_url = f"http://127.0.0.1:{upstream_port}"
    env = gateway_env(
        database_url,
        port,
        upstream_url,
        smtp_port=str(smtp_port),
        var_dir=str(folder),
        public_url=f"http://127.0.0.1:{port}",
        secret_key="browser-tests-" + "k" * 32,
        example_client="true",
        tenancy_path=PUBLISHED_TENANCY,  # the published contract's tenants (GUIDs)
    )
    await upgrade_async(database_url)
    async with AsyncExitStack() as processes:
        await processes.enter_async_context(
            serving(["-m", "termgate.notify.capture"], f"tcp://127.0.0.1:{smtp_port}", env)
        )
        upstream = ["-m", "termgate.reference_api", "--port", str(upstream_port)]
        upstream += ["--employees", str(EMPLOYEES)]
        await processes.enter_async_context(serving(upstream, f"{upstream_url}/openapi.json"))
        settings = load_settings(
            database_url=database_url,
            public_url=f"http://127.0.0.1:{port}",
            smtp_port=smtp_port,
            port=port,
            employees=EMPLOYEES,
            secret_key=env["TERMGATE_SECRET_KEY"],  # seals the signing key the server opens
        )
        engine = create_engine(database_url)
        async with transaction(session_factory(engine), settings) as session:
            demo = await seed_demo(session, settings, {}, maintenance_window=False)
        await engine.dispose()
        demo.write(folder / "demo-credentials.json")  # the example client reads it
        url = f"http://127.0.0.1:{port}"
        await processes.enter_async_context(
            serving(["-m", "termgate.server"], f"{url}/healthz", env)
        )
        yield Stack(url, database_url, upstream_url, env, demo)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def context(browser: Browser, stack: Stack) -> AsyncIterator[BrowserContext]:
    fresh = await browser.new_context(base_url=stack.url)
    await fresh.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.url)
    yield fresh
    await fresh.close()


@pytest.fixture
async def page(context: BrowserContext) -> AsyncIterator[Page]:
    """A tab whose pages may not break their Content-Security-Policy (clause 3.3 a): a blocked
    inline script or style would leave a button dead without failing any other assertion."""
    fresh = await context.new_page()
    blocked: list[str] = []
    fresh.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield fresh
    assert not blocked, blocked


async def photograph(page: Page, name: str) -> None:
    """Keeps a picture of the page for the documentation when TERMGATE_SCREENSHOTS is set."""
    if SCREENSHOTS:
        await page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)
