"""The control plane behind a reverse proxy (`TERMGATE_TRUSTED_PROXIES`): the ledgers and the
sign-in throttle record the client a trusted proxy names, never one a client names itself;
redirects and the session cookie follow the scheme the proxy says the browser used."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from termgate.db.programme import TermsAcceptance
from termgate.notify.capture import start_capture
from termgate.registry.products import ensure_default_products
from termgate.registry.terms import publish_reference_terms
from termgate.settings import load_settings
from termgate.web.app import create_control_app
from tests.conftest import free_port
from tests.web.conftest import Site
from tests.web.test_portal import accept_current_terms, sign_in, sign_up_and_verify

SPOOFED = "192.0.2.66"  # what a client writes into X-Forwarded-For about itself
CLIENT = "198.51.100.7"  # what the edge proxy appends: the address it received the request from


@asynccontextmanager
async def behind(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    peer: str,
    headers: dict[str, str],
    **settings: object,
) -> AsyncIterator[Site]:
    """The control plane whose TCP peer is `peer`, every request carrying `headers`."""
    configured = load_settings(
        secret_key="x" * 40,
        smtp_port=free_port(),
        public_url="http://portal.test",
        upstream_url=f"http://127.0.0.1:{free_port()}",
        **settings,
    )
    async with sessions.begin() as session:
        await ensure_default_products(session)
        await publish_reference_terms(session, configured)
    mail_server = await start_capture(sessions, configured.smtp_host, configured.smtp_port)
    transport = httpx.ASGITransport(app=create_control_app(configured, engine), client=(peer, 5123))
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://portal.test", headers=headers
        ) as client:
            yield Site(client, sessions, configured)
    finally:
        mail_server.close()
        await mail_server.wait_closed()


async def ledger_address(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    peer: str,
    headers: dict[str, str],
    **settings: object,
) -> str:
    """The address the terms-acceptance ledger records for a developer signing up and
    accepting the terms through that control plane."""
    async with behind(engine, sessions, peer, headers, **settings) as site:
        await sign_up_and_verify(site)
        await sign_in(site)
        await accept_current_terms(site)
    async with sessions() as session:
        acceptance = await session.scalar(select(TermsAcceptance))
    assert acceptance is not None
    return acceptance.ip


FORWARDED = {"X-Forwarded-For": f"{SPOOFED}, {CLIENT}"}


async def test_clause_1_acceptance_ledger_ignores_forwarded_for_when_no_proxy_is_trusted(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    assert await ledger_address(engine, sessions, "127.0.0.1", FORWARDED) == "127.0.0.1"


async def test_clause_1_acceptance_ledger_ignores_forwarded_for_from_an_untrusted_peer(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    address = await ledger_address(
        engine, sessions, "203.0.113.9", FORWARDED, trusted_proxies="127.0.0.1, 10.0.0.0/8"
    )
    assert address == "203.0.113.9"


async def test_clause_1_acceptance_ledger_records_the_client_a_trusted_proxy_names(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    address = await ledger_address(
        engine, sessions, "127.0.0.1", FORWARDED, trusted_proxies="127.0.0.1"
    )
    assert address == CLIENT  # the right-most untrusted address, not the client's own claim


async def _wrong_sign_in(site: Site, forwarded_for: str) -> int:
    token = await site.csrf("/portal/login")
    response = await site.client.post(
        "/portal/login",
        data={"email": "guess@example.nl", "password": "wrong", "csrf_token": token},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code


async def test_clause_3_3_c_a_new_forwarded_for_per_guess_does_not_escape_the_throttle(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The per-address sign-in throttle counts the TCP peer when it is not a trusted proxy,
    whatever address each attempt claims; behind a trusted proxy it counts each real client."""
    limits = {"signin_address_failures": 3, "signin_account_failures": 1000}
    async with behind(engine, sessions, "203.0.113.9", {}, **limits) as site:
        statuses = [await _wrong_sign_in(site, f"192.0.2.{n}") for n in range(4)]
    assert statuses == [400, 400, 400, 429]
    async with behind(
        engine, sessions, "10.0.0.1", {}, trusted_proxies="10.0.0.0/8", **limits
    ) as site:
        statuses = [await _wrong_sign_in(site, f"198.51.100.{n}") for n in range(4)]
        assert statuses == [400, 400, 400, 400]  # four clients, one failure each
        statuses = [await _wrong_sign_in(site, "198.51.100.50") for _ in range(4)]
        assert statuses == [400, 400, 400, 429]


async def test_redirects_and_the_session_cookie_follow_the_proxys_scheme_and_host(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "console.example.com"}
    async with behind(engine, sessions, "127.0.0.1", headers, trusted_proxies="127.0.0.1") as site:
        moved = await site.client.get("/console")
        assert moved.status_code in (307, 308)
        assert moved.headers["location"] == "https://console.example.com/console/"
        page = await site.client.get("/portal/login")
        assert "secure" in page.headers["set-cookie"].lower()
    async with behind(
        engine, sessions, "203.0.113.9", headers, trusted_proxies="127.0.0.1"
    ) as site:
        moved = await site.client.get("/console")
        assert moved.headers["location"] == "http://portal.test/console/"
        page = await site.client.get("/portal/login")
        assert "secure" not in page.headers["set-cookie"].lower()
