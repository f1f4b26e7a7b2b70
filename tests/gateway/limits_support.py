"""Registry rows for the limits tests: one developer's applications on one plan with limits."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.models import Environment, new_id
from termgate.registry.applications import create_application
from termgate.registry.developers import create_developer
from termgate.registry.keys import issue_key, subscribe
from termgate.registry.products import PlanTemplate, create_plan, create_product
from termgate.registry.terms import accept_terms, publish_reference_terms
from termgate.settings import load_settings
from tests.conftest import free_port
from tests.support.contract_errors import CONTRACT_MEDIA_TYPE, assert_contract_problem
from tests.support.factories import IssuedToken, issue_test_token


@dataclass(frozen=True)
class LimitedApp:
    key: str
    application_id: str
    developer_id: str
    plan_id: str
    token: IssuedToken

    @property
    def headers(self) -> dict[str, str]:
        return self.token.headers(self.key)


async def limited_apps(
    sessions: async_sessionmaker[AsyncSession],
    count: int = 1,
    *,
    now: datetime | None = None,
    **limits: object,
) -> list[LimitedApp]:
    """`count` applications of one developer, each with a key on one plan with `limits`
    (PlanTemplate fields), and an end user's token (issued at `now`: a gateway's moved clock)."""
    suffix = new_id()[:8]
    apps: list[tuple[str, str, str, str]] = []
    async with sessions.begin() as session:
        developer = await create_developer(
            session, email=f"lim-{suffix}@example.nl", name=f"Developer {suffix}", actor="tests"
        )
        terms = await publish_reference_terms(session, load_settings())
        await accept_terms(session, developer, terms, "127.0.0.1", "tests")
        product = await create_product(
            session, slug=f"l-{suffix}", name="Limited", environment=Environment.SANDBOX
        )
        plan = await create_plan(
            session,
            product,
            PlanTemplate("limited", "Limited", **limits),  # type: ignore[arg-type]
        )
        for index in range(count):
            application = await create_application(
                session, developer, name=f"App {index}", actor="tests"
            )
            issued = await issue_key(
                session, await subscribe(session, application, plan, actor="tests"), actor="tests"
            )
            apps.append((issued.secret, application.id, developer.id, plan.id))
    result = []
    for key, application_id, developer_id, plan_id in apps:
        token = await issue_test_token(sessions, application_id, now=now)
        result.append(LimitedApp(key, application_id, developer_id, plan_id, token))
    return result


@dataclass(frozen=True)
class MovedClock:
    """A gateway clock (`clock_offset_seconds`) standing at noon on the 15th of next month in
    Amsterdam: days and months from any period edge however long the test takes."""

    offset: float

    @classmethod
    def mid_period(cls) -> MovedClock:
        local = datetime.now(ZoneInfo("Europe/Amsterdam"))
        year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
        noon = datetime(year, month, 15, 12, tzinfo=ZoneInfo("Europe/Amsterdam"))
        return cls((noon - datetime.now(UTC)).total_seconds())

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)


def problem_of(response: httpx.Response, status: int, code: int, clause: str) -> dict[str, object]:
    """The problem document, checked for its status, code and clause and against the contract's
    error schema."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == CONTRACT_MEDIA_TYPE
    body: dict[str, object] = response.json()
    assert_contract_problem(body, status, code, clause)
    return body


def rate_items(response: httpx.Response) -> dict[str, dict[str, int]]:
    """The `RateLimit` field's items: {"app": {"r": .., "t": ..}, ...}."""
    items: dict[str, dict[str, int]] = {}
    for item in response.headers["ratelimit"].split(","):
        name, *params = item.strip().split(";")
        items[name.strip('"')] = {k: int(v) for k, v in (p.split("=") for p in params)}
    return items


class PrivateRedis:
    """A redis-server of the test's own on a free port, which the test may stop and start
    (the machine's Redis is never touched)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed: the Redis limiter cannot be tested")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()
