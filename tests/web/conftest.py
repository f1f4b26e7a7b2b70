"""The control plane in-process (httpx over ASGI) on each database, with a real SMTP capture."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from termgate.db.models import Plan, Product
from termgate.db.programme import CapturedMail
from termgate.notify.capture import captured, start_capture
from termgate.registry.admins import create_administrator, issue_admin_token
from termgate.registry.applications import create_application
from termgate.registry.developers import create_developer
from termgate.registry.keys import issue_key, subscribe
from termgate.registry.products import ensure_default_products
from termgate.registry.reviews import request_production
from termgate.registry.scopes import api_scopes
from termgate.registry.terms import accept_terms, current_terms, publish_reference_terms
from termgate.settings import Settings, load_settings
from termgate.web.app import create_control_app
from tests.conftest import free_port
from tests.support.contract import published_document

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
        # Nothing listens there: a test never reaches an API it did not start (a demo's, say).
        upstream_url=f"http://127.0.0.1:{free_port()}",
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
    app.state.web.scopes = api_scopes(published_document())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
        yield Site(client, sessions, settings)
    mail_server.close()
    await mail_server.wait_closed()


ADMIN_EMAIL = "pat@provider.example"
ADMIN_ACTOR = f"token:tests ({ADMIN_EMAIL})"  # what the audit trail names for the admin API
ADMIN_PASSWORD = "provider console 2026"


@dataclass(frozen=True)
class Programme:
    """An administrator with a token, and a developer with an application waiting for review."""

    token: str
    developer_id: str
    developer_email: str
    application_id: str
    subscription_id: str
    key_id: str
    key_prefix: str
    review_id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def seed_programme(site: Site, email: str = "ann@example.nl") -> Programme:
    async with site.sessions.begin() as session:
        admin = await create_administrator(
            session, email=ADMIN_EMAIL, name="Pat Provider", password=ADMIN_PASSWORD
        )
        token = await issue_admin_token(session, admin, "tests")
        developer = await create_developer(session, email=email, name="Ann Jansen", actor="tests")
        terms = await current_terms(session)
        assert terms is not None
        await accept_terms(session, developer, terms, "127.0.0.1", "tests")
        application = await create_application(
            session,
            developer,
            name="Salary sync",
            use_case="Monthly salary journal entries for the customer's own books.",
            use_case_category="accounting",
            requested_scopes="employee.employment.read",
            actor="tests",
        )
        plan = await session.scalar(
            select(Plan).join(Product).where(Product.slug == "sandbox").limit(1)
        )
        assert plan is not None
        subscription = await subscribe(session, application, plan, actor="tests")
        key = await issue_key(session, subscription, actor="tests")
        review = await request_production(
            session, application, "Launching in March", developer.email
        )
    return Programme(
        token,
        developer.id,
        developer.email,
        application.id,
        subscription.id,
        key.row.id,
        key.row.prefix,
        review.id,
    )
