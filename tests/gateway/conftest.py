"""Gateway processes in front of a test upstream, on each database of the run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import free_port
from tests.gateway.published_world import PUBLISHED_EMPLOYEES, PUBLISHED_SEED
from tests.support.echo_upstream import EchoUpstream
from tests.support.factories import TEST_ISSUER, forget_foreign_signing_keys, seal_in_tests
from tests.support.processes import PUBLISHED_TENANCY, gateway_env, serving


@dataclass(frozen=True)
class Gateway:
    url: str
    database_url: str


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def wait_for_status(
    client: httpx.AsyncClient,
    url: str,
    key: str,
    status: int,
    limit: float = 5.0,
    *,
    token: str | None = None,
    code: int | None = None,
) -> float:
    """Seconds until a request with `key` (and `token`) answers `status`, and with a problem
    document of `code` when given (the snapshot has caught up: an earlier refusal of the same
    status, such as an unknown key's 40100, does not count)."""
    headers = {"X-Subscription-Key": key}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    loop = asyncio.get_running_loop()
    started = loop.time()
    while True:
        response = await client.get(url, headers=headers)
        waited = loop.time() - started
        if _answers(response, status, code) or waited > limit:
            assert _answers(response, status, code), response.text
            return waited
        await asyncio.sleep(0.05)


def _answers(response: httpx.Response, status: int, code: int | None) -> bool:
    if response.status_code != status:
        return False
    return code is None or response.json().get("code") == code


@pytest.fixture(scope="session")
async def echo_upstream() -> AsyncIterator[tuple[EchoUpstream, str]]:
    upstream = EchoUpstream()
    port = await upstream.start()
    yield upstream, f"http://127.0.0.1:{port}"
    await upstream.close()


@asynccontextmanager
async def gateway_process(
    database_url: str, upstream_url: str, **settings: str
) -> AsyncIterator[Gateway]:
    port = free_port()
    env = gateway_env(database_url, port, upstream_url, **{"public_url": TEST_ISSUER, **settings})
    url = f"http://127.0.0.1:{port}"
    await forget_foreign_signing_keys(database_url, seal_in_tests())  # the server's secret key
    async with serving(["-m", "termgate.server"], f"{url}/healthz", env):
        yield Gateway(url, database_url)


@pytest.fixture(scope="session")
async def published_upstream() -> AsyncIterator[str]:
    """The reference API of the published contract (GUID ids), as a real server process; its
    data is `termgate.reference_api.generate(PUBLISHED_SEED, PUBLISHED_EMPLOYEES)`."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ["-m", "termgate.reference_api", "--port", str(port)]
    args += ["--seed", str(PUBLISHED_SEED), "--employees", str(PUBLISHED_EMPLOYEES)]
    async with serving(args, f"{url}/openapi.json"):
        yield url


@pytest.fixture(scope="session")
async def published_gateway(database_url: str, published_upstream: str) -> AsyncIterator[Gateway]:
    """A gateway in front of the published contract's reference API, with its tenancy."""
    async with gateway_process(
        database_url, published_upstream, tenancy_path=PUBLISHED_TENANCY
    ) as gateway:
        yield gateway
