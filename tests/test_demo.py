"""`termgate demo`: one command serves the reference API behind the gateway with a working key."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import httpx

from tests.conftest import free_port
from tests.support.processes import serving

# The demo seeds the Wednesday-evening window of clause 8; a run then would meet 503s.
NO_WINDOW = ["--no-maintenance"]


def printed_line_with(process: subprocess.Popen[bytes], text: str) -> bool:
    """Reads the demo's output until a line contains `text` (False if the output ends first)."""
    assert process.stdout is not None
    return any(text in line.decode() for line in iter(process.stdout.readline, b""))


async def test_clause_2_demo_serves_companies_with_its_key_and_refuses_without(
    tmp_path: Path,
) -> None:
    port, upstream_port = free_port(), free_port()
    env = {
        "TERMGATE_VAR_DIR": str(tmp_path),
        "TERMGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
        "TERMGATE_PORT": str(port),
        "TERMGATE_UPSTREAM_PORT": str(upstream_port),
        "TERMGATE_SMTP_PORT": str(free_port()),
        "TERMGATE_EMPLOYEES": "200",
        "COLUMNS": "200",
    }
    base = f"http://127.0.0.1:{port}"
    async with (
        serving(["-m", "termgate", "demo", *NO_WINDOW], f"{base}/healthz", env) as process,
        httpx.AsyncClient(base_url=base, timeout=10) as client,
    ):
        credentials = json.loads((tmp_path / "demo-credentials.json").read_text())
        key, token = credentials["subscription_key"], credentials["access_token"]
        assert credentials["gateway_url"] == base
        # Debtor ids are strings (clause 3.3 a): the reference API's numbers as "1001".
        logins = credentials["end_users"]
        assert logins[0]["debtors"] == ["1001"]
        assert all(isinstance(debtor, str) for login in logins for debtor in login["debtors"])

        page = await client.get(
            "/api/companies",
            params={"pageSize": 5},
            headers={"X-Subscription-Key": key, "Authorization": f"Bearer {token}"},
        )
        assert page.status_code == 200, page.text
        companies = page.json()["data"]
        assert companies
        assert {company["debtorId"] for company in companies} == {1001}  # the consented one

        refused = await client.get("/api/companies")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/json"  # as the contract's errors
        assert refused.json()["clause"] == "2"
        assert refused.json()["code"] == 40100
        curl = (
            f"curl -s -H 'X-Subscription-Key: {key}' -H 'Authorization: Bearer {token}' "
            f"'{base}/api/companies?pageSize=5'"
        )
        assert await asyncio.to_thread(printed_line_with, process, curl)
