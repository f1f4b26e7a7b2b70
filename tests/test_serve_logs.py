"""`termgate serve` as an operator runs it, logging JSON: the start-up line with its secrets
masked, no deprecation warning, access lines with secrets masked, and a database that goes away
answered 503 and flushed at shutdown without a traceback."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from termgate.db.migrate import upgrade_async
from tests.conftest import POSTGRES_ADMIN, _postgres_reachable, _postgres_url, free_port
from tests.support.processes import gateway_env, spawn, stop, wait_until_answering

PASSWORD = "hunter2-database"
SECRET_KEY = "k3y-" + "z" * 40


@pytest.fixture
async def database() -> AsyncIterator[tuple[str, str]]:
    """A migrated PostgreSQL database of this test alone: its name and a URL with a password
    (trust authentication ignores it; the log must not show it)."""
    reason = await _postgres_reachable()
    if reason:
        pytest.skip(reason)
    name = f"termgate_logs_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = _postgres_url(name)
        await upgrade_async(url)
        with_password = make_url(url).set(password=PASSWORD)
        yield name, with_password.render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def refuse_connections(name: str) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
    finally:
        await admin.close()


def parsed(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


@pytest.mark.timeout(300)
async def test_serve_logs_json_masks_secrets_and_survives_a_database_outage(
    database: tuple[str, str],
) -> None:
    name, url = database
    port = free_port()
    env = gateway_env(
        url,
        port,
        f"http://127.0.0.1:{free_port()}",  # no upstream: the gateway answers 502
        log_level="info",
        log_format="json",
        access_log="true",
        secret_key=SECRET_KEY,
        snapshot_refresh_seconds="0.5",
        usage_flush_seconds="60",  # the gateway's event is still buffered at shutdown
    )
    process = spawn(["-W", "error::DeprecationWarning", "-m", "termgate.server"], env)
    base = f"http://127.0.0.1:{port}"
    try:
        await asyncio.to_thread(wait_until_answering, f"{base}/healthz", process, 120.0)
        async with httpx.AsyncClient(base_url=base) as client:
            portal = await client.get("/portal?code=SECRET-CODE&state=s")
            api = await client.get("/api/companies?access_token=SECRET-TOKEN")
            await refuse_connections(name)
            down = await client.get("/admin/api/developers", headers={"authorization": "Bearer x"})
            await client.get("/api/companies")
    finally:
        output = await asyncio.to_thread(stop, process, 60.0)
    assert "Traceback" not in output, output
    assert "DeprecationWarning" not in output, output
    assert PASSWORD not in output
    assert SECRET_KEY not in output
    assert "SECRET-CODE" not in output
    assert "SECRET-TOKEN" not in output
    lines = parsed(output)  # every line is JSON, granian's own included
    assert all({"timestamp", "level", "event"} <= line.keys() for line in lines)
    assert not [line for line in lines if "exception" in line], output

    start = next(line for line in lines if line["event"] == "termgate starting")
    assert start["database"] == url.replace(PASSWORD, "***")
    assert start["secret_key"] == "***"
    assert (start["limiter"], start["log_format"], start["access_log"]) == ("memory", "json", True)

    assert portal.status_code == 200
    access = [line for line in lines if line.get("logger") == "termgate.access"]
    (portal_line,) = [line for line in access if line["path"] == "/portal"]
    assert portal_line["query"] == "code=***&state=s"
    assert portal_line["request_id"] == portal.headers["x-request-id"]
    (api_line,) = [line for line in access if line.get("query") == "access_token=***"]
    assert (api_line["plane"], api_line["status"]) == ("gateway", api.status_code)

    assert down.status_code == 503, down.text
    assert down.json()["code"] == 50304
    failed = [line for line in lines if "serving control-plane requests failed" in line["event"]]
    assert len(failed) == 1, output
    assert failed[0]["request_id"] == down.headers["x-request-id"]
    assert any("writing usage events at shutdown failed" in line["event"] for line in lines)
