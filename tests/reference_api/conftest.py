"""One published-contract API per test module, on a free loopback port, and what reads it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from termgate.reference_api import LoopbackServer, create_app

SEED = 20260401
EMPLOYEES = 2000


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(create_app(SEED, EMPLOYEES)) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: LoopbackServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client
