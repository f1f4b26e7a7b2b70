"""Clients of the payroll API over ASGI: a shared one for reads, a fresh one for writes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from termgate.reference_api import UpstreamApp, create_app

SEED = 20260401


@pytest.fixture(scope="session")
def app() -> UpstreamApp:
    return create_app(SEED, 2000)


@pytest.fixture(scope="session")
async def client(app: UpstreamApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://payroll.test"
    ) as client:
        yield client


@pytest.fixture
async def fresh_client() -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app of its own, for tests that change data."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(create_app(SEED, 2000)), base_url="http://payroll.test"
    ) as client:
        yield client
