"""The published contract end to end: ONE reference API process of the published document and
ONE gateway process in front of it (`TERMGATE_UPSTREAM_URL`; the gateway reads the upstream's
`/openapi.json`), shared by every test of this directory.

The gateway runs on one SQLite database of its own: these tests prove what the gateway makes of
the contract (operations, scopes, tenants), which does not depend on the database; the gateway's
behaviour on PostgreSQL is proven by tests/gateway, which run on both.

The upstream's customers (debtors) are shared out so that no test's writes reach another's data:
the walk of every GET and the client flows read the first two customers, the tenant property
gives consents over the first four, and schemathesis, which writes, is given the last one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.engine import create_engine, session_factory
from termgate.db.migrate import upgrade
from termgate.reference_api.contract import document
from tests.conftest import free_port
from tests.contract.customers import Customers, read_customers
from tests.gateway.conftest import Gateway, gateway_process, wait_for_status
from tests.support.factories import IssuedKey, issue_test_key, issue_test_token
from tests.support.processes import PUBLISHED_TENANCY, serving

SEED = 20260401
EMPLOYEES = 600  # five customers, twelve companies, the largest with 140 employees (two pages)


@cache
def full_scope() -> str:
    """Every scope the document names: its `Bearer` scheme's and each operation's."""
    found: set[str] = set()
    for scheme in document()["components"]["securitySchemes"].values():
        for flow in scheme.get("flows", {}).values():
            found.update(flow.get("scopes", {}))
    for item in document()["paths"].values():
        for operation in item.values():
            for requirement in operation.get("security", []) if isinstance(operation, dict) else []:
                for scopes in requirement.values():
                    found.update(scopes)
    return " ".join(sorted(found))


@dataclass(frozen=True)
class Contract:
    """The gateway, its upstream, the upstream's customers and a live key of one application."""

    gateway: str
    upstream: str
    customers: Customers
    key: IssuedKey
    sessions: async_sessionmaker[AsyncSession]

    async def headers(
        self, *debtors: str, scope: str | None = None, wait: bool = True
    ) -> dict[str, str]:
        """The credentials of an end user who consented over `debtors` (every scope of the
        document unless `scope` says otherwise), once the gateway has taken the token in (or at
        once: `admitted` waits for the last of several)."""
        token = await issue_test_token(
            self.sessions, self.key.application_id, debtors=debtors, scope=scope or full_scope()
        )
        headers = token.headers(self.key.key)
        if wait:
            await self.admitted(headers)
        return headers

    async def admitted(self, headers: dict[str, str]) -> None:
        """Waits until the gateway's snapshot holds the token of `headers` (and any before it)."""
        async with httpx.AsyncClient(timeout=10) as client:
            debtors_url = f"{self.gateway}/api/debtors"
            token = headers["Authorization"].removeprefix("Bearer ")
            await wait_for_status(client, debtors_url, self.key.key, 200, token=token)


@pytest.fixture(scope="session")
async def contract_upstream() -> AsyncIterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ["-m", "termgate.reference_api", "--port", str(port),
            "--employees", str(EMPLOYEES), "--seed", str(SEED)]  # fmt: skip
    async with serving(args, f"{url}/openapi.json"):
        yield url


@pytest.fixture(scope="session")
def contract_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("contract") / "termgate.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
async def contract_gateway(
    contract_database: str, contract_upstream: str
) -> AsyncIterator[Gateway]:
    # The tests probe other customers' ids on purpose: no detection pass may suspend their
    # application for it (clause 3.3 c) while they run.
    async with gateway_process(
        contract_database,
        contract_upstream,
        tenancy_path=PUBLISHED_TENANCY,
        detect_interval_seconds="0",
    ) as gateway:
        yield gateway


@pytest.fixture(scope="session")
async def contract(
    contract_database: str, contract_upstream: str, contract_gateway: Gateway
) -> AsyncIterator[Contract]:
    engine = create_engine(contract_database)
    sessions = session_factory(engine)
    key = await issue_test_key(sessions)
    customers = read_customers(contract_upstream)
    assert len(customers.debtors) == 5, customers.debtors
    yield Contract(contract_gateway.url, contract_upstream, customers, key, sessions)
    await engine.dispose()
