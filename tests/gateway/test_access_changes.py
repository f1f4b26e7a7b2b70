"""Clauses 1, 2 and 3.1 at a running gateway: a key revoked, or a developer, application,
subscription or key suspended, through each of the product's own paths (the registry function,
the admin API, the console, the command line) is refused within a second, and a reinstated
party is served again. Nothing here writes a status or a change-feed row itself."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from termgate.db.models import Status, SubscriptionKey
from termgate.notify.capture import start_capture
from termgate.registry.admins import create_administrator, issue_admin_token
from termgate.registry.keys import revoke_key
from termgate.registry.status import change_status
from termgate.settings import load_settings
from termgate.web.app import create_control_app
from tests.conftest import free_port
from tests.gateway.conftest import Gateway, gateway_process, wait_for_status
from tests.support.echo_upstream import EchoUpstream
from tests.support.factories import IssuedAccess, issue_test_access
from tests.support.timing import within

ADMIN_EMAIL = "ops@provider.example"
ADMIN_PASSWORD = "gateway access changes"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# The product's default snapshot interval; "within a second" is proven against it.
REFRESH = "0.5"


@dataclass
class Provider:
    """The provider's tools on the gateway's database: admin API and console (in process, as
    the control plane serves them) and the command line (a real process)."""

    client: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]
    database_url: str
    smtp_port: int
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def admin_api(self, path: str, reason: str) -> None:
        response = await self.client.post(
            f"/admin/api{path}", json={"reason": reason}, headers=self.auth
        )
        assert response.status_code == 200, response.text

    async def console(self, kind: str, party_id: str, action: str, reason: str) -> None:
        page = await self.client.get("/console/")
        match = CSRF.search(page.text)
        assert match, page.text
        response = await self.client.post(
            f"/console/status/{kind}/{party_id}",
            data={"action": action, "reason": reason, "csrf_token": match.group(1)},
        )
        assert response.status_code == 303, response.text

    async def command(self, *args: str) -> None:
        env = {
            **os.environ,
            "TERMGATE_DATABASE_URL": self.database_url,
            "TERMGATE_SMTP_PORT": str(self.smtp_port),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "termgate",
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        assert process.returncode == 0, output.decode()


@pytest.fixture
async def provider(
    database_url: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Provider]:
    smtp_port = free_port()
    settings = load_settings(
        secret_key="x" * 40, smtp_port=smtp_port, public_url="http://console.test"
    )
    async with sessions.begin() as session:
        admin = await create_administrator(
            session, email=ADMIN_EMAIL, name="Ops", password=ADMIN_PASSWORD
        )
        token = await issue_admin_token(session, admin, "tests")
    mail = await start_capture(sessions, settings.smtp_host, smtp_port)
    transport = httpx.ASGITransport(app=create_control_app(settings, engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as client:
        login = await client.get("/console/login")
        match = CSRF.search(login.text)
        assert match, login.text
        signed_in = await client.post(
            "/console/login",
            data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": match.group(1)},
        )
        assert signed_in.status_code == 303, signed_in.text
        yield Provider(client, sessions, database_url, smtp_port, token)
    mail.close()
    await mail.wait_closed()


async def served(client: httpx.AsyncClient, gateway: Gateway, access: IssuedAccess) -> float:
    url = f"{gateway.url}/api/echo"
    return await wait_for_status(client, url, access.key.key, 200, token=access.token.token)


async def answered_at_once(
    client: httpx.AsyncClient, gateway: Gateway, access: IssuedAccess
) -> None:
    response = await client.get(f"{gateway.url}/api/echo", headers=access.headers)
    assert response.status_code == 200, response.text


async def refused(
    client: httpx.AsyncClient, gateway: Gateway, access: IssuedAccess, status: int, code: int
) -> float:
    """Seconds until the gateway refuses `access` with exactly `code`."""
    url = f"{gateway.url}/api/echo"
    return await wait_for_status(
        client, url, access.key.key, status, token=access.token.token, code=code
    )


async def test_clause_2_key_revoked_through_each_path_is_refused_within_a_second(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    provider: Provider,
    client: httpx.AsyncClient,
) -> None:
    accesses = [await issue_test_access(sessions) for _ in range(4)]

    async def by_function(access: IssuedAccess) -> None:
        async with sessions.begin() as session:
            await revoke_key(session, access.key.key_id, "leaked", "tests")

    async def by_admin_api(access: IssuedAccess) -> None:
        await provider.admin_api(f"/keys/{access.key.key_id}/revoke", "leaked")

    async def by_console(access: IssuedAccess) -> None:
        await provider.console("key", access.key.key_id, "revoke", "leaked")

    async def by_command_line(access: IssuedAccess) -> None:
        await provider.command("key", "revoke", access.key.key_id, "--reason", "leaked")

    paths: list[Callable[[IssuedAccess], Awaitable[None]]] = [
        by_function,
        by_admin_api,
        by_console,
        by_command_line,
    ]
    async with gateway_process(
        database_url, echo_upstream[1], snapshot_refresh_seconds=REFRESH
    ) as gateway:
        for access in accesses:
            await served(client, gateway, access)
        for index, (access, revoke) in enumerate(zip(accesses, paths, strict=True)):
            await revoke(access)
            waited = await refused(client, gateway, access, 401, 40100)
            assert waited < within(1.0), (revoke.__name__, waited)
            for later in accesses[index + 1 :]:  # the other keys are untouched
                await answered_at_once(client, gateway, later)


async def test_clause_3_1_each_suspension_kind_is_refused_at_the_gateway_and_reinstated(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    provider: Provider,
    client: httpx.AsyncClient,
) -> None:
    access = await issue_test_access(sessions)
    bystander = await issue_test_access(sessions)
    key = access.key
    async with sessions() as session:
        subscription_id = (await session.get_one(SubscriptionKey, key.key_id)).subscription_id
    parties = {
        "developers": key.developer_id,
        "applications": key.application_id,
        "subscriptions": subscription_id,
        "keys": key.key_id,
    }
    async with gateway_process(
        database_url, echo_upstream[1], snapshot_refresh_seconds=REFRESH
    ) as gateway:
        await served(client, gateway, access)
        for plural, party_id in parties.items():
            await provider.admin_api(f"/{plural}/{party_id}/suspend", f"probe of {plural}")
            waited = await refused(client, gateway, access, 403, 40301)
            assert waited < within(1.0), (plural, waited)
            await answered_at_once(client, gateway, bystander)
            await provider.admin_api(f"/{plural}/{party_id}/reinstate", f"cured {plural}")
            assert await served(client, gateway, access) < within(1.0), plural


async def test_clause_3_1_developer_suspended_from_console_command_line_or_function_is_refused(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    provider: Provider,
    client: httpx.AsyncClient,
) -> None:
    access = await issue_test_access(sessions)
    developer_id = access.key.developer_id

    async def by_function(status: Status) -> None:
        async with sessions.begin() as session:
            await change_status(session, "developer", developer_id, status, "probe", "tests")

    async def by_console(status: Status) -> None:
        action = "suspend" if status is Status.SUSPENDED else "reinstate"
        await provider.console("developer", developer_id, action, "probe")

    async def by_command_line(status: Status) -> None:
        verb = "suspend" if status is Status.SUSPENDED else "reinstate"
        await provider.command(verb, "developer", developer_id, "--reason", "probe")

    async with gateway_process(
        database_url, echo_upstream[1], snapshot_refresh_seconds=REFRESH
    ) as gateway:
        await served(client, gateway, access)
        for change in (by_function, by_console, by_command_line):
            await change(Status.SUSPENDED)
            waited = await refused(client, gateway, access, 403, 40301)
            assert waited < within(1.0), (change.__name__, waited)
            await change(Status.ACTIVE)
            assert await served(client, gateway, access) < within(1.0), change.__name__
