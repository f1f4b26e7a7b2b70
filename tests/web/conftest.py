"""The control plane in-process (httpx over ASGI) on each database, with a real SMTP capture."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from termgate.db.programme import CapturedMail
from termgate.notify.capture import captured, start_capture
from termgate.registry.products import ensure_default_products
from termgate.registry.scopes import api_scopes
from termgate.registry.terms import publish_reference_terms
from termgate.settings import Settings, load_settings
from termgate.upstream import build_openapi
from termgate.web.app import create_control_app
from tests.conftest import free_port

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Site:
    """A browser-like client of the control plane, and what it needs to read mail."""

    client: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings

    async def csrf(self, path: str) -> str:
        page = await self.client.get(path)
        match = CSRF.search(page.text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    async def post_form(
        self, path: str, data: dict[str, str], form_page: str | None = None
    ) -> httpx.Response:
        token = await self.csrf(form_page or path)
        return await self.client.post(path, data={**data, "csrf_token": token})

    async def mail_to(self, address: str) -> list[CapturedMail]:
        async with self.sessions() as session:
            return await captured(session, address)


@pytest.fixture
async def settings(tmp_path: Path) -> Settings:
    return load_settings(
        secret_key="x" * 40,
        smtp_port=free_port(),
        public_url="http://portal.test",
    )


@pytest.fixture
async def site(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> AsyncIterator[Site]:
    async with sessions.begin() as session:
        await ensure_default_products(session)
        await publish_reference_terms(session, settings)
    mail_server = await start_capture(sessions, settings.smtp_host, settings.smtp_port)
    app = create_control_app(settings, engine)
    app.state.web.scopes = api_scopes(build_openapi())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
        yield Site(client, sessions, settings)
    mail_server.close()
    await mail_server.wait_closed()
